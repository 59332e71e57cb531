"""The FastAPI app: fal's queue, sync-run and storage APIs on one origin.

Layout (all on one port): queue submit ``POST /{endpoint_id}``, status / stream / result / cancel under
``/{owner}/{app}/requests/{request_id}``, sync runs under ``/run/{endpoint_id}``, streamed runs (SSE with
partial images) under ``/run/{endpoint_id}/stream``, uploads under
``/storage/...`` and ``/files/upload``, files at ``/files/{id}/{name}``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import _queue_routes, _storage_routes, _stream_routes
from ._backend import Backend, Settings
from .faults import NGINX_503, Faults

logger = logging.getLogger("falstudio.local")
# A request id from the path is echoed in a header only when it could be one of ours (a uuid-like token):
# anything else (NUL, CR/LF, non-ASCII, kilobytes) would be an illegal header and kill the response.
_REQUEST_ID = re.compile(r"/requests/([A-Za-z0-9_.~-]{1,128})(?:/|$)")
_NOT_API = ("/files/", "/storage/")


def create_app(
    *,
    key: str | None = None,
    latency: float = 1.0,
    concurrency: int = 2,
    faults: Faults | None = None,
    allow_remote_fetch: bool = False,
    max_upload_bytes: int = 50 * 1024 * 1024,
    storage_dir: str | None = None,
) -> FastAPI:
    """A fal-compatible app. Its live settings are ``app.state.settings`` (``key`` random when not given)."""
    settings = Settings(
        key=key or secrets.token_urlsafe(24),
        latency=latency,
        concurrency=concurrency,
        faults=faults if faults is not None else Faults(),
        allow_remote_fetch=allow_remote_fetch,
        max_upload_bytes=max_upload_bytes,
        storage_dir=storage_dir,
    )
    backend = Backend(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.loop = asyncio.get_running_loop()
        await backend.start()
        try:
            yield
        finally:
            await backend.stop()

    app = FastAPI(
        title="falstudio local fal-compatible server",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.settings = settings
    app.state.backend = backend
    app.add_middleware(_Gateway, settings=settings)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    app.include_router(_storage_routes.router)
    app.include_router(_stream_routes.router)  # before the queue routes, whose /run/{id} would take /stream
    app.include_router(_queue_routes.router)
    return app


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


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
    return JSONResponse({"detail": detail}, status_code=422)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(
        {"detail": "Internal server error in the local server; see its log", "error_type": "internal_server_error"},
        status_code=500,
    )
