"""Test doubles for code that uses falstudio: fal-shaped servers on loopback, a polling wait, a clock that never sleeps.

For the full fal protocol run the real offline server (``falstudio.local.LocalServer(port=0, latency=0)``); these
are for what it does not serve: a reply you shape yourself (``LoopbackServer`` with a ``QuietHandler``; in memory,
``FakeFal``), fal's OpenAPI service (``OpenAPIServer``), and retries without waiting out their back-off
(``FakeClock``).
"""

from __future__ import annotations

import collections
import http.server
import json
import threading
import time
import typing
import urllib.parse
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["OPENAPI_PATH", "FakeClock", "FakeFal", "LoopbackServer", "OpenAPIServer", "QuietHandler", "wait_for"]

_T = typing.TypeVar("_T")
OPENAPI_PATH = "/api/openapi/queue/openapi.json"


def wait_for(condition: Callable[[], _T], timeout: float = 30.0, interval: float = 0.01, what: str = "") -> _T:
    """Poll ``condition()`` until it returns something truthy, and return that; fail after ``timeout`` seconds.

    The failure is an ``AssertionError`` naming ``what`` (or the condition) and its last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            name = what or getattr(condition, "__qualname__", repr(condition))
            raise AssertionError(f"{name} not reached within {timeout:g} s (last value {value!r})")
        time.sleep(interval)


class FakeClock:
    """Time that moves only when someone sleeps: pass ``clock=fake.now, sleep=fake.sleep`` to a ``RetryPolicy``.

    ``slept`` lists every delay asked for, so a test can check the back-off without waiting it out.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.time = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += max(0.0, seconds)


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as fal), no log lines, and one way to answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def send(self, code: int, data: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, code: int, payload: Any) -> None:
        self.send(code, json.dumps(payload).encode(), {"content-type": "application/json"})


class LoopbackServer:
    """Serves ``handler`` on 127.0.0.1 at a free port from a daemon thread; ``url`` has no trailing slash."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        # a short poll interval: close() returns at once instead of after up to half a second
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


class OpenAPIServer:
    """fal's OpenAPI service on loopback: ``GET /api/openapi/queue/openapi.json?endpoint_id=<id>``.

    Serves ``documents`` (a dict becomes JSON, bytes go as they are); unknown ids get a 404 as fal answers them.
    ``hits`` counts requests per endpoint id, so a test can tell a cache hit from a fetch. Point falstudio at it
    with ``FALSTUDIO_OPENAPI_URL=<server.url>``.
    """

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.hits: collections.Counter[str] = collections.Counter()
        service = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.0"  # no kept-alive connection answers after stop()

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                endpoint_id = (urllib.parse.parse_qs(url.query).get("endpoint_id") or [""])[0]
                service.hits[endpoint_id] += 1
                document = service.documents.get(endpoint_id) if url.path == OPENAPI_PATH else None
                if document is None:
                    self.send_json(404, {"detail": f"Endpoint {endpoint_id!r} not found"})
                else:
                    body = document if isinstance(document, bytes) else json.dumps(document).encode()
                    self.send(200, body, {"content-type": "application/json"})

        self._server = LoopbackServer(Handler)
        self.url = self._server.url + OPENAPI_PATH

    def __enter__(self) -> OpenAPIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.close()


class FakeFal:
    """An in-memory fal (for ``httpx.MockTransport``) whose every reply a test can shape: pass
    ``Client(base_url=fake.base, transport=httpx.MockTransport(fake.handler))``; ``calls`` lists what was sent.

    One request ``r1``: ``statuses`` is the sequence the status stream sends (and polling walks through);
    ``stream`` is "ok", "missing" (404) or "drop" (ends after the first event); ``fail`` maps a path
    suffix to a list of replies served before the normal one (e.g. 429s to exercise retries);
    ``stream_events`` are the server-sent events of a streamed run (``s1``), None for an endpoint without one.
    """

    base = "http://fake.test"

    def __init__(self) -> None:
        from PIL import Image as PILImage

        from ._internal.images import image_bytes

        self.png = image_bytes(PILImage.new("RGB", (8, 8), "red"))
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
        self.fail: dict[str, list[httpx.Response | Exception]] = {}
        self.uploads: list[httpx.Request] = []
        self.token_route = True
        self.stream_events: list[Any] | None = None  # events of POST /run/{id}/stream; None answers 405
        self._polls = 0

    def fail_content_policy(self) -> None:
        """The request ends failed: its prompt was flagged (status error, then a 422 for the result)."""
        self.statuses[-1] = {
            "status": "COMPLETED",
            "logs": [],
            "error": "flagged",
            "error_type": "content_policy_violation",
        }
        self.result_reply = (
            422,
            {"detail": [{"loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation"}]},
        )

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
        if path.startswith("/run/") and path.endswith("/stream"):
            if self.stream_events is None:
                return httpx.Response(405, json={"detail": "Method Not Allowed"})
            body = "".join(f"data: {json.dumps(e)}\n\n" for e in self.stream_events)
            headers = {"content-type": "text/event-stream", "x-fal-request-id": "s1"}
            return httpx.Response(200, content=body.encode(), headers=headers)
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
            code, payload = self.result_reply or (200, self.output)
            return httpx.Response(code, json=payload, headers={"x-fal-request-id": "r1"})
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
