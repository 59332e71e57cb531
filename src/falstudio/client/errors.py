"""The exceptions the client raises. Every one is a :class:`FalError` and names the endpoint and request.

Messages never contain credentials: they are built from the server's ``detail`` text, field locations
and our own hints, never from request headers or inputs.

How a reply or a transport failure becomes one is here too: :func:`from_response`, :func:`network_error`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import _exceptions
from ._exceptions import AuthError as AuthError
from ._exceptions import BudgetExceededError as BudgetExceededError
from ._exceptions import ContentPolicyError as ContentPolicyError
from ._exceptions import EndpointDeprecationWarning as EndpointDeprecationWarning
from ._exceptions import EndpointGoneError as EndpointGoneError
from ._exceptions import EndpointNotFoundError as EndpointNotFoundError
from ._exceptions import FalError as FalError
from ._exceptions import FalTimeoutError as FalTimeoutError
from ._exceptions import InvalidKeyError as InvalidKeyError
from ._exceptions import InvalidRequestError as InvalidRequestError
from ._exceptions import NetworkError as NetworkError
from ._exceptions import NotFoundError as NotFoundError
from ._exceptions import RateLimitedError as RateLimitedError
from ._exceptions import RequestCancelledError as RequestCancelledError
from ._exceptions import RequestNotFoundError as RequestNotFoundError
from ._exceptions import ServerError as ServerError

if TYPE_CHECKING:
    import httpx

# Each class says it is this module's, where it is imported from: tracebacks and pickles name
# falstudio.client.errors.AuthError (as httpx names its own exceptions).
for _error in vars(_exceptions).values():
    if isinstance(_error, type) and _error.__module__ == _exceptions.__name__:
        _error.__module__ = __name__
del _error


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


LOST_REPLY_HINT = (
    "the server may have received the request before its reply was lost, so it may still run (and be billed): "
    "fs.history() lists it as unconfirmed; look for it on fal.ai/dashboard before sending it again"
)


def _still_running_hint(endpoint: str | None, request_id: str) -> str:
    return (
        f"request {request_id} may still be running: fetch its result later with "
        f"client.result({endpoint!r}, {request_id!r}) or fs.history().resume()"
    )


def _tries(attempts: int) -> str:
    return f"; tried {attempts} times" if attempts > 1 else ""


def network_error(
    exc: httpx.TransportError,
    url: str,
    *,
    timeout: float | None,
    endpoint: str | None = None,
    request_id: str | None = None,
    attempts: int = 1,
    may_have_run: bool = False,
) -> NetworkError:
    """A transport failure in words: the server was unreachable, or did not answer within ``timeout``.

    ``attempts``: how many times the call was tried; ``may_have_run``: the call creates a job (submit, run),
    so unless the failure proves nothing was sent, the hint says the job may exist.
    """
    import httpx

    where = without_query(url)
    sent = not isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    hint = None
    if may_have_run and sent:
        hint = LOST_REPLY_HINT
    elif request_id and endpoint:
        hint = _still_running_hint(endpoint, request_id)
    if isinstance(exc, httpx.PoolTimeout):  # the network is fine: this client had no free connection to use
        return NetworkError(
            f"the client's connection pool was full: no free connection for {where} within timeout={timeout} s "
            f"(PoolTimeout{_tries(attempts)}); nothing was sent",
            endpoint=endpoint,
            request_id=request_id,
            hint="fewer requests at once (a smaller batch or sweep), or a larger timeout=; each client keeps at most "
            "64 connections",
        )
    if isinstance(exc, httpx.TimeoutException) and sent:
        advice = "pass a larger timeout=, or use subscribe()/submit() (the queue) for long jobs"
        if may_have_run:
            advice = f"the server may still be working on it (and bill it); {advice}: those results stay fetchable"
        return NetworkError(
            f"no reply from {where} within timeout={timeout} s ({type(exc).__name__}{_tries(attempts)})",
            endpoint=endpoint,
            request_id=request_id,
            hint=advice if may_have_run or hint is None else hint,
        )
    detail = f": {exc}" if str(exc) else ""
    return NetworkError(
        f"could not reach {where} ({type(exc).__name__}{detail}{_tries(attempts)})",
        endpoint=endpoint,
        request_id=request_id,
        hint=hint,
    )


def without_query(url: str) -> str:
    """``url`` without its query string, which may hold a signed token."""
    return url.partition("?")[0].partition("#")[0]


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:500]


def _page_summary(response: httpx.Response, body: Any) -> str | None:
    """One line about an HTML error page (a gateway's, instead of fal's JSON), or None if it is not one."""
    if not isinstance(body, str) or not ("html" in response.headers.get("content-type", "") or body.startswith("<")):
        return None
    title = re.search(r"<title[^>]*>(.*?)</title>", body, re.IGNORECASE | re.DOTALL)
    words = " ".join((title.group(1) if title else re.sub(r"<[^>]+>", " ", body)).split())[:100]
    source = " from nginx" if "nginx" in body.lower() else ""
    return f"the gateway answered with an HTML page{source} ({words or response.reason_phrase!r}), not fal's JSON"


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if detail is None:
        return ""
    from .._internal.redact import redact  # an echoed request may hold a key

    return (
        "; ".join(InvalidRequestError.describe(e) for e in detail_errors(detail))
        or json.dumps(redact(detail), default=str)[:300]
    )


# Words with which fal (or OpenAI behind it) says a model or app no longer exists. OpenAI answers a call to a
# shut-down model with "The model `...` has been deprecated" (code model_not_found).
_SAYS_GONE = re.compile(
    r"\b(?:model|app|application|endpoint)\b[^;\n]{0,80}?\b(?:deprecated|retired|shut\s*down|discontinued|"
    r"decommissioned|no longer (?:available|supported|exists?|served))\b|\bmodel_not_found\b",
    re.IGNORECASE,
)
_SAYS_MISSING = re.compile(r"\b(not found|does not exist|doesn't exist)\b", re.IGNORECASE)


def _gone(text: str, *, about_request: bool, **context: Any) -> EndpointGoneError | None:
    """The error for a reply that says ``endpoint``'s model or app is gone, else None.

    Gone: words that say so (any 4xx/5xx but auth and rate limits), a 410 about the endpoint, or, for an
    endpoint the registry marks deprecated or retired, a 404 about it or a reply that says its model is missing.
    """
    endpoint, code = context["endpoint"], context["status_code"]
    if endpoint is None or code in (401, 403, 429):
        return None
    from falstudio.endpoints import find

    spec = find(endpoint)
    ageing = spec is not None and spec.status_on() != "active"
    said = f"{text} {context['error_type'] or ''}"
    missing = ageing and _SAYS_MISSING.search(said) is not None and not (about_request and code == 404)
    endpoint_code = not about_request and (code == 410 or (code == 404 and ageing))
    if not (_SAYS_GONE.search(said) or endpoint_code or missing):
        return None
    successor = spec.successor if spec is not None else None
    note = spec.note_on() if spec is not None else ""
    hint = f"use {successor} instead: its successor in falstudio.endpoints" if successor else "pick another endpoint"
    return EndpointGoneError(
        f"endpoint gone: {text}", successor=successor, hint=f"{hint}. {note}" if note else hint, **context
    )


def from_response(
    response: httpx.Response,
    *,
    endpoint: str | None,
    request_id: str | None = None,
    endpoint_note: str | None = None,
    error_type: str | None = None,
    attempts: int = 1,
    may_have_run: bool = False,
) -> FalError:
    """The typed error for a non-2xx reply to a call about ``endpoint`` (and ``request_id``).

    ``endpoint_note`` (the registry's note on the endpoint) becomes the hint when the endpoint is not
    found; ``error_type`` is used when the reply names none (e.g. the one a failed request's status gave).
    ``attempts`` and ``may_have_run`` are as for :func:`network_error`.
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
    plain_url = without_query(str(response.url)) if endpoint is None and not about_request else None
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
    text = _page_summary(response, body) or _detail_text(detail) or response.reason_phrase
    gone = None if plain_url else _gone(text, about_request=about_request, **context)
    if gone is not None:
        return gone
    if code == 422:
        return InvalidRequestError("the server rejected the request", errors=errors or detail_errors(detail), **context)
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
        return RateLimitedError(f"rate limited: {text}{_tries(attempts)}", **context)
    if code >= 500:
        hint = None
        if may_have_run:
            hint = LOST_REPLY_HINT
        elif about_request and request_id:
            hint = _still_running_hint(endpoint, request_id)
        return ServerError(f"server error: {text}{_tries(attempts)}", **context, hint=hint)
    if errors:
        return InvalidRequestError(f"request failed: {text}", errors=errors, **context)
    return FalError(f"request failed: {text}", **context)
