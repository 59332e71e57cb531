"""AsyncClient: fal's queue, sync-run and storage protocol over one ``httpx.AsyncClient``. The one implementation."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from falstudio import __version__
from falstudio.endpoints import CostEstimate, EndpointSpec, RequestModel, find

from .._internal import images as _images
from . import errors
from ._credentials import KeyAuth, Mode, resolve
from ._handles import AsyncRequestHandle
from ._protocol import Urls, json_body, json_object
from ._recording import record_finished, record_submitted, resolve_recorder
from ._retry import RetryPolicy, send_with_retry
from ._status import Status
from ._storage import Storage
from .files import prepare_arguments
from .recorder import Recorder
from .results import Result, plain_download

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from ._loop import LoopThread

Callback = Callable[..., Any]
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
        self._target = resolve(key, base_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._recorder = resolve_recorder(history)
        self._transport = transport
        self._http_client: httpx.AsyncClient | None = None
        self._http_owner: tuple[int, asyncio.AbstractEventLoop | None] | None = None
        self._storage = Storage(self)
        self._closed = False
        self._runner: LoopThread | None = None  # set when a sync Client drives this client on its loop

    @property
    def mode(self) -> Mode:
        """``"local"`` for a loopback server (the embedded one included), ``"fal"`` otherwise."""
        return self._target.mode

    @property
    def base_url(self) -> str:
        return self._target.base_url

    def __repr__(self) -> str:
        key = "set" if self._target.key else "none"
        return f"{type(self).__name__}(mode={self.mode!r}, base_url={self.base_url!r}, key={key})"

    # -- HTTP plumbing -------------------------------------------------------------------------------

    def _new_http(self) -> httpx.AsyncClient:
        key = self._target.key
        return httpx.AsyncClient(
            auth=KeyAuth(key, self._target.hosts) if key else None,
            timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": f"falstudio/{__version__}"},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            follow_redirects=True,
            transport=self._transport,
        )

    def _prepare_http(self) -> None:
        """Build the httpx client now, unbound to any loop (its first use binds it)."""
        if self._http_client is None:
            self._http_client = self._new_http()

    def _http(self) -> httpx.AsyncClient:
        """The httpx client for the running loop (a new one after a loop change or a fork)."""
        if self._closed:
            raise RuntimeError(
                "this falstudio client is closed (close() was called or its with-block ended); create a new one"
            )
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        owner = self._http_owner
        if self._http_client is None or (owner is not None and loop is not None and owner != (os.getpid(), loop)):
            self._http_client = self._new_http()  # pooled connections are bound to their loop
            self._http_owner = None
        if loop is not None and self._http_owner is None:
            self._http_owner = (os.getpid(), loop)
        return self._http_client

    async def _send(
        self,
        method: str,
        url: str,
        *,
        endpoint: str | None,
        request_id: str | None = None,
        idempotent: bool = True,
        endpoint_note: str | None = None,
        error_type: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call with retries; non-2xx replies become typed errors, transport failures NetworkError."""
        http = self._http()
        try:
            response = await send_with_retry(
                lambda: http.request(method, url, **kwargs), self.retry, idempotent=idempotent
            )
        except httpx.TransportError as exc:
            raise errors.network_error(
                exc, url, timeout=self.timeout, endpoint=endpoint, request_id=request_id
            ) from exc
        if response.is_error:
            raise errors.from_response(
                response,
                endpoint=endpoint,
                request_id=request_id,
                endpoint_note=endpoint_note,
                error_type=error_type,
            )
        return response

    async def aclose(self) -> None:
        self._closed = True
        client, self._http_client = self._http_client, None
        if client is not None:
            await client.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- queue ---------------------------------------------------------------------------------------

    async def submit(
        self,
        endpoint: str,
        arguments: Mapping[str, Any] | RequestModel,
        *,
        webhook_url: str | None = None,
        priority: str | None = None,
        start_timeout: float | None = None,
    ) -> AsyncRequestHandle:
        """Queue a request; returns at once with a handle (``request_id``, ``status()``, ``get()``...)."""
        spec, request = await self._prepare(endpoint, arguments)
        headers = _queue_headers(priority, start_timeout)
        params = {"fal_webhook": webhook_url} if webhook_url else None
        urls = Urls(self._target.hosts, endpoint)
        response = await self._send(
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
        handle = AsyncRequestHandle(
            self, endpoint, request_id, request=request, spec=spec, cost=_estimate(spec, request), reply=body
        )
        await record_submitted(self._recorder, handle)
        return handle

    async def subscribe(
        self,
        endpoint: str,
        arguments: Mapping[str, Any] | RequestModel,
        *,
        with_logs: bool = False,
        on_enqueue: Callback | None = None,
        on_queue_update: Callback | None = None,
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
        box: list[AsyncRequestHandle] = []

        async def flow() -> Result:
            handle = await self.submit(
                endpoint, arguments, webhook_url=webhook_url, priority=priority, start_timeout=start_timeout
            )
            box.append(handle)
            if on_enqueue is not None:
                await _call(on_enqueue, handle.request_id)
            return await handle.wait(with_logs=with_logs, on_update=on_queue_update, cancel_on_abort=True)

        if client_timeout is None:
            return await flow()
        try:
            return await asyncio.wait_for(flow(), client_timeout)
        except asyncio.TimeoutError:
            what = "the request was cancelled" if box else "nothing was queued"
            raise errors.FalTimeoutError(
                f"no result within client_timeout={client_timeout} s; {what}",
                endpoint=endpoint,
                request_id=box[0].request_id if box else None,
            ) from None

    def get_handle(self, endpoint: str, request_id: str) -> AsyncRequestHandle:
        """A handle for a request submitted earlier (maybe by another process)."""
        spec = find(endpoint)
        return AsyncRequestHandle(self, endpoint, request_id, spec=spec)

    async def status(self, endpoint: str, request_id: str, *, with_logs: bool = False) -> Status:
        return await self.get_handle(endpoint, request_id).status(with_logs=with_logs)

    async def result(self, endpoint: str, request_id: str) -> Result:
        """The result of an earlier request, waiting for it to finish if needed."""
        return await self.get_handle(endpoint, request_id).get()

    async def cancel(self, endpoint: str, request_id: str) -> bool:
        """Ask the server to cancel; False when the request had already finished."""
        return await self.get_handle(endpoint, request_id).cancel()

    # -- sync run ------------------------------------------------------------------------------------

    async def run(self, endpoint: str, arguments: Mapping[str, Any] | RequestModel) -> Result:
        """Call the endpoint synchronously (no queue): one request, held open until the output is ready."""
        spec, request = await self._prepare(endpoint, arguments)
        started = time.monotonic()
        response = await self._send(
            "POST",
            Urls(self._target.hosts, endpoint).run,
            endpoint=endpoint,
            idempotent=False,
            json=_payload(request),
            endpoint_note=spec.note if spec else None,
        )
        request_id = response.headers.get("x-fal-request-id", "")
        handle = AsyncRequestHandle(
            self, endpoint, request_id, request=request, spec=spec, cost=_estimate(spec, request)
        )
        if request_id:
            await record_submitted(self._recorder, handle)
        # No queue; the server reports no metrics on this route, so the run time is the call's wall time.
        result = handle.build_result(
            json_body(response, endpoint), queue_seconds=None, inference_seconds=time.monotonic() - started
        )
        if request_id:
            await record_finished(self._recorder, handle, "completed", result=result)
        return result

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

    # -- images and history (used by handles and results) --------------------------------------------

    async def adownload(self, url: str) -> bytes:
        if _images.is_data_uri(url):
            return _images.decode_data_uri(url)[0]
        return (await self._send("GET", url, endpoint=None)).content

    def download(self, url: str) -> bytes:
        """Blocking download: on the sync client's loop when there is one, else a short-lived connection
        (which, on the loop thread itself, e.g. in an ``on_update`` callback, blocks that loop meanwhile)."""
        runner = self._runner
        if runner is not None and not runner.in_loop_thread() and not self._closed:
            return runner.run(self.adownload(url))
        key = self._target.key
        return plain_download(url, auth=KeyAuth(key, self._target.hosts) if key else None, timeout=self.timeout)

    async def _prepare(
        self, endpoint: str, arguments: Mapping[str, Any] | RequestModel
    ) -> tuple[EndpointSpec | None, RequestModel | dict[str, Any]]:
        Urls(self._target.hosts, endpoint)  # a malformed id fails here, before any upload
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


async def _call(callback: Callback, *args: Any) -> None:
    outcome = callback(*args)
    if isinstance(outcome, Awaitable):
        await outcome
