"""The Starlette app: fal's queue, sync-run and storage APIs on one origin.

Layout (all on one port): queue submit ``POST /{endpoint_id}``, status / stream / result / cancel under
``/{owner}/{app}/requests/{request_id}``, sync runs under ``/run/{endpoint_id}``, streamed runs (SSE with
partial images) under ``/run/{endpoint_id}/stream``, uploads under
``/storage/...`` and ``/files/upload``, files at ``/files/{id}/{name}``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import re
import secrets
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _platform_routes, _queue_routes, _storage_routes, _stream_routes
from ._backend import Backend, Settings
from .faults import NGINX_503

logger = logging.getLogger("falstudio.local")
# A request id from the path is echoed in a header only when it could be one of ours (a uuid-like token):
# anything else (NUL, CR/LF, non-ASCII, kilobytes) would be an illegal header and kill the response.
_REQUEST_ID = re.compile(r"/requests/([A-Za-z0-9_.~-]{1,128})(?:/|$)")
_NOT_API = ("/files/", "/storage/")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_WILDCARDS = ("", "0.0.0.0", "::")


def create_app(*, key: str | None = None, **options: Any) -> Starlette:
    """A fal-compatible app. ``options`` are the other :class:`Settings` fields (latency, concurrency, faults,
    retention...); its live settings are ``app.state.settings`` (``key`` random when not given)."""
    settings = Settings(key=key or secrets.token_urlsafe(24), **options)
    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        await backend.start()
        try:
            yield
        finally:
            await backend.stop()

    routes = [
        *_platform_routes.router.routes,  # /v1: fal's Platform API, before the queue's /{endpoint_id}
        *_storage_routes.router.routes,
        *_stream_routes.router.routes,  # before the queue routes, whose /run/{id} would take /stream
        *_queue_routes.router.routes,
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.backend = backend
    app.add_middleware(_Gateway, settings=settings)
    app.add_middleware(_HostCheck, settings=settings)  # added last: runs first
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.add_exception_handler(_platform_routes.PlatformRefusal, _platform_routes.refusal_response)
    return app


class _HostCheck:
    """Answers only requests addressed to this server: a loopback name, the host it listens on, or one of
    ``allowed_hosts`` (with a wildcard bind, also any IP address and this machine's name). Anything else is a
    421, as a proxy answers a request meant for another site: a web page whose DNS name was re-pointed at
    127.0.0.1 (DNS rebinding) gets nothing, and no other name is ever written into the URLs this server returns.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        names = set(LOOPBACK_HOSTS) | {h.lower().strip("[]") for h in settings.allowed_hosts}
        self.any_address = settings.host in _WILDCARDS
        if self.any_address:
            names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        else:
            names.add(settings.host.lower().strip("[]"))
        self.names = frozenset(names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._accepts(scope):
            await self.app(scope, receive, send)
            return
        detail = (
            "Misdirected Request: this local server answers requests addressed to 127.0.0.1, localhost, [::1] "
            "or the host it listens on (LocalServer(allowed_hosts=...) or falstudio serve --allow-host adds names)"
        )
        await _send(send, 421, json.dumps({"detail": detail}).encode(), b"application/json")

    def _accepts(self, scope: Scope) -> bool:
        raw = next((value for name, value in scope.get("headers", ()) if name == b"host"), None)
        if raw is None:  # HTTP/1.0 without a Host: URLs are built from the socket's own address
            return True
        host = _host_name(raw.decode("latin-1"))
        if host in self.names:
            return True
        if self.any_address:
            try:
                ipaddress.ip_address(host)
            except ValueError:
                return False
            return True  # an address cannot be re-pointed, only a name can
        return False


def _host_name(value: str) -> str:
    """The name in a Host header value, lower case, without port, brackets or a trailing dot."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    name, colon, port = value.rpartition(":")
    return (name if colon and port.isdigit() else value).rstrip(".")


class _Gateway:
    """What fal's ingress does before the app: a request id on every API response, and injected faults."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path == "/" or path.startswith(_NOT_API):
            await self.app(scope, receive, send)
            return
        faults = self.settings.faults
        if faults.roll(faults.ingress_503):
            await _send(send, 503, NGINX_503.encode(), b"text/html")
            return
        found = _REQUEST_ID.search(path)
        request_id = found.group(1) if found else str(uuid.uuid4())
        header = (b"x-fal-request-id", request_id.encode())
        if faults.roll(faults.rate_limit_429):
            body = b'{"detail":"Concurrent requests limit reached (injected fault)","error_type":"rate_limited"}'
            await _send(send, 429, body, b"application/json", [header, (b"x-fal-error-type", b"rate_limited")])
            return
        scope.setdefault("state", {})["fal_request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"x-fal-request-id" for name, _ in headers):
                    headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)


async def _send(
    send: Send, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if exc.status_code == 405 and detail == "Method Not Allowed":  # from routing: say what would work
        detail = (
            f"Method Not Allowed: {request.method} {request.url.path}; submit with POST /{{endpoint_id}}, "
            "poll with GET .../requests/{request_id}/status (GET / lists this server's routes)"
        )
    body: dict[str, Any] = {"detail": detail}
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up mid-request (an interrupted upload, a closed notebook): routine, one debug line."""
    logger.debug("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=499)  # nginx's "client closed request"; nobody is left to read it


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "Internal server error in the local server; see its log", "error_type": "internal_server_error"},
        status_code=500,
    )
