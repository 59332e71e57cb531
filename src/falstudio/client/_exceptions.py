"""The client's exception classes, imported from :mod:`falstudio.client.errors` (which names them as its own)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._internal.errors import FalstudioError, FalstudioWarning

if TYPE_CHECKING:
    import pydantic


class FalError(FalstudioError):
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

    default_hint = "check the request against the endpoint's request model, which documents each field"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **context: Any) -> None:
        self.errors = errors or []
        if self.errors:
            message = f"{message}: " + "; ".join(self.describe(e) for e in self.errors)
            if context.get("hint") is None and self.default_hint == InvalidRequestError.default_hint:
                named = ", ".join(dict.fromkeys(str(e["loc"][0]) for e in self.errors if e.get("loc")))
                if named:  # say which fields, rather than "the fields listed above"
                    context["hint"] = f"fix {named}; the endpoint's request model documents each field"
        super().__init__(message, **context)

    @classmethod
    def from_validation_error(cls, exc: pydantic.ValidationError, *, endpoint: str | None) -> InvalidRequestError:
        errors = [{"loc": tuple(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        return cls("invalid request (checked locally, nothing was sent)", errors=errors, endpoint=endpoint)

    @staticmethod
    def describe(error: Mapping[str, Any]) -> str:
        """One problem in words: ``image_urls.0: not a valid URL`` (``request: ...`` when it names no field)."""
        loc = ".".join(str(p) for p in error.get("loc", ())) or "request"
        return f"{loc}: {error.get('msg', 'invalid')}"

    def fields(self) -> list[str]:
        """The dotted names of the fields in error, e.g. ``["prompt", "image_urls.0"]``."""
        return [".".join(str(p) for p in e["loc"]) for e in self.errors]


class ContentPolicyError(InvalidRequestError):
    """The prompt or an input image was flagged by the content policy."""

    default_hint = "rephrase the prompt or use other input images"


class AuthError(FalError, PermissionError):
    """HTTP 401/403: the key is missing, wrong, or the account is locked (the server's reason is kept)."""

    default_hint = "check FAL_KEY (or FAL_KEY_ID + FAL_KEY_SECRET) or pass key=...; keys: fal.ai/dashboard/keys"


class InvalidKeyError(AuthError, ValueError):
    """The fal key is malformed (a line break, a curly quote, a non-ASCII character...): found before anything
    is sent. The message says where the key came from and what is wrong with it, never the key itself."""

    default_hint = "copy the key again from fal.ai/dashboard/keys: it looks like key_id:key_secret, printable ASCII"


class NotFoundError(FalError, LookupError):
    """HTTP 404/410."""


class EndpointNotFoundError(NotFoundError):
    """The endpoint does not exist (any more) on this server."""


class EndpointGoneError(EndpointNotFoundError):
    """fal answered that the endpoint's model or app is gone: the upstream model was shut down or retired.

    ``successor`` is the endpoint to use instead, when the registry knows one (``openai/gpt-image-2`` for the
    GPT Image 1 family).
    """

    def __init__(self, message: str, *, successor: str | None = None, **context: Any) -> None:
        self.successor = successor
        super().__init__(message, **context)


class RequestNotFoundError(NotFoundError):
    """The request id is unknown to this server (expired, or submitted elsewhere)."""


class RateLimitedError(FalError):
    """HTTP 429 after every retry: too many requests or concurrent jobs."""

    default_hint = "wait and retry, or lower the number of concurrent jobs"


class ServerError(FalError):
    """HTTP 5xx, or a reply the client could not understand."""


class NetworkError(FalError, ConnectionError):
    """The server could not be reached, after every retry."""

    default_hint = "check the network, or that the server named above is running"


class FalTimeoutError(FalError, TimeoutError):
    """The client stopped waiting (``client_timeout``); the request was cancelled on the server."""

    default_hint = "raise client_timeout, or submit() and fetch the result later by request id"


class RequestCancelledError(FalError):
    """The request was cancelled before it produced a result."""


class BudgetExceededError(FalError):
    """The client's budget refused a request or a sweep before anything was sent.

    ``estimate``: the refused request's (or sweep's) estimate in USD, None when no price is known; ``spent``: what
    already counted against the budget (spent or in flight); ``budget``: the limit; ``requests``: how many.
    """

    def __init__(
        self,
        message: str,
        *,
        estimate: Decimal | None,
        spent: Decimal | None,
        budget: Decimal,
        requests: int = 1,
        **context: Any,
    ) -> None:
        super().__init__(message, error_type="budget_exceeded", **context)
        self.estimate = estimate
        self.spent = spent
        self.budget = budget
        self.requests = requests


class EndpointDeprecationWarning(FalstudioWarning, FutureWarning):
    """An endpoint the registry marks as deprecated or retired is being called on fal.ai (said once per endpoint)."""
