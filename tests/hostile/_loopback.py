"""A loopback HTTP service for hostile replies: fixed bodies, a reply that drips, a redirect elsewhere."""

from __future__ import annotations

import json
import struct
import threading
import time
import zlib
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


def gzip_bomb_body(head: bytes, tail: bytes, size: int) -> bytes:
    """A gzip body inflating to ``head``, ``size`` bytes of spaces, then ``tail``; made of one compressed
    megabyte repeated (after a full flush deflate starts afresh, so each megabyte packs to the same bytes): a
    second, not seconds, to build."""
    chunk = b" " * (1 << 20)
    count = size // len(chunk)
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)  # raw deflate: the gzip header and trailer are written here
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    total = len(head) + count * len(chunk) + len(tail)
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return gzip_header + start + block * count + end + struct.pack("<II", crc, total & 0xFFFFFFFF)


def endless_route(head: bytes, content_type: str, size: int) -> Route:
    """``head``, then ``size`` bytes of spaces, with no declared length (read to the end), until the client hangs up."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.end_headers()
        chunk = b" " * (1 << 20)
        try:
            handler.wfile.write(head)
            for _ in range(size // len(chunk)):
                handler.wfile.write(chunk)
        except OSError:
            pass  # the client hung up: what it should do

    return route


def gzip_route(body: bytes, content_type: str) -> Route:
    """``body`` (gzip) as it is, declared with its compressed length."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.send_header("content-encoding", "gzip")
        handler.send_header("content-length", str(len(body)))
        handler.end_headers()
        try:
            handler.wfile.write(body)
        except OSError:
            pass

    return route
