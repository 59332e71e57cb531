"""Fixtures for the client tests: a tiny threaded loopback server that sees disconnects, and helpers."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from falstudio.testing import LoopbackServer


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

        self._handler = Handler
        self.url = ""
        self._server: LoopbackServer | None = None

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
        self._server = LoopbackServer(self._handler)
        self.url = self._server.url
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()


@pytest.fixture
def slow_server() -> Iterator[SlowServer]:
    with SlowServer() as server:
        yield server
