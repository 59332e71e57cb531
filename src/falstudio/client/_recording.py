"""Glue between the client and a run history (:mod:`falstudio.client.recorder`): find it, feed it off the loop."""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from . import errors
from .recorder import (
    MEDIA,
    WRITER,
    FinalState,
    Finished,
    Mode,
    Recorder,
    Sending,
    Submitted,
    Unanswered,
    Via,
    calling,
    default_recorder,
)

if TYPE_CHECKING:
    import concurrent.futures

    from falstudio.endpoints import CostEstimate

    from ._billed import BilledUnits
    from .results import Result

Event = Sending | Submitted | Unanswered | Finished
SUBMITTED_AFTER = 3.0  # seconds a submission the spend journal names waits before its record is written
_METHODS: dict[type[Event], str] = {
    Sending: "sending",
    Submitted: "submitted",
    Unanswered: "unanswered",
    Finished: "finished",
}


def resolve_recorder(history: bool | Recorder | None) -> Recorder | None:
    """``True``: the default recorder (falstudio's history, registered by ``falstudio`` at import)."""
    if history is None or history is False:
        return None
    if history is True:
        return default_recorder()
    return history


def _deliver(recorder: Recorder, event: Event) -> bool:
    """Hand ``event`` to the recorder (on the writer thread); False when it was not recorded (the recorder lacks
    that optional method, or failed: a failure becomes a warning, never an error)."""
    method: Callable[[Any], object] | None = getattr(recorder, _METHODS[type(event)], None)
    if method is None:
        return False
    try:
        with calling(recorder):
            method(event)
    except Exception as exc:
        what = f"request {event.request_id}" if isinstance(event, Submitted | Finished) else "a request"
        warnings.warn(
            f"falstudio: could not record {what} to {event.endpoint} in the run history: {type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True


async def _durably(recorder: Recorder, event: Event) -> bool:
    """Deliver ``event`` on the writer thread (after everything queued before it) and wait until it is done."""
    recorded: list[bool] = []
    await asyncio.wrap_future(WRITER.submit(lambda: recorded.append(_deliver(recorder, event)), _key(event)))
    return bool(recorded and recorded[0])


def _key(event: Event) -> str | None:
    """What keeps one request's records in order on the writer threads: the intent they share."""
    return getattr(event, "intent_id", None) or None


def _sync_mode(redacted: Mapping[str, Any]) -> bool:
    return bool(redacted.get("sync_mode"))


def _cost_text(cost: CostEstimate | None) -> tuple[str | None, str | None]:
    """``(estimate in words, amount)``; no amount for an unknown price."""
    return (str(cost) if cost else None, str(cost.amount) if cost and cost.known else None)


def _billed_text(billed: BilledUnits | None) -> tuple[str | None, str | None]:
    return (str(billed.units) if billed else None, billed.unit if billed else None)


def record_sending(
    recorder: Recorder | None,
    *,
    endpoint: str,
    redacted: dict[str, Any],
    base_url: str,
    mode: Mode,
    cost: CostEstimate | None,
    via: Via = "queue",
    intent_id: str | None = None,
) -> str | None:
    """Record a request (``redacted``: its copy without secrets) before it is sent, under ``intent_id`` (default: a
    new one); its intent id, or None when nothing recorded it.

    Written on the calling thread (the loop), not handed to a writer thread: a thread waits for the loop's turn at
    the interpreter each time it comes back from a system call, and a busy loop held a sweep's first requests back
    by tens of milliseconds that way. The recorder writes it at once and puts it on disk later (see
    :class:`~falstudio.client.recorder.Recorder`).
    """
    if recorder is None:
        return None
    intent_id = intent_id or uuid.uuid4().hex
    estimate, amount = _cost_text(cost)
    event = Sending(
        endpoint=endpoint,
        intent_id=intent_id,
        request=redacted,
        base_url=base_url,
        mode=mode,
        sent_at=time.time(),
        writer=f"{socket.gethostname()}:{os.getpid()}",
        sync_mode=_sync_mode(redacted),
        via=via,
        cost_estimate=estimate,
        cost_amount=amount,
    )
    return intent_id if _deliver(recorder, event) else None


async def record_unanswered(
    recorder: Recorder | None, endpoint: str, intent_id: str | None, failure: BaseException
) -> None:
    """Say what became of a request recorded by :func:`record_sending` that got no usable reply."""
    if recorder is not None and intent_id is not None:
        await _durably(recorder, _unanswered(endpoint, intent_id, failure))


def record_unanswered_now(
    recorder: Recorder | None, endpoint: str, intent_id: str | None, failure: BaseException
) -> None:
    """:func:`record_unanswered` without waiting (the task is being cancelled): queued in order, written soon."""
    if recorder is not None and intent_id is not None:
        event = _unanswered(endpoint, intent_id, failure)
        WRITER.submit(lambda: _deliver(recorder, event), intent_id)


def record_cancelled_unanswered(recorder: Recorder | None, endpoint: str, intent_id: str | None) -> None:
    """A streamed run whose connection the client closed before any reply: recorded ``cancelled`` (queued after
    whatever the interrupted send recorded)."""
    if recorder is not None and intent_id is not None:
        reason = "cancelled: the connection was closed before the server answered (fal cancels such a run)"
        event = Unanswered(endpoint, intent_id, may_have_run=False, reason=reason, cancelled=True)
        WRITER.submit(lambda: _deliver(recorder, event), intent_id)


def _unanswered(endpoint: str, intent_id: str, failure: BaseException) -> Unanswered:
    if isinstance(failure, errors.FalError):
        reason = f"{type(failure).__name__}: {failure.message}"
    else:
        reason = "the call was interrupted while the request was being sent"
    return Unanswered(endpoint, intent_id, may_have_run=may_have_run(failure), reason=reason)


def may_have_run(failure: BaseException) -> bool:
    """Whether the server may have taken a request whose call failed with ``failure``: not after a refusal
    (HTTP 4xx) or a failure to connect; yes after a gateway error, a lost reply or an interruption."""
    import httpx

    if isinstance(failure, errors.NetworkError):
        return not isinstance(failure.__cause__, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    if isinstance(failure, errors.FalError):
        return failure.status_code is None or failure.status_code >= 500
    return True


async def record_submitted(
    recorder: Recorder | None,
    *,
    endpoint: str,
    request_id: str,
    redacted: dict[str, Any],
    base_url: str,
    mode: Mode,
    cost: CostEstimate | None,
    via: Via = "queue",
    billed: BilledUnits | None = None,
    intent_id: str | None = None,
    wait: bool = True,
) -> None:
    """Hand the submission (``redacted``: the request without secrets) to the recorder, on the writer thread,
    not the loop; with ``wait``, return once it is written.

    ``intent_id``: the :func:`record_sending` record this completes (written before it, either way). Without
    ``wait`` (the spend journal already names the request, for a resume), it is held back for
    :data:`SUBMITTED_AFTER` seconds: a request that ends sooner has its end recorded in the early record's place
    instead, and the writes of a record that would stand for a moment (the record, its sync, the early one's
    removal) are never made. :func:`flush` writes what is held.
    """
    if recorder is None:
        return
    estimate, amount = _cost_text(cost)
    units, unit = _billed_text(billed)
    event = Submitted(
        endpoint=endpoint,
        request_id=request_id,
        request=redacted,
        base_url=base_url,
        mode=mode,
        submitted_at=time.time(),
        sync_mode=_sync_mode(redacted),
        via=via,
        intent_id=intent_id,
        cost_estimate=estimate,
        cost_amount=amount,
        billed_units=units,
        billed_unit=unit,
    )
    if wait:
        await _durably(recorder, event)
    elif intent_id:
        WRITER.hold(lambda: _deliver(recorder, event), intent_id)
        asyncio.get_running_loop().call_later(SUBMITTED_AFTER, WRITER.release, intent_id)
    else:
        WRITER.submit(lambda: _deliver(recorder, event), _key(event))


def record_submitted_now(intent_id: str | None) -> None:
    """Write at once the submission held back under ``intent_id``, if it still is (its request will not end in
    this process: a record of how it ended will not take its place)."""
    if intent_id:
        WRITER.release(intent_id)


def record_finished(
    recorder: Recorder | None,
    endpoint: str,
    request_id: str,
    state: FinalState,
    *,
    result: Result | None = None,
    error: str | None = None,
    error_type: str | None = None,
    cost: CostEstimate | None = None,
    billed: BilledUnits | None = None,
    intent_id: str | None = None,
) -> concurrent.futures.Future[None] | None:
    """Queue how a request ended; returns at once. On the history's media thread, once the request's records
    queued before it (under ``intent_id``, its :func:`record_sending` record's) are written, the images are
    fetched (not kept by the result: the history stores them and lets them go) and the recorder told, with the
    thumbnails a view already made (the history makes the others when shown). ``billed`` counts only for a
    done one."""
    if recorder is None:
        return None
    finished_at = time.time()
    estimate, amount = _cost_text(cost)
    units, unit = _billed_text(billed if state == "done" else None)
    in_place = intent_id is not None and WRITER.drop(intent_id)  # its submission never written: this takes its place
    records_before = WRITER.last(intent_id) if intent_id else None  # its submission, if not written yet

    def work() -> None:
        images: list[bytes] = []
        if result is not None:
            try:
                images = [image.bytes(keep=False) for image in result.images]
            except errors.FalError as exc:
                warnings.warn(f"falstudio: images of {request_id} not recorded: {exc}", RuntimeWarning, stacklevel=1)
                images = []
        event = Finished(
            endpoint=endpoint,
            request_id=request_id,
            state=state,
            finished_at=finished_at,
            output=result.data if result is not None else None,
            images=images,
            thumbnails=[image.shared_thumbnail for image in result.images[: len(images)]] if result else [],
            error=error,
            error_type=error_type,
            queue_seconds=result.queue_seconds if result else None,
            inference_seconds=result.inference_seconds if result else None,
            cost_estimate=estimate,
            cost_amount=amount,
            billed_units=units,
            billed_unit=unit,
            intent_id=intent_id if in_place else None,
        )
        if records_before is not None:
            records_before.result()
        _deliver(recorder, event)

    return MEDIA.submit(work)
