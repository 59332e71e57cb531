"""Glue between the client and a run history (:mod:`falstudio.client._recorder`): find it, feed it safely."""

from __future__ import annotations

import asyncio
import re
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from falstudio.endpoints import REDACTED, RequestModel

from . import errors
from .recorder import FinalState, Finished, Recorder, Submitted

if TYPE_CHECKING:
    from ._handles import AsyncRequestHandle
    from .results import Result

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


async def notify(recorder: Recorder | None, event: Submitted | Finished) -> None:
    """Hand ``event`` to the recorder off the event loop; a failure becomes a warning, never an error."""
    if recorder is None:
        return
    method = recorder.submitted if isinstance(event, Submitted) else recorder.finished
    try:
        await asyncio.to_thread(method, event)  # type: ignore[arg-type]
    except Exception as exc:
        warnings.warn(
            f"falstudio: could not record request {event.request_id} in the run history: {type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )


async def record_submitted(recorder: Recorder | None, handle: AsyncRequestHandle) -> None:
    if recorder is None:
        return
    request, cost, client = handle.request, handle.cost, handle.client
    sync_mode = request.get("sync_mode") if isinstance(request, Mapping) else getattr(request, "sync_mode", False)
    await notify(
        recorder,
        Submitted(
            endpoint=handle.endpoint,
            request_id=handle.request_id,
            request=redact(request) or {},
            base_url=client.base_url,
            mode=client.mode,
            submitted_at=time.time(),
            sync_mode=bool(sync_mode),
            cost_estimate=str(cost) if cost else None,
            cost_amount=str(cost.amount) if cost else None,
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
        ),
    )
