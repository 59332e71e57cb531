"""Fixtures for the client tests: a tiny threaded loopback server that sees disconnects, and helpers."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest


class SlowServer:
    """``POST /run/test/slow`` holds the request ``seconds`` (body) while watching its socket; with
    ``together: n`` it first waits (up to 20 s) until ``n`` requests are in flight at once.

    Records ``(event, request number, peer port)`` with ``event`` in START / DONE / DISCONNECTED, so tests
    can observe that an interrupted client really closed its connection. Other paths answer 404.
    """

    def __init__(self) -> None:
        self.events: list[tuple[str, int, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._count = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/run/test/slow":
                    self._reply(404, {"detail": f"no route {self.path}"})
                    return
                number, port = server._start(self.client_address[1])
                together = server._gather(int(body.get("together", 0)))
                finished = server._hold(self.connection, float(body.get("seconds", 0)))
                server._end("DONE" if finished else "DISCONNECTED", number, port)
                if finished:
                    self._reply(
                        200,
                        {"images": [], "peer_port": port, "number": number, "together": together},
                        {"x-fal-request-id": f"slow-{number}"},
                    )
                else:
                    self.close_connection = True

            def _reply(self, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="slow-server", daemon=True)

    def _start(self, port: int) -> tuple[int, int]:
        with self._changed:
            self._count += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.events.append(("START", self._count, port))
            self._changed.notify_all()
            return self._count, port

    def _gather(self, count: int) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.max_in_flight >= count, timeout=20)

    def _end(self, event: str, number: int, port: int) -> None:
        with self._changed:
            self.in_flight -= 1
            self.events.append((event, number, port))
            self._changed.notify_all()

    @staticmethod
    def _hold(conn: socket.socket, seconds: float) -> bool:
        """Sleep ``seconds``; False as soon as the peer closes the connection."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([conn], [], [], min(left, 0.05))
            if readable and conn.recv(1, socket.MSG_PEEK) == b"":
                return False
        return True

    def wait_for(self, event: str, timeout: float = 10.0) -> tuple[str, int, int]:
        with self._changed:
            ok = self._changed.wait_for(lambda: any(e[0] == event for e in self.events), timeout)
            assert ok, f"server never saw {event}; events: {self.events}"
            return next(e for e in self.events if e[0] == event)

    def __enter__(self) -> SlowServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    with SlowServer() as server:
        yield server


class FakeFal:
    """An in-memory fal (for ``httpx.MockTransport``) whose every reply a test can shape.

    One request ``r1``: ``statuses`` is the sequence the status stream sends (and polling walks through);
    ``stream`` is "ok", "missing" (404) or "drop" (ends after the first event); ``fail`` maps a path
    suffix to a list of replies served before the normal one (e.g. 429s to exercise retries).
    """

    base = "http://fake.test"

    def __init__(self) -> None:
        from PIL import Image as PILImage

        from falstudio._internal import images as _images

        self.png = _images.image_bytes(PILImage.new("RGB", (8, 8), "red"))
        self.calls: list[httpx.Request] = []
        self.statuses: list[dict[str, Any]] = [
            {"status": "IN_QUEUE", "queue_position": 1},
            {"status": "IN_QUEUE", "queue_position": 0},
            {"status": "IN_PROGRESS", "logs": [{"message": "working", "timestamp": "2026-01-01T00:00:00Z"}]},
            {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 0.25}},
        ]
        self.stream = "ok"
        self.cumulative_logs = True  # polling repeats every earlier line, like fal's status endpoint
        self.output: dict[str, Any] = {
            "images": [{"url": f"{self.base}/files/out.png", "content_type": "image/png", "width": 8, "height": 8}]
        }
        self.result_reply: tuple[int, Any] | None = None
        self.fail: dict[str, list[Any]] = {}
        self.uploads: list[httpx.Request] = []
        self.token_route = True
        self._polls = 0

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.calls]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path
        for suffix, replies in self.fail.items():
            if path.endswith(suffix) and replies:
                reply = replies.pop(0)
                if isinstance(reply, Exception):
                    raise reply
                return reply
        if request.method == "POST" and path == "/storage/auth/token":
            if not self.token_route:
                return httpx.Response(404, json={"detail": "Not Found"})
            return httpx.Response(
                200,
                json={
                    "token": "cdn-token",
                    "token_type": "Bearer",
                    "base_url": self.base,
                    "expires_at": "2999-01-01T00:00:00Z",
                },
            )
        if request.method == "POST" and path == "/files/upload":
            self.uploads.append(request)
            return httpx.Response(200, json={"access_url": f"{self.base}/files/uploaded-{len(self.uploads)}"})
        if request.method == "POST" and path == "/storage/upload/initiate":
            return httpx.Response(
                200, json={"upload_url": "http://upload.test/put/1", "file_url": f"{self.base}/files/initiated"}
            )
        if request.method == "PUT" and request.url.host == "upload.test":
            self.uploads.append(request)
            return httpx.Response(200)
        if path == "/files/out.png":
            return httpx.Response(200, content=self.png, headers={"content-type": "image/png"})
        if path.startswith("/run/"):
            return httpx.Response(200, json=self.output, headers={"x-fal-request-id": "run-1"})
        if request.method == "POST" and "/requests/" not in path:
            app = "/".join(path.strip("/").split("/")[:2])
            urls = {
                k: f"{self.base}/{app}/requests/r1{s}"
                for k, s in (("status_url", "/status"), ("response_url", ""), ("cancel_url", "/cancel"))
            }
            return httpx.Response(200, json={"request_id": "r1", "queue_position": 1, **urls})
        if path.endswith("/status/stream"):
            return self._stream()
        if path.endswith("/status"):
            return self._poll(request)
        if path.endswith("/cancel"):
            return httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
        if path.endswith("/requests/r1"):
            code, body = self.result_reply or (200, self.output)
            return httpx.Response(code, json=body, headers={"x-fal-request-id": "r1"})
        return httpx.Response(404, json={"detail": f"no route {path}"})

    def _stream(self) -> httpx.Response:
        if self.stream == "missing":
            return httpx.Response(404, json={"detail": "Not Found"})
        events = self.statuses[:1] if self.stream == "drop" else self.statuses
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
        return httpx.Response(
            200, content=(": ping\n\n" + body).encode(), headers={"content-type": "text/event-stream"}
        )

    def _poll(self, request: httpx.Request) -> httpx.Response:
        index = min(self._polls, len(self.statuses) - 1)
        self._polls += 1
        status = dict(self.statuses[index])
        if request.url.params.get("logs") in ("1", "true") and self.cumulative_logs:
            status["logs"] = [line for s in self.statuses[: index + 1] for line in s.get("logs") or []]
        elif request.url.params.get("logs") not in ("1", "true"):
            status["logs"] = None
        return httpx.Response(202 if status["status"] != "COMPLETED" else 200, json=status)


class ListRecorder:
    """A Recorder that keeps what it is told."""

    def __init__(self) -> None:
        self.submitted_events: list[Any] = []
        self.finished_events: list[Any] = []

    def submitted(self, event: Any) -> None:
        self.submitted_events.append(event)

    def finished(self, event: Any) -> None:
        self.finished_events.append(event)


@pytest.fixture
def recorder() -> ListRecorder:
    return ListRecorder()


@pytest.fixture
def fake() -> FakeFal:
    return FakeFal()


@pytest.fixture
def fast_retry():
    from falstudio.client import RetryPolicy

    return RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_elapsed=5)
