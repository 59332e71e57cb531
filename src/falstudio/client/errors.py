"""The exceptions the client raises. Every one is a :class:`FalError` and names the endpoint and request.

Messages never contain credentials: they are built from the server's ``detail`` text, field locations
and our own hints, never from request headers or inputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx
    from pydantic import ValidationError


class FalError(Exception):
    """Base class of every error the falstudio client raises about a request."""

    default_hint: str | None = None

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        request_id: str | None = None,
        status_code: int | None = None,
        error_type: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint
        self.request_id = request_id
        self.status_code = status_code
        self.error_type = error_type
        self.hint = hint if hint is not None else self.default_hint

    def __str__(self) -> str:
        where = [
            f"endpoint {self.endpoint}" if self.endpoint else "",
            f"request {self.request_id}" if self.request_id else "",
            f"HTTP {self.status_code}" if self.status_code else "",
        ]
        context = ", ".join(w for w in where if w)
        text = f"{self.message} [{context}]" if context else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text

    def __reduce__(self) -> tuple[Any, ...]:  # keep keyword-only state through pickling (futures, processes)
        return (_rebuild, (type(self), self.message, self.__dict__))


def _rebuild(cls: type[FalError], message: str, state: dict[str, Any]) -> FalError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class InvalidRequestError(FalError, ValueError):
    """The request was rejected as invalid, locally or by the server (HTTP 422).

    ``errors`` lists one dict per problem: ``loc`` (a tuple of field names and indexes, without fal's
    leading ``"body"``), ``msg`` and ``type``.
    """

    default_hint = "fix the fields listed above; the endpoint's request model documents each field"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **context: Any) -> None:
        self.errors = errors or []
        if self.errors:
            message = f"{message}: " + "; ".join(_describe(e) for e in self.errors)
        super().__init__(message, **context)

    @classmethod
    def from_validation_error(cls, exc: ValidationError, *, endpoint: str | None) -> InvalidRequestError:
        errors = [{"loc": tuple(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return cls("invalid request (checked locally, nothing was sent)", errors=errors, endpoint=endpoint)

    def fields(self) -> list[str]:
        """The dotted names of the fields in error, e.g. ``["prompt", "image_urls.0"]``."""
        return [".".join(str(p) for p in e["loc"]) for e in self.errors]


class ContentPolicyError(InvalidRequestError):
    """The prompt or an input image was flagged by the content policy."""

    default_hint = "rephrase the prompt or use other input images"


class AuthError(FalError, PermissionError):
    """HTTP 401/403: the key is missing, wrong, or the account is locked (the server's reason is kept)."""

    default_hint = "check FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET) or pass key=...; keys: fal.ai/dashboard/keys"


class NotFoundError(FalError, LookupError):
    """HTTP 404/410."""


class EndpointNotFoundError(NotFoundError):
    """The endpoint does not exist (any more) on this server."""


class RequestNotFoundError(NotFoundError):
    """The request id is unknown to this server (expired, or submitted elsewhere)."""


class RateLimitedError(FalError):
    """HTTP 429 after every retry: too many requests or concurrent jobs."""

    default_hint = "wait and retry, or lower the number of concurrent jobs"


class ServerError(FalError):
    """HTTP 5xx, or a reply the client could not understand."""


class NetworkError(FalError, ConnectionError):
    """The server could not be reached, after every retry."""

    default_hint = "check the network, or that the server at base_url is running"


class FalTimeoutError(FalError, TimeoutError):
    """The client stopped waiting (``client_timeout``); the request was cancelled on the server."""

    default_hint = "raise client_timeout, or submit() and fetch the result later by request id"


class RequestCancelledError(FalError):
    """The request was cancelled before it produced a result."""


class EndpointDeprecationWarning(FutureWarning):
    """An endpoint the registry marks as deprecated or gone is being called on fal.ai."""


def _describe(error: Mapping[str, Any]) -> str:
    loc = ".".join(str(p) for p in error.get("loc", ())) or "request"
    return f"{loc}: {error.get('msg', 'invalid')}"


def detail_errors(detail: Any) -> list[dict[str, Any]]:
    """fal's 422 ``detail`` (a FastAPI list, or a plain string) as ``{loc, msg, type}`` dicts.

    The leading ``"body"`` of each location is dropped and echoed ``input`` values are not kept (they
    may hold secrets).
    """
    if isinstance(detail, str):
        return [{"loc": (), "msg": detail, "type": "value_error"}]
    if not isinstance(detail, Iterable) or isinstance(detail, Mapping):
        return []
    errors = []
    for item in detail:
        if not isinstance(item, Mapping):
            errors.append({"loc": (), "msg": str(item), "type": "value_error"})
            continue
        loc = tuple(item.get("loc") or ())
        if loc and loc[0] == "body":
            loc = loc[1:]
        errors.append({"loc": loc, "msg": str(item.get("msg", "")), "type": str(item.get("type", "value_error"))})
    return errors


def network_error(
    exc: httpx.TransportError,
    url: str,
    *,
    timeout: float | None,
    endpoint: str | None = None,
    request_id: str | None = None,
) -> NetworkError:
    """A transport failure in words: the server was unreachable, or did not answer within ``timeout``."""
    import httpx

    where = _without_query(url)
    if isinstance(exc, httpx.TimeoutException) and not isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return NetworkError(
            f"no reply from {where} within timeout={timeout} s ({type(exc).__name__})",
            endpoint=endpoint,
            request_id=request_id,
            hint="pass a larger timeout= to the client, or use subscribe()/submit() (the queue) for long jobs",
        )
    detail = f": {exc}" if str(exc) else ""
    return NetworkError(
        f"could not reach {where} ({type(exc).__name__}{detail})", endpoint=endpoint, request_id=request_id
    )


def _without_query(url: str) -> str:
    """``url`` without its query string, which may hold a signed token."""
    return url.partition("?")[0].partition("#")[0]


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:500]


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if detail is None:
        return ""
    from .._internal.redact import redact  # an echoed request may hold a key

    return "; ".join(_describe(e) for e in detail_errors(detail)) or json.dumps(redact(detail), default=str)[:300]


