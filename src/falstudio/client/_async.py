"""AsyncClient: fal's queue, sync-run, streaming and storage protocol over one ``httpx.AsyncClient``.

The one implementation: the blocking :class:`~falstudio.client.Client` runs these coroutines on its loop thread.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias

import httpx

from . import errors
from ._batch import AsyncBatch, BatchCallback
from ._billed import billed_units
from ._budget import Budget, Ledger, resolve_budget, spend_reader
from ._credentials import Mode, resolve
from ._handles import AsyncRequestHandle
from ._protocol import Urls, json_body, json_object, request_headers, seconds, with_path
from ._recording import resolve_recorder
from ._retry import RetryPolicy
from ._sending import Prepared, Sender
from ._status import Status
from ._storage import Storage
from ._streaming import EventStream
from ._tracking import AsyncTrackedRequest, StatusHook
from ._wire import Wire
from .recorder import MEDIA, WRITER, Recorder

if TYPE_CHECKING:
    from PIL import Image as PILImage

    from falstudio.endpoints import RequestModel

    from ._billed import BilledUnits
    from ._loop import LoopThread
    from ._settlement import Settlement
    from .results import Result

Arguments: TypeAlias = "Mapping[str, Any] | RequestModel"


class AsyncClient:
    """Talks to fal.ai, or to any server that speaks its protocol (``base_url``), with asyncio.

    Credentials, in fal-client's order: ``key``, ``FAL_KEY``, ``FAL_KEY_ID`` + ``FAL_KEY_SECRET``, a Colab
    secret, the token ``fal auth login`` saved. With none and no ``base_url`` it uses falstudio's embedded
    offline server and says so once, naming the sources it checked.

    ``timeout``: seconds to connect and to wait for each reply (None: no limit). :meth:`run` holds its one
    request open until the output is ready, so it waits for that reply without limit unless given its own
    ``timeout`` (like fal-client: a slow high-quality run is billed, so giving up on it loses a paid result).

    ``budget`` (USD; default ``$FALSTUDIO_BUDGET``) refuses, before anything is sent, a request whose estimate
    would pass what is left; ``budget_since`` (e.g. ``"today"``) also counts what the history folder records
    since then, by any process; ``allow_unpriced`` lets requests with no known price through a budget. See
    :mod:`falstudio.client._budget` for what counts as spent.

    One instance belongs to one event loop at a time. Used from a new loop (a second ``asyncio.run``) it
    opens new connections and leaves the old loop's to the garbage collector (``-X dev`` warns): prefer one
    client per loop, closed with ``aclose()`` or ``async with``.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = 120.0,
        history: bool | Recorder | None = True,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: float | str | Decimal | None = None,
        budget_since: object = None,
        allow_unpriced: bool = False,
    ) -> None:
        timeout = seconds("timeout", timeout)
        self._wire = Wire(resolve(key, base_url), timeout=timeout, retry=retry or RetryPolicy(), transport=transport)
        self._recorder = resolve_recorder(history)
        self._ledger = Ledger(self.mode, spend_reader(self._recorder))
        self._ledger.budget = resolve_budget(self._ledger, budget, budget_since, allow_unpriced)
        self._storage = Storage(self._wire)
        self._sender = Sender(self._wire, self._storage, self._ledger, self._recorder)

    @property
    def mode(self) -> Mode:
        """``"local"`` for a loopback server (the embedded one included), ``"fal"`` otherwise."""
        return self._wire.target.mode

    @property
    def base_url(self) -> str:
        return self._wire.target.base_url

    @property
    def timeout(self) -> float | None:
        return self._wire.timeout

    @property
    def retry(self) -> RetryPolicy:
        return self._wire.retry

    @property
    def recorder(self) -> Recorder | None:
        """Where this client records its requests (falstudio's history by default), or None."""
        return self._recorder

    @property
    def budget(self) -> Budget | None:
        """The spending limit checked before each request (``Client(budget=...)`` or ``$FALSTUDIO_BUDGET``)."""
        return self._ledger.budget

    @property
    def spent(self) -> Decimal:
        """The estimates (USD) of this client's requests that succeeded; fal bills what it bills."""
        return self._ledger.spent

    def __repr__(self) -> str:
        from falstudio.endpoints.pricing import usd

        key = "set" if self._wire.target.key else "none"
        budget = (
            "" if self.budget is None else f", budget={usd(self.budget.limit)}"
        )  # repr(client.budget): what is left
        return f"{type(self).__name__}(mode={self.mode!r}, base_url={self.base_url!r}, key={key}{budget})"

    def bind_loop_thread(self, runner: LoopThread) -> None:
        """Used by the blocking Client that drives this one: a blocking download that fails in a way worth trying
        again is tried again on its loop thread (see :meth:`Wire.download`)."""
        self._wire.runner = runner
        self._wire.prepare()  # build the httpx client (slow: TLS context) now, rather than on the loop

    async def aclose(self) -> None:
        """Close the connections, after the run history has taken everything this client finished."""
        if self._recorder is not None and not self._wire.closed:
            for writer in (MEDIA, WRITER):  # images first: they wait for records, never the other way
                await asyncio.wrap_future(writer.barrier())
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
        path: str = "",
        hint: str | None = None,
        webhook_url: str | None = None,
        priority: str | None = None,
        headers: Mapping[str, str] | None = None,
        start_timeout: float | None = None,
        validate: bool = True,
        interval: float | None = None,
    ) -> AsyncRequestHandle:
        """Queue a request; returns at once with a handle (``request_id``, ``status()``, ``get()``...).

        Arguments are validated against the endpoint's model (hand-written, or typed from fal's schema) before
        anything is sent; ``validate=False`` sends them as given, checked only to be JSON. The request is in
        the run history before it is sent (a process killed from then on leaves it), and with its request id by the
        time this returns.

        fal-client's options: ``path`` (a sub-path of the endpoint), ``hint`` (``X-Fal-Runner-Hint``),
        ``webhook_url``, ``priority`` (``"normal"``/``"low"``), ``headers`` (sent as given, under the ones
        falstudio sets), ``start_timeout`` (``X-Fal-Request-Timeout``: seconds for the request to start).
        ``interval``: the handle's polling interval when the status stream is unavailable (see
        :meth:`AsyncRequestHandle.iter_events`).
        """
        endpoint = with_path(endpoint, path)
        headers = request_headers(headers, hint=hint, priority=priority, start_timeout=start_timeout)
        seconds("interval", interval)
        prepared = await self._sender.prepare(endpoint, arguments, validate)
        params = {"fal_webhook": webhook_url} if webhook_url else None
        settlement = await self._sender.reserve(prepared)  # over the budget: raises, nothing sent
        url = Urls(self._wire.target.hosts, endpoint).submit
        response = await self._sender.send(prepared, url, settlement=settlement, headers=headers, params=params)
        try:
            reply = json_object(response, endpoint)
            request_id = reply.get("request_id")
            if not isinstance(request_id, str):
                raise errors.ServerError("the submit reply has no request_id", endpoint=endpoint)
        except errors.FalError as exc:
            # a 2xx reply the server sent: it took the request and may run (and bill) it, unfollowable here
            await settlement.unanswered(exc, release=False)
            raise
        handle = self._handle(prepared, request_id, settlement, billed_units(response.headers, "submit"), reply)
        handle.interval = interval
        await settlement.sent(request_id, handle.billed)
        if webhook_url and self._recorder is not None:
            # The result goes to the webhook, so nobody here may ever ask for it: follow the request anyway
            # (one status stream), or its history record would stay "submitted" and later read as "lost".
            handle.track(with_logs=False)
        return handle

    async def subscribe(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        path: str = "",
        hint: str | None = None,
        with_logs: bool = False,
        interval: float | None = None,
        on_enqueue: Callable[[str], object] | None = None,
        on_queue_update: StatusHook | None = None,
        priority: str | None = None,
        headers: Mapping[str, str] | None = None,
        start_timeout: float | None = None,
        client_timeout: float | None = None,
        webhook_url: str | None = None,
        validate: bool = True,
    ) -> Result:
        """Submit, wait (status stream, polling as fallback) and return the typed result.

        ``on_enqueue(request_id)`` runs once queued; ``on_queue_update(status)`` on every status change
        (either may be async). Cancelling the call (KeyboardInterrupt in the sync client, task
        cancellation here) or passing ``client_timeout`` cancels the request on the server too;
        the timeout raises :class:`~falstudio.client.errors.FalTimeoutError` with the request id.
        ``validate=False`` sends the arguments unchecked; ``path``, ``hint``, ``priority``, ``headers``,
        ``start_timeout`` and ``interval`` as in :meth:`submit` (fal-client's names).
        """
        client_timeout = seconds("client_timeout", client_timeout)
        tracked = self.track(
            endpoint,
            arguments,
            path=path,
            hint=hint,
            headers=headers,
            interval=interval,
            stream=False,
            with_logs=with_logs,
            on_status=on_queue_update,
            on_queued=on_enqueue,
            webhook_url=webhook_url,
            priority=priority,
            start_timeout=start_timeout,
            validate=validate,
        )
        try:
            return await asyncio.wait_for(tracked.result(cancel_on_abort=True), client_timeout)
        except TimeoutError:
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
        validate: bool = True,
        path: str = "",
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
        interval: float | None = None,
    ) -> AsyncTrackedRequest:
        """Start a request and follow it: returns at once; ``async for state in tracked.watch()``.

        ``stream``: run through the endpoint's stream and report partial images (``None``: when the registry
        says the endpoint streams). A streamed run is a sync request on fal: cancelling closes the connection,
        and it cannot be fetched again by request id (no resume after a restart). ``validate=False`` sends the
        arguments unchecked; ``path``, ``hint``, ``headers``, ``priority``, ``start_timeout`` and ``interval`` as in
        :meth:`submit` (a streamed run sends ``hint`` and ``headers`` too). Needs a running loop.
        """
        endpoint = with_path(endpoint, path)
        Urls(self._wire.target.hosts, endpoint)  # a malformed endpoint id fails here, at once
        request_headers(headers, hint=hint, priority=priority, start_timeout=start_timeout)  # and so do bad options
        seconds("interval", interval)
        from falstudio.endpoints import find  # pydantic and the endpoints load with the first request

        spec = find(endpoint)
        streaming = (spec is not None and spec.streaming) if stream is None else stream
        extra = request_headers(headers, hint=hint) or None  # the queue adds priority and start_timeout itself
        options = {
            "webhook_url": webhook_url,
            "priority": priority,
            "start_timeout": start_timeout,
            "headers": extra,
            "interval": interval,
        }
        tracked = AsyncTrackedRequest(
            endpoint,
            submit=self.submit,
            arguments=arguments,
            sender=self._sender,
            stream=streaming and webhook_url is None,
            with_logs=with_logs,
            validate=validate,
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
        validate: bool = True,
        on_change: BatchCallback | None = None,
        max_hz: float | None = None,
    ) -> AsyncBatch:
        """Start ``(endpoint, arguments)`` requests, at most ``concurrency`` at once; each ends on its own.

        ``on_change(index, state)`` sees each request's states (throttled to ``max_hz``); a request not yet
        started has no state. ``stream`` and ``validate`` as in :meth:`track`. Needs a running loop.
        """
        batch = AsyncBatch(
            self.track,
            items,
            concurrency=concurrency,
            stream=stream,
            with_logs=with_logs,
            validate=validate,
            on_change=on_change,
            max_hz=max_hz,
        )
        batch.start()
        return batch

    def _handle(
        self,
        prepared: Prepared,
        request_id: str,
        settlement: Settlement,
        billed: BilledUnits | None,
        reply: dict[str, Any] | None = None,
    ) -> AsyncRequestHandle:
        """The handle of a request this client sent (its request, estimate and place in the budget)."""
        return AsyncRequestHandle(
            self._wire,
            prepared.endpoint,
            request_id,
            request=prepared.request,
            spec=prepared.spec,
            cost=prepared.cost,
            reply=reply,
            settlement=settlement,
            billed=billed,
            recorder=self._recorder,
        )

    def get_handle(self, endpoint: str, request_id: str) -> AsyncRequestHandle:
        """A handle for a request submitted earlier (maybe by another process)."""
        from falstudio.endpoints import find

        return AsyncRequestHandle(self._wire, endpoint, request_id, spec=find(endpoint), recorder=self._recorder)

    async def status(self, endpoint: str, request_id: str, *, with_logs: bool = False) -> Status:
        return await self.get_handle(endpoint, request_id).status(with_logs=with_logs)

    async def result(self, endpoint: str, request_id: str) -> Result:
        """The result of an earlier request, waiting for it to finish if needed."""
        return await self.get_handle(endpoint, request_id).get()

    async def cancel(self, endpoint: str, request_id: str) -> bool:
        """Ask the server to cancel; False when the request had already finished."""
        return await self.get_handle(endpoint, request_id).cancel()

    # -- sync run and stream --------------------------------------------------------------------------

    async def run(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        path: str = "",
        timeout: float | None = None,
        start_timeout: float | None = None,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
        validate: bool = True,
    ) -> Result:
        """Call the endpoint synchronously (no queue): one request, held open until the output is ready.

        ``timeout``: seconds to wait for the output (default: no limit, like fal-client; connecting still
        times out after the client's ``timeout``). ``validate=False`` sends the arguments unchecked; ``path``,
        ``start_timeout``, ``hint`` and ``headers`` as in :meth:`submit` (fal-client's names).
        """
        endpoint = with_path(endpoint, path)
        read_timeout = seconds("timeout", timeout)
        sent_headers = request_headers(headers, hint=hint, start_timeout=start_timeout)
        prepared = await self._sender.prepare(endpoint, arguments, validate)
        settlement = await self._sender.reserve(prepared, via="run")  # over the budget: raises, nothing sent
        started = time.monotonic()
        url = Urls(self._wire.target.hosts, endpoint).run
        timeouts = httpx.Timeout(self.timeout, read=read_timeout)
        response = await self._sender.send(prepared, url, settlement=settlement, timeout=timeouts, headers=sent_headers)
        request_id = response.headers.get("x-fal-request-id", "")
        billed = billed_units(response.headers, "run")
        try:
            await settlement.sent(request_id, billed)
            handle = self._handle(prepared, request_id, settlement, billed)
            # No queue; the server reports no metrics on this route, so the run time is the call's wall time.
            result = handle.build_result(
                json_body(response, endpoint), queue_seconds=None, inference_seconds=time.monotonic() - started
            )
        except BaseException:
            settlement.end("done", recorded=False)  # fal answered with the output: it bills it
            raise
        settlement.end("done", result=result, billed=billed)
        return result

    def stream(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        validate: bool = True,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> EventStream:
        """The events of a streaming endpoint (``POST {run host}/{endpoint}/stream``), each as its JSON.

        ``async for event in client.stream(...)``; checked against the budget like any request, but not
        recorded in the history (``track(..., stream=True)`` is the recorded, typed way). Not retried once
        the request is sent. ``hint`` and ``headers`` as in :meth:`submit`.
        """
        extra = request_headers(headers, hint=hint)
        return EventStream(self._sender, endpoint, arguments, validate=validate, headers=extra)

    # -- storage -------------------------------------------------------------------------------------

    async def upload(
        self, data: bytes | str, content_type: str, file_name: str | None = None, *, lifecycle: Any = None
    ) -> str:
        """Store ``data`` with fal's storage and return its URL. ``lifecycle``: how long fal keeps it and who
        may read it (:class:`~falstudio.client.StorageSettings`, or fal-client's), as in fal-client."""
        return await self._storage.upload(
            data.encode() if isinstance(data, str) else data, content_type, file_name, lifecycle=lifecycle
        )

    async def upload_file(self, path: str | os.PathLike[str], *, lifecycle: Any = None) -> str:
        """Store a file (its type sniffed from its bytes) and return its URL (``lifecycle`` as in :meth:`upload`)."""
        return await self._storage.upload_file(path, lifecycle=lifecycle)

    async def upload_image(self, image: PILImage.Image, format: str = "jpeg", *, lifecycle: Any = None) -> str:
        """Store a PIL image, encoded as ``format`` (JPEG by default, as fal-client), and return its URL."""
        return await self._storage.upload_image(image, format, lifecycle=lifecycle)

    async def adownload(self, url: str) -> bytes:
        return await self._wire.adownload(url)

    def download(self, url: str) -> bytes:
        """Blocking download (see :meth:`Wire.download`)."""
        return self._wire.download(url)
