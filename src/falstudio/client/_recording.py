"""Glue between the client and a run history (:mod:`falstudio.client._recorder`): find it, feed it safely."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
import uuid
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from falstudio.endpoints import REDACTED, CostEstimate, RequestModel

from .._recorder import FinalState, Finished, Recorder, Sending, Submitted, Unanswered
from . import errors

if TYPE_CHECKING:
    from ._async import AsyncClient
    from ._handles import AsyncRequestHandle
    from .results import Result

Event = Sending | Submitted | Unanswered | Finished
_METHODS = {Sending: "sending", Submitted: "submitted", Unanswered: "unanswered", Finished: "finished"}

_SECRET_NAME = re.compile(r"key|secret|token|password", re.IGNORECASE)


def resolve_recorder(history: bool | Recorder | None) -> Recorder | None:
    """``True``: falstudio.history's default recorder (None if that module is missing or fails)."""
    if history is None or history is False:
        return None
    if history is not True:
        return history
    try:
        from falstudio.history import default_recorder  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        return default_recorder()  # type: ignore[no-any-return]
    except Exception as exc:  # a broken history must not break the client
        warnings.warn(f"falstudio: run history disabled: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)
        return None


def redact(value: Any) -> Any:
    """A JSON-safe copy of a request with secrets replaced by ``***``.

    Typed requests use their own ``redacted()``; in plain dicts every key named like key / secret /
    token / password is replaced, at any depth.
    """
    if isinstance(value, RequestModel):
        return value.redacted()
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if isinstance(k, str) and _SECRET_NAME.search(k) and v is not None else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


async def notify(recorder: Recorder | None, event: Event) -> bool:
    """Hand ``event`` to the recorder off the event loop; False when it was not recorded (the recorder lacks
    that optional method, or failed: a failure becomes a warning, never an error)."""
    method = getattr(recorder, _METHODS[type(event)], None)
    if method is None:
        return False
    try:
        await asyncio.to_thread(method, event)
    except Exception as exc:
        warnings.warn(
            f"falstudio: could not record a request to {event.endpoint} in the run history: "
            f"{type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    return True


async def record_sending(
    recorder: Recorder | None, client: AsyncClient, endpoint: str, request: Any, cost: CostEstimate | None
) -> str | None:
    """Record a request before it is sent; its intent id, or None when nothing recorded it."""
    if recorder is None:
        return None
    intent_id = uuid.uuid4().hex
    event = Sending(
        endpoint=endpoint,
        intent_id=intent_id,
        request=redact(request) or {},
        base_url=client.base_url,
        mode=client.mode,
        sent_at=time.time(),
        writer=f"{socket.gethostname()}:{os.getpid()}",
        sync_mode=_sync_mode(request),
        cost_estimate=str(cost) if cost else None,
        cost_amount=str(cost.amount) if cost else None,
    )
    return intent_id if await notify(recorder, event) else None


async def record_unanswered(
    recorder: Recorder | None, endpoint: str, intent_id: str | None, failure: BaseException
) -> None:
    """Say what became of a request recorded by :func:`record_sending` that got no usable reply."""
    if recorder is not None and intent_id is not None:
        await notify(recorder, _unanswered(endpoint, intent_id, failure))


def record_unanswered_now(
    recorder: Recorder | None, endpoint: str, intent_id: str | None, failure: BaseException
) -> None:
    """:func:`record_unanswered` without the event loop (the task is being cancelled); never raises."""
    method = getattr(recorder, "unanswered", None)
    if method is not None and intent_id is not None:
        try:
            method(_unanswered(endpoint, intent_id, failure))
        except Exception:  # the history's own warning, if any, has been given
            pass


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


def _sync_mode(request: Any) -> bool:
    value = request.get("sync_mode") if isinstance(request, Mapping) else getattr(request, "sync_mode", False)
    return bool(value)


async def record_submitted(
    recorder: Recorder | None, handle: AsyncRequestHandle, *, intent_id: str | None = None
) -> None:
    if recorder is None:
        return
    request, cost, client = handle.request, handle.cost, handle.client
    await notify(
        recorder,
        Submitted(
            endpoint=handle.endpoint,
            request_id=handle.request_id,
            request=redact(request) or {},
            base_url=client.base_url,
            mode=client.mode,
            submitted_at=time.time(),
            sync_mode=_sync_mode(request),
            cost_estimate=str(cost) if cost else None,
            cost_amount=str(cost.amount) if cost and cost.known else None,
            billed_units=str(handle.billed.units) if handle.billed else None,
            billed_unit=handle.billed.unit if handle.billed else None,
            intent_id=intent_id,
        ),
    )


async def record_finished(
    recorder: Recorder | None,
    handle: AsyncRequestHandle,
    state: FinalState,
    *,
    result: Result | None = None,
    error: str | None = None,
    error_type: str | None = None,
) -> None:
    """Tell the recorder how a request ended; with the result's image bytes (downloaded once, kept on it)."""
    if recorder is None:
        return
    billed = handle.billed if state == "completed" else None
    images: list[bytes] = []
    if result is not None:
        try:
            images = list(await asyncio.gather(*(image.abytes() for image in result.images)))
        except errors.FalError as exc:
            warnings.warn(f"falstudio: images of {handle.request_id} not recorded: {exc}", RuntimeWarning, stacklevel=2)
    await notify(
        recorder,
        Finished(
            endpoint=handle.endpoint,
            request_id=handle.request_id,
            state=state,
            finished_at=time.time(),
            output=result.data if result is not None else None,
            images=images,
            error=error,
            error_type=error_type,
            queue_seconds=result.queue_seconds if result else None,
            inference_seconds=result.inference_seconds if result else None,
            cost_estimate=str(handle.cost) if handle.cost else None,
            cost_amount=str(handle.cost.amount) if handle.cost and handle.cost.known else None,
            billed_units=str(billed.units) if billed else None,
            billed_unit=billed.unit if billed else None,
        ),
    )
