"""A loopback HTTP service for hostile replies: fixed bodies, a reply that drips, a redirect elsewhere."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from falstudio.testing import LoopbackServer, QuietHandler

Route = Callable[[BaseHTTPRequestHandler], None]


class Loopback:
    """Serves ``routes`` by path (query ignored) on 127.0.0.1; ``url(path)`` is where each is."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        service = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.0"  # each reply ends its connection (a drip is not kept alive)

            def do_GET(self) -> None:
                route = service.routes.get(self.path.partition("?")[0])
                if route is None:
                    reply(self, 404, b'{"detail": "not found"}')
                else:
                    route(self)

        self._server = LoopbackServer(Handler)
        self.port = int(self._server.url.rsplit(":", 1)[1])

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._server.close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    assert isinstance(handler, QuietHandler)
    handler.send(status, body, {"content-type": "application/json", **(headers or {})})


def document_route(document: Any) -> Route:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return lambda handler: reply(handler, 200, body)


def drip_route(body: bytes, every: float = 0.5, *, until: threading.Event | None = None) -> Route:
    """The headers at once, then the body a byte at a time (each byte well within a socket timeout); once ``until``
    is set, the rest of it at once."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        try:
            for i, byte in enumerate(body):
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                if until is None:
                    time.sleep(every)
                elif until.wait(every):
                    handler.wfile.write(body[i + 1 :])
                    handler.wfile.flush()
                    return
        except OSError:
            pass

    return route


def redirect_route(location: str) -> Route:
    return lambda handler: reply(handler, 302, b"", {"location": location})
