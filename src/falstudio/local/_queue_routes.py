"""fal's queue API (``queue.fal.run``) and sync API (``fal.run``, here under ``/run``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from falstudio import endpoints

from ._backend import Backend
from ._http import HTTPException, Routes, backend_of, base_url, fal_error, json_body, require_key, validation_detail
from ._loaded import offline_limits
from .jobs import CANCELLED_MESSAGE, PRIORITIES, Job

PING_SECONDS = 15.0
_TRUE = ("1", "true", "True", "yes")

router = Routes()
api = Routes(guard=require_key)


@router.route("/", ["GET", "HEAD"])
async def index(request: Request) -> dict[str, Any]:
    """What this server is, for a human opening its URL (no key needed, nothing secret)."""
    return {
        "server": "falstudio local fal-compatible server (offline engines, no model)",
        "queue": f"{base_url(request)}/{{endpoint_id}}",
        "run": f"{base_url(request)}/run/{{endpoint_id}}",
        "endpoints": list(endpoints.REGISTRY),
        "loaded": [s.id for s in endpoints.specs() if s.id not in endpoints.REGISTRY],  # typed from fal's schema
        "auth": "Authorization: Key <key printed when the server started>",
    }


async def _spec(endpoint_id: str) -> endpoints.EndpointSpec:
    """The registered spec, else one typed from fal's schema through the same loader and disk cache the client
    uses (so an endpoint the client loaded is served offline); 404 when there is none, or it is not for images."""
    spec = endpoints.REGISTRY.get(endpoint_id)
    why = ""
    if spec is None:
        try:
            spec = await asyncio.to_thread(endpoints.get, endpoint_id)  # the loader may read a file or fetch
        except endpoints.EndpointSchemaError as exc:
            why = f" (not typed from fal's schema either: {exc.reason})"
        except endpoints.UnknownEndpointError:
            pass
    if spec is None:
        parts = endpoint_id.split("/")
        app = parts[1] if len(parts) > 1 else endpoint_id
        siblings = [e for e in endpoints.REGISTRY if e.split("/")[:2] == parts[:2]]
        if siblings:
            raise HTTPException(
                404, f'Endpoint "{endpoint_id}" not found; application "{app}" has: {", ".join(siblings)}{why}'
            )
        raise HTTPException(404, f'Application "{app}" not found{why}')
    if spec.kind == "other":
        raise HTTPException(
            404,
            f'Endpoint "{endpoint_id}" is a {spec.category or "non-image"} endpoint; this offline server draws images '
            "only (text-to-image and image-to-image)",
        )
    return spec


async def new_job(request: Request, endpoint_id: str, webhook: str | None = None, *, stream: bool = False) -> Job:
    """Validate the body against the endpoint's model and queue a job (422 / 404 on bad input)."""
    backend = backend_of(request)
    spec = await _spec(endpoint_id)
    body = await json_body(request, backend.settings.max_upload_bytes)
    try:
        model = spec.validate(body) if isinstance(body, dict) else spec.input_model.model_validate(body)
    except ValidationError as exc:
        raise HTTPException(422, validation_detail(exc)) from None
    too_much = offline_limits(spec, model)
    if too_much:
        raise HTTPException(422, too_much)
    if webhook is not None:
        problem = backend.webhook_problem(webhook)
        if problem:
            raise HTTPException(422, [{"loc": ["query", "fal_webhook"], "msg": problem, "type": "value_error"}])
    job = Job(
        request.state.fal_request_id,
        spec.id,
        model,
        base_url(request),
        webhook_url=webhook,
        stream=stream,
        priority=_priority(request),
        start_timeout=_start_timeout(request),
    )
    backend.queue.submit(job)
    return job


def _header_error(name: str, message: str) -> HTTPException:
    return HTTPException(422, [{"loc": ["header", name], "msg": message, "type": "value_error"}])


def _priority(request: Request) -> str:
    value = request.headers.get("x-fal-queue-priority", "normal").strip().lower()
    if value not in PRIORITIES:
        raise _header_error("x-fal-queue-priority", f"must be one of {', '.join(PRIORITIES)}, got {value!r}")
    return value


def _start_timeout(request: Request) -> float | None:
    """``X-Fal-Request-Timeout``: seconds the request may wait to start (fal's minimum: more than 0.1 s)."""
    raw = request.headers.get("x-fal-request-timeout")
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0.1 or seconds == float("inf"):
        raise _header_error("x-fal-request-timeout", f"must be a number of seconds > 0.1, got {raw!r}")
    return seconds


def _result(job: Job, typed_cancellation: bool = True) -> JSONResponse:
    if not job.finished:
        return JSONResponse({"detail": "Request is still in progress"}, status_code=400)
    if job.output is not None:
        # fal says what it billed, in the endpoint's unit: offline, one unit an image (never a price)
        images = job.output.get("images")
        units = len(images) if isinstance(images, list) else 1
        return JSONResponse(job.output, headers={"x-fal-billable-units": str(units)})
    if job.cancelled and not typed_cancellation:  # like fal: the words say it, no error_type
        return JSONResponse({"detail": CANCELLED_MESSAGE}, status_code=job.error_status or 400)
    timed_out = {"x-fal-request-timeout-type": job.timeout_type} if job.timeout_type else None
    return fal_error(job.error_status or 500, job.error_body, job.error_type, timed_out)


