"""Small HTTP helpers shared by the routes: declaring them, bodies with a size limit, auth, fal-shaped errors."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._internal.errors import FalstudioError

if TYPE_CHECKING:
    from ._backend import Backend

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])
Guard = Callable[[Request], Awaitable[None]]


class HTTPException(StarletteHTTPException, FalstudioError):
    """An error reply: ``detail`` is its JSON body's ``detail``, a message or fal's list of problems (a 422)."""

    detail: Any

    def __init__(self, status_code: int, detail: Any = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code, headers=headers)
        if detail is not None:
            self.detail = detail


class Routes:
    """A module's routes, declared as ``@routes.get(path)``: a handler takes the request and the path's parameters
    (strings) and returns a response, or what is sent as JSON; ``guard`` runs before each handler (the key check).
    A route answers only the methods it names, as the routes did under FastAPI (Starlette adds HEAD to every GET:
    taken off again, HEAD stays a 405 where it was one)."""

    def __init__(self, prefix: str = "", *, guard: Guard | None = None) -> None:
        self.prefix = prefix
        self.guard = guard
        self.routes: list[Route] = []

    def route(self, path: str, methods: Collection[str]) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            route = Route(self.prefix + path, _endpoint(handler, self.guard), methods=list(methods))
            if route.methods is not None and "HEAD" not in methods:
                route.methods.discard("HEAD")
            self.routes.append(route)
            return handler

        return add

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["GET"])

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["POST"])

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["PUT"])

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, ["DELETE"])


def _endpoint(handler: Callable[..., Awaitable[Any]], guard: Guard | None) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        if guard is not None:
            await guard(request)
        reply = await handler(request, **request.path_params)
        return reply if isinstance(reply, Response) else JSONResponse(reply)

    endpoint.__name__ = handler.__name__
    return endpoint


def backend_of(request: Request) -> Backend:
    return request.app.state.backend  # type: ignore[no-any-return]


def base_url(request: Request) -> str:
    """This server's origin as the client reached it, for absolute URLs in responses."""
    return str(request.base_url).rstrip("/")


async def require_key(request: Request) -> None:
    """The API routes' guard: ``Authorization: Key <key>`` with the server's key, else 401."""
    backend = backend_of(request)
    authorization = request.headers.get("authorization")
    problem = backend.key_problem(authorization)
    if problem:
        raise HTTPException(401, problem)
    backend.keys.note(getattr(request.state, "fal_request_id", None), authorization)  # usage per key alias


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"Request body too large: this local server accepts at most {limit} bytes (max_upload_bytes)"
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) anything over ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def json_body(request: Request, limit: int) -> Any:
    """The JSON body (an empty body counts as ``{}``); a 422 shaped like fal's (FastAPI's) when it is not JSON."""
    raw = await read_body(request, limit)
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: "[[[[..." nested too deep
        position = getattr(exc, "pos", 0)
        message = "nested too deeply" if isinstance(exc, RecursionError) else getattr(exc, "msg", str(exc))
        raise HTTPException(
            422,
            [
                {
                    "loc": ["body", position],
                    "msg": "JSON decode error",
                    "type": "json_invalid",
                    "ctx": {"error": message},
                }
            ],
        ) from None


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def validation_detail(exc: ValidationError, prefix: str = "body") -> list[dict[str, Any]]:
    """fal's 422 ``detail`` list from the pydantic error of the request model. Inputs are left out: they may
    hold secrets (``openai_api_key``)."""
    detail = []
    for error in exc.errors(include_url=False, include_input=False):
        item: dict[str, Any] = {"loc": [prefix, *error["loc"]], "msg": error["msg"], "type": error["type"]}
        if error.get("ctx"):
            item["ctx"] = _json_safe(error["ctx"])
        detail.append(item)
    return detail


# fal's model errors say whether trying again may help (X-Fal-Retryable): these types may pass, others will not
RETRYABLE_TYPES = frozenset(
    {"internal_server_error", "generation_timeout", "downstream_service_error", "downstream_service_unavailable"}
)


def fal_error(
    status: int, body: Any, error_type: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A fal-shaped error reply: ``X-Fal-Error-Type`` and, for a model error, ``X-Fal-Retryable``."""
    sent = dict(headers or {})
    if error_type:
        sent["x-fal-error-type"] = error_type
        sent["x-fal-retryable"] = "true" if error_type in RETRYABLE_TYPES else "false"
    return JSONResponse(body, status_code=status, headers=sent or None)
