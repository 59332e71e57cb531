"""Glue between the client and a run history (:mod:`falstudio.client.recorder`): find it, feed it off the loop."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._internal.redact import redact
from . import errors
from .recorder import WRITER, FinalState, Finished, Recorder, Submitted, Via, default_recorder

if TYPE_CHECKING:
    import concurrent.futures

    from falstudio.endpoints import CostEstimate

    from .results import Result


def resolve_recorder(history: bool | Recorder | None) -> Recorder | None:
    """``True``: the default recorder (falstudio's history, registered by ``falstudio`` at import)."""
    if history is None or history is False:
        return None
    if history is True:
        return default_recorder()
    return history


def _safely(call: Callable[[Any], None], event: Submitted | Finished) -> None:
    try:
        call(event)
    except Exception as exc:
        warnings.warn(
            f"falstudio: could not record request {event.request_id} in the run history: {type(exc).__name__}: {exc}",
            RuntimeWarning,
            stacklevel=2,
        )


async def record_submitted(
    recorder: Recorder | None,
    *,
    endpoint: str,
    request_id: str,
    request: Any,
    base_url: str,
    mode: Any,
    cost: CostEstimate | None,
    via: Via = "queue",
) -> None:
    """Hand the submission to the recorder and wait until it is durable (on the writer thread, not the loop)."""
    if recorder is None:
        return
    sync_mode = request.get("sync_mode") if isinstance(request, Mapping) else getattr(request, "sync_mode", False)
    event = Submitted(
        endpoint=endpoint,
        request_id=request_id,
        request=redact(request) or {},
        base_url=base_url,
        mode=mode,
        submitted_at=time.time(),
        sync_mode=bool(sync_mode),
        cost_estimate=str(cost) if cost else None,
        cost_amount=str(cost.amount) if cost else None,
        via=via,
    )
    await asyncio.wrap_future(WRITER.submit(lambda: _safely(recorder.submitted, event)))


def record_finished(
    recorder: Recorder | None,
    endpoint: str,
    request_id: str,
    state: FinalState,
    *,
    result: Result | None = None,
    error: str | None = None,
    error_type: str | None = None,
) -> concurrent.futures.Future[None] | None:
    """Queue how a request ended; the writer thread fetches the images (once: the result keeps them) and their
    shared thumbnails, then tells the recorder. Returns at once."""
    if recorder is None:
        return None
    finished_at = time.time()

    def work() -> None:
        images: list[bytes] = []
        thumbnails: list[tuple[bytes, str] | None] = []
        if result is not None:
            try:
                images = [image.bytes() for image in result.images]
            except errors.FalError as exc:
                warnings.warn(f"falstudio: images of {request_id} not recorded: {exc}", RuntimeWarning, stacklevel=1)
                images = []
            for image in result.images[: len(images)]:
                try:
                    thumbnails.append(image.thumbnail())
                except (OSError, ValueError):  # not an image Pillow reads: the history shows it without a preview
                    thumbnails.append(None)
        event = Finished(
            endpoint=endpoint,
            request_id=request_id,
            state=state,
            finished_at=finished_at,
            output=result.data if result is not None else None,
            images=images,
            thumbnails=thumbnails,
            error=error,
            error_type=error_type,
            queue_seconds=result.queue_seconds if result else None,
            inference_seconds=result.inference_seconds if result else None,
        )
        _safely(recorder.finished, event)

    return WRITER.submit(work)