@api.post("/run/{endpoint_id:path}")
async def run(request: Request, endpoint_id: str) -> Response:
    """Like ``fal.run``: the model output in the response, no queue round trips."""
    job = await new_job(request, endpoint_id.strip("/"))
    await job.wait_done()
    return _result(job, backend_of(request).settings.typed_cancellation)


def _job(backend: Backend, app_path: str, request_id: str) -> Job | None:
    """The job, if ``app_path`` is its ``owner/app`` or its full endpoint id (both are accepted)."""
    job = backend.queue.get(request_id)
    if job is None or app_path.strip("/") not in (job.app_path, job.endpoint_id):
        return None
    return job


def _found(request: Request, app_path: str, request_id: str) -> Job:
    job = _job(backend_of(request), app_path, request_id)
    if job is None:
        raise HTTPException(404, f'Request "{request_id}" not found')
    return job


@api.get("/{app_path:path}/requests/{request_id}/status/stream")
async def status_stream(request: Request, app_path: str, request_id: str) -> Response:
    job = _found(request, app_path, request_id)
    backend = backend_of(request)
    with_logs = request.query_params.get("logs") in _TRUE
    drop = backend.settings.faults.roll(backend.settings.faults.drop_sse)
    return StreamingResponse(
        _events(backend, job, with_logs, drop), media_type="text/event-stream", headers={"cache-control": "no-cache"}
    )


async def _events(backend: Backend, job: Job, with_logs: bool, drop: bool) -> AsyncIterator[str]:
    """Status events on every change (new log lines only, as fal sends them); ends after COMPLETED."""
    sent_logs = 0
    last: tuple[Any, ...] | None = None
    while not backend.closing:
        version = job.version
        position = backend.queue.position(job)
        state = (job.status, position, len(job.logs))
        if state != last:
            if drop and (job.finished or last is not None):
                return  # injected fault: the stream breaks before the final event
            body = job.status_body(
                position=position,
                with_logs=with_logs,
                logs_since=sent_logs,
                typed_cancellation=backend.settings.typed_cancellation,
            )
            yield f"data: {json.dumps(body)}\n\n"
            sent_logs, last = len(job.logs), state
        if job.finished:
            return
        if not await job.wait_changed(version, PING_SECONDS):
            yield ": ping\n\n"


@api.get("/{app_path:path}/requests/{request_id}/status")
@api.get("/{app_path:path}/requests/{request_id}/status/")
async def status(request: Request, app_path: str, request_id: str) -> JSONResponse:
    job = _found(request, app_path, request_id)
    backend = backend_of(request)
    with_logs = request.query_params.get("logs") in _TRUE
    body = job.status_body(
        position=backend.queue.position(job),
        with_logs=with_logs,
        typed_cancellation=backend.settings.typed_cancellation,
    )
    return JSONResponse(body, status_code=200 if job.finished else 202)


@api.get("/{app_path:path}/requests/{request_id}")
@api.get("/{app_path:path}/requests/{request_id}/")
async def result(request: Request, app_path: str, request_id: str) -> JSONResponse:
    return _result(_found(request, app_path, request_id), backend_of(request).settings.typed_cancellation)


@api.put("/{app_path:path}/requests/{request_id}/cancel")
async def cancel(request: Request, app_path: str, request_id: str) -> JSONResponse:
    backend = backend_of(request)
    job = _job(backend, app_path, request_id)
    if job is None:
        return JSONResponse({"status": "NOT_FOUND"}, status_code=404)
    if backend.queue.cancel(job):
        return JSONResponse({"status": "CANCELLATION_REQUESTED"}, status_code=202)
    return JSONResponse({"status": "ALREADY_COMPLETED"}, status_code=400)


@api.post("/{endpoint_id:path}")
async def submit(request: Request, endpoint_id: str) -> JSONResponse:
    """Queue a request: ``{request_id, response_url, status_url, cancel_url, queue_position, status}``."""
    endpoint_id = endpoint_id.strip("/")
    if "/requests/" in f"/{endpoint_id}/":
        raise HTTPException(405, "Method Not Allowed")
    backend = backend_of(request)
    limit = request.query_params.get("fal_max_queue_length")
    if limit is not None and not limit.isdigit():
        raise HTTPException(
            422,
            [
                {
                    "loc": ["query", "fal_max_queue_length"],
                    "type": "int_parsing",
                    "msg": f"fal_max_queue_length must be a whole number >= 0, got {limit!r}",
                }
            ],
        )
    if limit is not None and backend.queue.waiting >= int(limit):
        return fal_error(
            429,
            {"detail": f"Queue is longer than fal_max_queue_length={limit}", "error_type": "queue_full"},
            "queue_full",
        )
    job = await new_job(request, endpoint_id, webhook=request.query_params.get("fal_webhook"))
    position = backend.queue.position(job)
    return JSONResponse({"request_id": job.id, **job.urls(), "queue_position": position or 0, "status": job.status})


router.routes.extend(api.routes)
