"""fal's streaming endpoints (``POST https://fal.run/{id}/stream``), here under ``/run/{id}/stream``.

Server-sent events, one ``data:`` JSON per event: the partial images as the picture forms (2 or 3, coarse to
fine, spread over the simulated run time), then the output itself; the server closes the stream. Closing the
connection cancels the run, whether it is still queued or running. An endpoint the registry does not mark as
streaming answers 405, as a request that fails before its first event answers with its error (like ``/run``).

No fal source documents GPT Image 2's event shapes, so the server speaks each dialect seen in the wild
(``Settings.stream_dialect``): ``fal`` (``image.partial`` events with ``image: {b64_json...}``, then the output
``{"images": [...]}``), ``image`` (the output as one ``{"image": {...}}``), ``completed`` (one
``image.completed`` event with ``b64_json`` per image, then ``data: [DONE]``, which fal_client cannot parse)
and ``openai`` (OpenAI's ``image_generation.partial_image`` / ``image_generation.completed`` passed through).
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from falstudio import endpoints
from falstudio._internal.images import decode_data_uri

from ._backend import Backend
from ._http import HTTPException, Routes, backend_of, fal_error, require_key
from ._queue_routes import new_job
from .jobs import Job

PING_SECONDS = 15.0
WATCH_SECONDS = 0.2  # how often a request still waiting for its first event checks that its client is there

router = Routes(guard=require_key)


@router.post("/run/{endpoint_id:path}/stream")
async def stream(request: Request, endpoint_id: str) -> Response:
    endpoint_id = endpoint_id.strip("/")
    spec = endpoints.find(endpoint_id)
    if spec is not None and not spec.streaming:
        raise HTTPException(
            405, f"{endpoint_id} does not stream; call POST /run/{endpoint_id}, or submit it to the queue"
        )
    job = await new_job(request, endpoint_id, stream=True)  # unknown endpoints: 404, bad input: 422
    backend = backend_of(request)
    while not job.partials and not job.finished:  # an error before the first event is an HTTP error
        await job.wait_changed(job.version, WATCH_SECONDS)
        if await request.is_disconnected():  # the client hung up while it waited: queued or running, dropped
            backend.queue.cancel(job)
            return Response(status_code=499)
    if job.finished and job.output is None and not job.partials:
        return fal_error(job.error_status or 500, job.error_body, job.error_type)
    return StreamingResponse(
        _events(backend, job), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


async def _events(backend: Backend, job: Job) -> AsyncIterator[str]:
    sent = 0
    dialect = backend.settings.stream_dialect
    try:
        while not backend.closing:
            version = job.version
            for event in job.partials[sent:]:
                yield _data(_partial(event, dialect))
            sent = len(job.partials)
            if job.finished:
                if job.output is not None:
                    for event in _output(backend, job, job.output, dialect):
                        yield _data(event)
                    if dialect == "completed":
                        yield "data: [DONE]\n\n"
                elif job.error_body is not None:
                    yield _data(job.error_body)
                return
            if not await job.wait_changed(version, PING_SECONDS):
                yield ": ping\n\n"
    finally:
        if not job.finished:  # the client closed the stream (or the server is stopping): the run is cancelled
            backend.queue.cancel(job)


def _data(event: Any) -> str:
    return f"data: {json.dumps(event)}\n\n"


def _partial(event: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A partial-image event (made in falstudio's own ``fal`` shape) in ``dialect``."""
    if dialect != "openai":
        return event
    image = event["image"]
    return {
        "type": "image_generation.partial_image",
        "b64_json": image["b64_json"],
        "partial_image_index": image["partial_index"],
        "output_format": image["content_type"].removeprefix("image/"),
    }


def _output(backend: Backend, job: Job, output: dict[str, Any], dialect: str) -> list[dict[str, Any]]:
    """The output's events in ``dialect``."""
    images = output.get("images") or []
    if dialect == "fal" or not images:
        return [output]
    if dialect == "image":
        return [{"image": images[0], **{k: v for k, v in output.items() if k != "images"}}]
    events = []
    for image in images:
        data, content_type = _bytes_of(backend, job, image)
        shape = {"b64_json": base64.b64encode(data).decode("ascii"), "output_format": content_type.split("/")[-1]}
        if dialect == "openai":
            size = f"{image.get('width')}x{image.get('height')}"
            events.append({"type": "image_generation.completed", **shape, "size": size, "usage": output.get("usage")})
        else:
            events.append(
                {"type": "image.completed", **shape, "width": image.get("width"), "height": image.get("height")}
            )
    return events


def _bytes_of(backend: Backend, job: Job, image: dict[str, Any]) -> tuple[bytes, str]:
    url = str(image.get("url", ""))
    if url.startswith("data:"):
        return decode_data_uri(url)
    stored = backend.storage.find(url, backend.own_origins(job.base_url))
    found = backend.storage.read(stored.id) if stored is not None else None
    if found is None:
        raise RuntimeError(f"the output image {url} is not in the server's storage")
    return found[0], found[1].content_type
