"""A loopback HTTP service for hostile replies: fixed bodies, a reply that drips, a redirect elsewhere."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Route = Callable[[BaseHTTPRequestHandler], None]


class Loopback:
    """Serves ``routes`` by path (query ignored) on 127.0.0.1; ``url(path)`` is where each is."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                route = service.routes.get(self.path.partition("?")[0])
                if route is None:
                    reply(self, 404, b'{"detail": "not found"}')
                else:
                    route(self)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        threading.Thread(target=self._http.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def document_route(document: Any) -> Route:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return lambda handler: reply(handler, 200, body)


def drip_route(body: bytes, every: float = 0.5) -> Route:
    """The headers at once, then the body a byte at a time (each byte well within a socket timeout)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        try:
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass

    return route


def redirect_route(location: str) -> Route:
    return lambda handler: reply(handler, 302, b"", {"location": location})
