"""AsyncClient: fal's queue, sync-run, streaming and storage protocol over one ``httpx.AsyncClient``.

The one implementation: the blocking :class:`~falstudio.client.Client` runs these coroutines on its loop thread.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from falstudio.endpoints import CostEstimate, EndpointSpec, RequestModel, find

from .._internal import images as _images
from . import errors
from ._batch import AsyncBatch, BatchCallback
from ._credentials import Mode, resolve
from ._handles import AsyncRequestHandle
from ._protocol import Urls, json_body, json_object
from ._recording import record_finished, record_submitted, resolve_recorder
from ._retry import RetryPolicy
from ._status import Status
from ._storage import Storage
from ._streaming import EventStream
from ._tracking import AsyncTrackedRequest, StatusHook
from ._wire import Wire
from .files import prepare_arguments
from .recorder import WRITER, Recorder
from .results import Result

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ._loop import LoopThread

Arguments = Mapping[str, Any] | RequestModel
_PRIORITIES = ("normal", "low")
_warned_endpoints: set[str] = set()


class AsyncClient:
    """Talks to fal.ai, or to any server that speaks its protocol (``base_url``), with asyncio.

    Credentials: ``key``, else ``FAL_KEY``, else ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``. With none of them and
    no ``base_url`` it uses falstudio's embedded offline server and says so once.

    One instance belongs to one event loop at a time. Used from a new loop (a second ``asyncio.run``) it
    opens new connections and leaves the old loop's to the garbage collector (``-X dev`` warns): prefer one
    client per loop, closed with ``aclose()`` or ``async with``.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 120.0,
        history: bool | Recorder | None = True,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._wire = Wire(resolve(key, base_url), timeout=timeout, retry=retry or RetryPolicy(), transport=transport)
        self._recorder = resolve_recorder(history)
        self._storage = Storage(self._wire)

    @property
    def mode(self) -> Mode:
        """``"local"`` for a loopback server (the embedded one included), ``"fal"`` otherwise."""
        return self._wire.target.mode

    @property
    def base_url(self) -> str:
        return self._wire.target.base_url

    @property
    def timeout(self) -> float:
        return self._wire.timeout

    @property
    def retry(self) -> RetryPolicy:
        return self._wire.retry

    @property
    def recorder(self) -> Recorder | None:
        """Where this client records its requests (falstudio's history by default), or None."""
        return self._recorder

    def __repr__(self) -> str:
        key = "set" if self._wire.target.key else "none"
        return f"{type(self).__name__}(mode={self.mode!r}, base_url={self.base_url!r}, key={key})"

    def bind_loop_thread(self, runner: LoopThread) -> None:
        """Used by the blocking Client that drives this one: blocking downloads go through its loop thread."""
        self._wire.runner = runner
        self._wire.prepare()  # build the httpx client (slow: TLS context) now, rather than on the loop

    async def aclose(self) -> None:
        """Close the connections, after the run history has taken everything this client finished."""
        if self._recorder is not None and not self._wire.closed:
            await asyncio.wrap_future(WRITER.submit(lambda: None))  # the writer runs in order: all before are done
        await self._wire.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- queue ---------------------------------------------------------------------------------------

    async def submit(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        webhook_url: str | None = None,
        priority: str | None = None,
        start_timeout: float | None = None,
    ) -> AsyncRequestHandle:
        """Queue a request; returns at once with a handle (``request_id``, ``status()``, ``get()``...).

        The request is in the run history (durably) by the time this returns.
        """
        spec, request = await self._prepare(endpoint, arguments)
        headers = _queue_headers(priority, start_timeout)
        params = {"fal_webhook": webhook_url} if webhook_url else None
        urls = Urls(self._wire.target.hosts, endpoint)
        response = await self._wire.send(
            "POST",
            urls.submit,
            endpoint=endpoint,
            idempotent=False,
            json=_payload(request),
            headers=headers,
            params=params,
            endpoint_note=spec.note if spec else None,
        )
        body = json_object(response, endpoint)
        request_id = body.get("request_id")
        if not isinstance(request_id, str):
            raise errors.ServerError("the submit reply has no request_id", endpoint=endpoint)
        cost = _estimate(spec, request)
        handle = AsyncRequestHandle(
            self, self._wire, endpoint, request_id, request=request, spec=spec, cost=cost, reply=body
        )
        await record_submitted(
            self._recorder,
            endpoint=endpoint,
            request_id=request_id,
            request=request,
            base_url=self.base_url,
            mode=self.mode,
            cost=cost,
        )
        return handle

    async def subscribe(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        with_logs: bool = False,
        on_enqueue: Callable[[str], object] | None = None,
        on_queue_update: StatusHook | None = None,
        client_timeout: float | None = None,
        webhook_url: str | None = None,
        priority: str | None = None,
        start_timeout: float | None = None,
    ) -> Result:
        """Submit, wait (status stream, polling as fallback) and return the typed result.

        ``on_enqueue(request_id)`` runs once queued; ``on_queue_update(status)`` on every status change
        (either may be async). Cancelling the call (KeyboardInterrupt in the sync client, task
        cancellation here) or passing ``client_timeout`` cancels the request on the server too;
        the timeout raises :class:`~falstudio.client.errors.FalTimeoutError` with the request id.
        """
        if client_timeout is not None and client_timeout <= 0:
            raise ValueError(f"client_timeout must be > 0 seconds, got {client_timeout}")
        tracked = self.track(
            endpoint,
            arguments,
            stream=False,
            with_logs=with_logs,
            on_status=on_queue_update,
            on_queued=on_enqueue,
            webhook_url=webhook_url,
            priority=priority,
            start_timeout=start_timeout,
        )
        try:
            return await asyncio.wait_for(tracked.result(cancel_on_abort=True), client_timeout)
        except asyncio.TimeoutError:
            request_id = tracked.state.request_id
            what = "the request was cancelled" if request_id else "nothing was queued"
            raise errors.FalTimeoutError(
                f"no result within client_timeout={client_timeout} s; {what}", endpoint=endpoint, request_id=request_id
            ) from None

    def track(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        stream: bool | None = None,
        with_logs: bool = True,
        on_status: StatusHook | None = None,
        on_queued: Callable[[str], object] | None = None,
        gate: asyncio.Event | None = None,
        webhook_url: str | None = None,
        priority: str | None = None,
        start_timeout: float | None = None,
    ) -> AsyncTrackedRequest:
        """Start a request and follow it: returns at once; ``async for state in tracked.watch()``.

        ``stream``: run through the endpoint's stream and report partial images (``None``: when the registry
        says the endpoint streams). A streamed run is a sync request on fal: cancelling closes the connection,
        and it cannot be fetched again by request id (no resume after a restart). Needs a running loop.
        """
        Urls(self._wire.target.hosts, endpoint)  # a malformed endpoint id fails here, at once
        _queue_headers(priority, start_timeout)  # and so do bad options
        spec = find(endpoint)
        streaming = (spec is not None and spec.streaming) if stream is None else stream
        options = {"webhook_url": webhook_url, "priority": priority, "start_timeout": start_timeout}
        tracked = AsyncTrackedRequest(
            self,
            endpoint,
            arguments=arguments,
            stream=streaming and webhook_url is None,
            with_logs=with_logs,
            queue_options={k: v for k, v in options.items() if v is not None},
            on_status=on_status,
            on_queued=on_queued,
            recorder=self._recorder,
            gate=gate,
        )
        tracked.start()
        return tracked

    def track_many(
        self,
        items: Sequence[tuple[str, Arguments]],
        *,
        concurrency: int = 4,
        stream: bool | None = None,
        with_logs: bool = True,
        on_change: BatchCallback | None = None,
        max_hz: float | None = None,
    ) -> AsyncBatch:
        """Start ``(endpoint, arguments)`` requests, at most ``concurrency`` at once; each ends on its own.

        ``on_change(index, state)`` sees each request's states (throttled to ``max_hz``); a request not yet
        started has no state. Needs a running loop.
        """
        batch = AsyncBatch(
            self,
            items,
            concurrency=concurrency,
            stream=stream,
            with_logs=with_logs,
            on_change=on_change,
            max_hz=max_hz,
        )
        batch.start()
        return batch

    def get_handle(self, endpoint: str, request_id: str) -> AsyncRequestHandle:
        """A handle for a request submitted earlier (maybe by another process)."""
        return AsyncRequestHandle(self, self._wire, endpoint, request_id, spec=find(endpoint))

    async def status(self, endpoint: str, request_id: str, *, with_logs: bool = False) -> Status:
        return await self.get_handle(endpoint, request_id).status(with_logs=with_logs)

    async def result(self, endpoint: str, request_id: str) -> Result:
        """The result of an earlier request, waiting for it to finish if needed."""
        return await self.get_handle(endpoint, request_id).get()

    async def cancel(self, endpoint: str, request_id: str) -> bool:
        """Ask the server to cancel; False when the request had already finished."""
        return await self.get_handle(endpoint, request_id).cancel()

    # -- sync run and stream --------------------------------------------------------------------------

    async def run(self, endpoint: str, arguments: Arguments) -> Result:
        """Call the endpoint synchronously (no queue): one request, held open until the output is ready."""
        spec, request = await self._prepare(endpoint, arguments)
        started = time.monotonic()
        response = await self._wire.send(
            "POST",
            Urls(self._wire.target.hosts, endpoint).run,
            endpoint=endpoint,
            idempotent=False,
            json=_payload(request),
            endpoint_note=spec.note if spec else None,
        )
        request_id = response.headers.get("x-fal-request-id", "")
        cost = _estimate(spec, request)
        handle = AsyncRequestHandle(self, self._wire, endpoint, request_id, request=request, spec=spec, cost=cost)
        recorder = self._recorder if request_id else None
        await record_submitted(
            recorder,
            endpoint=endpoint,
            request_id=request_id,
            request=request,
            base_url=self.base_url,
            mode=self.mode,
            cost=cost,
            via="run",
        )
        # No queue; the server reports no metrics on this route, so the run time is the call's wall time.
        result = handle.build_result(
            json_body(response, endpoint), queue_seconds=None, inference_seconds=time.monotonic() - started
        )
        record_finished(recorder, endpoint, request_id, "completed", result=result)
        return result

    def stream(self, endpoint: str, arguments: Arguments) -> EventStream:
        """The events of a streaming endpoint (``POST {run host}/{endpoint}/stream``), each as its JSON.

        ``async for event in client.stream(...)``; nothing is recorded in the history (``track(...,
        stream=True)`` is the recorded, typed way). Not retried once the request is sent.
        """
        return EventStream(self._wire, endpoint, lambda: self._prepare(endpoint, arguments), _payload)

    # -- storage -------------------------------------------------------------------------------------

    async def upload(self, data: bytes, content_type: str, file_name: str | None = None) -> str:
        """Store ``data`` with fal's storage and return its URL."""
        return await self._storage.upload(data, content_type, file_name)

    async def upload_file(self, path: str | os.PathLike[str]) -> str:
        file = Path(path)
        data = await asyncio.to_thread(file.read_bytes)
        guessed = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return await self.upload(data, _images.sniff_mime(data, guessed), file.name)

    async def upload_image(self, image: PILImage.Image, format: str = "png") -> str:
        fmt = format.lower().replace("jpg", "jpeg")
        return await self.upload(_images.image_bytes(image, fmt), f"image/{fmt}", f"image.{fmt}")

    async def adownload(self, url: str) -> bytes:
        return await self._wire.adownload(url)

    def download(self, url: str) -> bytes:
        """Blocking download (see :meth:`Wire.download`)."""
        return self._wire.download(url)

    async def _prepare(
        self, endpoint: str, arguments: Arguments
    ) -> tuple[EndpointSpec | None, RequestModel | dict[str, Any]]:
        Urls(self._wire.target.hosts, endpoint)  # a malformed id fails here, before any upload
        spec = find(endpoint)
        if spec is not None and spec.status != "active" and self.mode == "fal" and endpoint not in _warned_endpoints:
            _warned_endpoints.add(endpoint)
            warnings.warn(f"{endpoint} is {spec.status}: {spec.note}", errors.EndpointDeprecationWarning, stacklevel=4)
        return spec, await prepare_arguments(self, spec, arguments, endpoint=endpoint)


def _payload(request: RequestModel | Mapping[str, Any]) -> dict[str, Any]:
    return request.payload() if isinstance(request, RequestModel) else dict(request)


def _estimate(spec: EndpointSpec | None, request: Any) -> CostEstimate | None:
    if spec is None:
        return None
    try:
        return spec.estimate_cost(request)
    except Exception:  # an estimate is a nicety, never a failure
        return None


def _queue_headers(priority: str | None, start_timeout: float | None) -> dict[str, str]:
    headers = {}
    if priority is not None:
        if priority not in _PRIORITIES:
            raise ValueError(f"priority must be one of {_PRIORITIES}, got {priority!r}")
        headers["X-Fal-Queue-Priority"] = priority
    if start_timeout is not None:
        if start_timeout <= 0:
            raise ValueError(f"start_timeout must be > 0 seconds, got {start_timeout}")
        headers["X-Fal-Request-Timeout"] = str(float(start_timeout))
    return headers