def from_response(
    response: httpx.Response,
    *,
    endpoint: str | None,
    request_id: str | None = None,
    endpoint_note: str | None = None,
    error_type: str | None = None,
) -> FalError:
    """The typed error for a non-2xx reply to a call about ``endpoint`` (and ``request_id``).

    ``endpoint_note`` (the registry's note on the endpoint) becomes the hint when the endpoint is not
    found; ``error_type`` is used when the reply names none (e.g. the one a failed request's status gave).
    """
    code = response.status_code
    body = _body(response)
    detail = body.get("detail") if isinstance(body, Mapping) else body
    error_type = (
        (body.get("error_type") if isinstance(body, Mapping) else None)
        or response.headers.get("x-fal-error-type")
        or error_type
    )
    about_request = request_id is not None
    # Not a call about an endpoint (an image download, storage): name the URL instead.
    plain_url = _without_query(str(response.url)) if endpoint is None and not about_request else None
    request_id = request_id or response.headers.get("x-fal-request-id")
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "request_id": request_id,
        "status_code": code,
        "error_type": error_type,
    }
    errors = detail_errors(detail) if code in (400, 422) and not isinstance(detail, str) else []
    types = {error_type, *(e["type"] for e in errors)}
    if "content_policy_violation" in types:
        return ContentPolicyError("content policy violation", errors=errors, **context)
    if code == 422:
        return InvalidRequestError("the server rejected the request", errors=errors or detail_errors(detail), **context)
    text = _detail_text(detail) or response.reason_phrase
    if plain_url:
        text = f"{text} ({response.request.method} {plain_url})"
    if code in (401, 403):
        return AuthError(f"not authorised: {text}", **context)
    if code in (404, 410):
        if about_request:
            return RequestNotFoundError(f"request not found: {text}", **context)
        if plain_url:
            return NotFoundError(f"not found: {text}", **context)
        return EndpointNotFoundError(
            f"endpoint not found: {text}",
            **context,
            hint=endpoint_note or "check the endpoint id (falstudio.endpoints.REGISTRY lists the known ones)",
        )
    if code == 429:
        return RateLimitedError(f"rate limited: {text}", **context)
    if code >= 500:
        return ServerError(f"server error: {text}", **context)
    if errors:
        return InvalidRequestError(f"request failed: {text}", errors=errors, **context)
    return FalError(f"request failed: {text}", **context)
