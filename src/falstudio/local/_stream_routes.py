"""fal's streaming endpoints (``POST https://fal.run/{id}/stream``), here under ``/run/{id}/stream``.

Server-sent events, one ``data:`` JSON per event: the partial images as the picture forms (2 or 3, coarse to
fine, spread over the simulated run time), then the output itself; the server closes the stream. Closing the
connection cancels the run. An endpoint the registry does not mark as streaming answers 405, as a request
that fails before its first event answers with its error (like ``/run``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse

from falstudio import endpoints

from ._backend import Backend
from ._http import backend_of, fal_error, require_key
from ._queue_routes import new_job
from .jobs import Job

PING_SECONDS = 15.0

router = APIRouter(dependencies=[Depends(require_key)])


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
        await job.wait_changed(job.version, PING_SECONDS)
    if job.finished and job.output is None and not job.partials:
        return fal_error(job.error_status or 500, job.error_body, job.error_type)
    return StreamingResponse(
        _events(backend, job), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


async def _events(backend: Backend, job: Job) -> AsyncIterator[str]:
    sent = 0
    try:
        while not backend.closing:
            version = job.version
            for event in job.partials[sent:]:
                yield f"data: {json.dumps(event)}\n\n"
            sent = len(job.partials)
            if job.finished:
                body = job.output if job.output is not None else job.error_body
                if body is not None:
                    yield f"data: {json.dumps(body)}\n\n"
                return
            if not await job.wait_changed(version, PING_SECONDS):
                yield ": ping\n\n"
    finally:
        if not job.finished:  # the client closed the stream (or the server is stopping): the run is cancelled
            backend.queue.cancel(job)
