"""How a tracked request ended: its final phase, its typed error or result, and what the history records.

Cancellation is typed however the server reports it: falstudio's local server says ``error_type``; fal
answers a cancelled request's result with an error whose text says so, or (once dropped from the queue) 404.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from . import errors
from ._status import says_cancelled

if TYPE_CHECKING:
    from falstudio.endpoints import CostEstimate

    from ._billed import BilledUnits
    from ._phases import FinalPhase
    from ._settlement import Settlement
    from ._status import Completed, LogEntry, Status
    from ._streaming import EventStream, StreamReader
    from .results import Result


class QueuedRequest(Protocol):
    """What following a queued request needs of it (an :class:`~falstudio.client.AsyncRequestHandle`)."""

    endpoint: str
    request_id: str
    queue_position: int | None
    cost: CostEstimate | None
    billed: BilledUnits | None
    settlement: Settlement | None

    @property
    def cancel_requested(self) -> bool: ...

    def iter_events(
        self, *, with_logs: bool = False, interval: float | None = None
    ) -> AsyncGenerator[Status, None]: ...

    async def output(self, completed: Completed) -> Any: ...

    def build_result(self, output: Any, completed: Completed | None = None, **timings: float | None) -> Result: ...

    async def cancel(self) -> bool: ...


@dataclass(frozen=True)
class Ending:
    """A request's end. ``record``: the server confirmed it (recorded in the history, settled with the budget);
    otherwise the request may still run there. ``details``: the recorded error and error type (default: the
    error's own)."""

    phase: FinalPhase
    error: errors.FalError | None = None
    result: Result | None = None
    record: bool = True
    details: tuple[str | None, str | None] | None = None
    kept: Result | None = None  # what a run that ended without a result sent (recorded with it, never shown)


async def queued_ending(handle: QueuedRequest, completed: Completed) -> Ending:
    """How a queued request that the server reports completed ended (its result fetched if it succeeded)."""
    endpoint, request_id = handle.endpoint, handle.request_id
    if completed.cancelled:
        error = errors.RequestCancelledError(
            "the request was cancelled", endpoint=endpoint, request_id=request_id, error_type=completed.error_type
        )
        return Ending("cancelled", error, details=(completed.error, completed.error_type))
    try:
        output = await handle.output(completed)
    except errors.FalError as exc:
        if handle.cancel_requested or says_cancelled(exc.message, exc.error_type):  # fal's shape of a cancel
            error = errors.RequestCancelledError(
                "the request was cancelled",
                endpoint=endpoint,
                request_id=request_id,
                error_type=exc.error_type,
                status_code=exc.status_code,
            )
            return Ending("cancelled", error, details=(exc.message, exc.error_type))
        # recorded only when the request itself failed (not when the result could not be fetched)
        return Ending(
            "failed", exc, record=not completed.ok, details=(exc.message, exc.error_type or completed.error_type)
        )
    return Ending("done", result=handle.build_result(output, completed))


def failure_ending(exc: Exception, handle: QueuedRequest | None, endpoint: str, request_id: str | None) -> Ending:
    """A failure while submitting or following: not recorded (the request may still run on the server), except a
    request that was cancelled and then dropped from the queue (fal's 404 after a cancel)."""
    if isinstance(exc, errors.RequestNotFoundError) and handle is not None and handle.cancel_requested:
        message = "the request was cancelled (the server dropped it from its queue)"
        cancelled = errors.RequestCancelledError(message, endpoint=endpoint, request_id=handle.request_id)
        return Ending("cancelled", cancelled, details=(exc.message, exc.error_type))
    return Ending("failed", as_fal_error(exc, endpoint, request_id), record=False)


def stream_ending(
    events: EventStream, reader: StreamReader, started: float, logs: tuple[LogEntry, ...], *, recorded: bool
) -> Ending:
    """A stream that ended: its last final-shaped output is the result. Without one, the run failed, and its
    last events (and the images in them) are kept with its history record (``recorded``: there is one)."""
    facts = {
        "endpoint": events.endpoint,
        "request_id": events.request_id,
        "request": events.request,
        "downloader": events.wire,
        "inference_seconds": time.monotonic() - started,
        "cost": events.cost,
        "billed": events.billed,
        "logs": logs,
    }
    from .results import Result

    if reader.output is not None:
        return Ending("done", result=Result.build(reader.output, **facts))
    images = reader.kept_images
    count = len(reader.kept)
    if not count:
        where = "it sent no event"
    elif recorded and events.request_id:
        found = f" and the {len(images)} image(s) found in them" if images else ""
        where = (
            f"its last {count} event(s){found} are kept with its run history record "
            f"(falstudio.history(state='failed'), request id {events.request_id})"
        )
    else:
        where = f"its last {count} event(s) could not be kept (run history off)"
    error = errors.ServerError(
        f"the stream ended without a result in any shape falstudio reads; {where}",
        endpoint=events.endpoint,
        request_id=events.request_id or None,
        hint="run it again, or pass stream=False to use the queue (resumable after a restart)",
    )
    output = {"images": [image.model_dump(exclude_none=True) for image in images], "stream_events": [*reader.kept]}
    return Ending("failed", error, kept=Result.build(output, **facts) if count else None)


def as_fal_error(exc: BaseException, endpoint: str, request_id: str | None) -> errors.FalError:
    """Every failure as a FalError; anything else keeps its type and text in the message."""
    if isinstance(exc, errors.FalError):
        return exc
    wrapped = errors.FalError(f"{type(exc).__name__}: {exc}", endpoint=endpoint, request_id=request_id)
    wrapped.__cause__ = exc
    return wrapped
