"""When to retry a request and how long to wait: exponential backoff with jitter, bounded in tries and time."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

RETRY_STATUS = frozenset({408, 409, 429})
INGRESS_STATUS = frozenset({502, 503, 504})
# Errors raised before the request reached the server: safe to retry even for a submit (no double job).
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Delay before retry ``n`` (1-based) is ``base * 2**(n-1)``, capped, times U(0.5, 1.5).

    A ``Retry-After`` header (seconds) is honoured up to ``max_delay``. No retry starts after
    ``max_elapsed`` seconds. ``clock`` and ``sleep`` tell and spend that time (tests pass a fake clock's).
    """

    max_attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_elapsed: float = 60.0
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    sleep: Callable[[float], Awaitable[object]] = field(default=asyncio.sleep, repr=False, compare=False)

    def delay(self, retry: int, response: httpx.Response | None = None) -> float:
        after = _retry_after(response)
        if after is not None:
            return float(min(after, self.max_delay))
        return min(self.base_delay * 2.0 ** (retry - 1), self.max_delay) * random.uniform(0.5, 1.5)


NO_RETRY = RetryPolicy(max_attempts=1)


def _retry_after(response: httpx.Response | None) -> float | None:
    if response is None:
        return None
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def is_ingress_error(response: httpx.Response) -> bool:
    """A 502/503/504 from the gateway rather than the app: no request id, not a user start timeout."""
    return (
        response.status_code in INGRESS_STATUS
        and "x-fal-request-id" not in response.headers
        and "x-fal-request-timeout-type" not in response.headers
    )


def should_retry_response(response: httpx.Response) -> bool:
    return response.status_code in RETRY_STATUS or is_ingress_error(response)


def should_retry_error(exc: Exception, *, idempotent: bool) -> bool:
    """Transport errors are retried; for a non-idempotent call only those that prove nothing was sent."""
    if not isinstance(exc, httpx.TransportError):
        return False
    return idempotent or isinstance(exc, NOT_SENT)


async def send_with_retry(
    send: Callable[[], Awaitable[httpx.Response]], policy: RetryPolicy, *, idempotent: bool = True
) -> httpx.Response:
    """``await send()`` until it succeeds, gives a non-retryable reply, or the policy is used up.

    Returns the last response (which may be an error for the caller to raise); re-raises the last
    transport error.
    """
    started = policy.clock()
    attempt = 0
    while True:
        attempt += 1
        response: httpx.Response | None = None
        try:
            response = await send()
        except httpx.TransportError as exc:
            if not should_retry_error(exc, idempotent=idempotent) or not _may_retry(policy, attempt, started):
                raise
        else:
            if not should_retry_response(response) or not _may_retry(policy, attempt, started):
                return response
            await response.aclose()
        await policy.sleep(policy.delay(attempt, response))


def _may_retry(policy: RetryPolicy, attempt: int, started: float) -> bool:
    return attempt < policy.max_attempts and policy.clock() - started < policy.max_elapsed
