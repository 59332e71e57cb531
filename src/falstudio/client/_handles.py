"""Request handles: one queued request's wire verbs (status, its event stream, output, cancel).

Waiting for a request, and everything that follows from how it ends, is the tracked request's business
(:mod:`._tracking`); ``wait``/``get``/``future`` here go through the handle's one tracked request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from . import errors
from ._billed import BilledUnits, billed_units
from ._loop import LoopThread, blocking
from ._protocol import Urls, origin_of, seconds, sse_events
from ._status import Completed, InProgress, LogBook, LogEntry, Queued, Status, parse_status, same_state
from ._sync_tracking import TrackedRequest
from ._tracking import AsyncTrackedRequest, StatusHook

if TYPE_CHECKING:
    from falstudio.endpoints import CostEstimate, EndpointSpec

    from ._settlement import Settlement
    from ._wire import Wire
    from .recorder import Recorder
    from .results import Result

POLL_FIRST = 0.1  # polling (only when the status stream is unavailable): first delay, growing to POLL_MAX
POLL_MAX = 1.0
DRAIN_SECONDS = 0.1  # how long a status stream may take to end after its COMPLETED event before it is closed


class AsyncRequestHandle:
    """One request in fal's queue. ``recorder``: where its tracked request records how it ended (by default)."""

    def __init__(
        self,
        wire: Wire,
        endpoint: str,
        request_id: str,
        *,
        request: Any = None,
        spec: EndpointSpec | None = None,
        cost: CostEstimate | None = None,
        reply: dict[str, Any] | None = None,
        settlement: Settlement | None = None,
        billed: BilledUnits | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.wire = wire
        self.recorder = recorder
        self.endpoint = endpoint
        self.request_id = request_id
        self.request = request
        self.spec = spec
        self.cost = cost
        self.settlement = settlement  # its money and record (set on submit; None: sent earlier, maybe elsewhere)
        self.billed = billed  # fal's x-fal-billable-units, from the submit or result reply
        urls = Urls(wire.target.hosts, endpoint)
        reply = reply or {}
        own = wire.target.hosts.origins

        def pick(key: str, built: str) -> str:
            """The URL the server returned (fal asks clients to use them), if it is on the API's origin."""
            given = reply.get(key)
            return str(given) if isinstance(given, str) and origin_of(given) in own else built

        self._status_url = pick("status_url", urls.status(request_id)).rstrip("/")
        self._result_url = pick("response_url", urls.request(request_id))
        self._cancel_url = pick("cancel_url", urls.cancel(request_id))
        position = reply.get("queue_position")
        self.queue_position: int | None = position if isinstance(position, int) else (0 if reply else None)
        self._submitted = time.monotonic() if reply else None
        self._started: float | None = None
        self._saw_running = False
        self._book = LogBook()
        self._completed: Completed | None = None
        self._tracked: AsyncTrackedRequest | None = None
        self._cancel_requested = False
        self.interval: float | None = None  # polling interval (s) when the status stream is unavailable

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, request_id={self.request_id!r})"

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        """Every log line seen so far by :meth:`iter_events` (and so by waiting)."""
        return tuple(self._book.entries)

    @property
    def cancel_requested(self) -> bool:
        """Whether this handle's :meth:`cancel` was accepted: a failed or missing result then means cancelled."""
        return self._cancel_requested

    async def status(self, *, with_logs: bool = False) -> Status:
        """The current status (one request)."""
        response = await self.wire.send(
            "GET",
            self._status_url,
            endpoint=self.endpoint,
            request_id=self.request_id,
            params={"logs": "1" if with_logs else "0"},
        )
        try:
            return parse_status(response.json())
        except ValueError as exc:
            raise errors.ServerError(
                f"unreadable status reply: {exc}", endpoint=self.endpoint, request_id=self.request_id
            ) from None

    async def iter_events(
        self, *, with_logs: bool = False, interval: float | None = None
    ) -> AsyncGenerator[Status, None]:
        """Each status change until and including :class:`Completed`; each event holds only new log lines.

        Follows fal's status stream; when that is unavailable it polls, every ``interval`` seconds if given
        (fal-client polls every 0.1 s), else from 0.1 s backing off to 1 s. Without logs by default, as fal-client.
        """
        if self._completed is not None:
            yield self._completed
            return
        last: Status | None = None
        fixed = interval if interval is not None else self.interval
        async with contextlib.aclosing(self._events(with_logs, fixed)) as events:
            async for raw in events:
                status = self._book.fresh(raw)
                if same_state(last, status):
                    continue
                last = status
                if self._started is None and not isinstance(status, Queued):
                    self._started = time.monotonic()
                self._saw_running = self._saw_running or isinstance(status, InProgress)
                if isinstance(status, Completed):
                    self._completed = status
                yield status
                if isinstance(status, Completed):
                    return

    async def _events(self, with_logs: bool, interval: float | None) -> AsyncGenerator[Status, None]:
        """Statuses from the SSE status stream; after a failure or drop, from polling."""
        async with contextlib.aclosing(self._stream(with_logs)) as stream:
            try:
                async for status in stream:
                    yield status
                    if isinstance(status, Completed):
                        return
            except (httpx.TransportError, ValueError):
                pass  # the stream broke: fall back to polling
        delay = interval if interval is not None else POLL_FIRST
        while True:
            status = await self.status(with_logs=with_logs)
            yield status
            if isinstance(status, Completed):
                return
            await asyncio.sleep(delay)
            if interval is None:
                delay = min(delay * 1.5, POLL_MAX)

    async def _stream(self, with_logs: bool) -> AsyncGenerator[Status, None]:
        http = self.wire.http()
        async with http.stream(
            "GET",
            f"{self._status_url}/stream",
            params={"logs": "1" if with_logs else "0"},
            headers={"Accept": "text/event-stream"},
        ) as response:
            if response.status_code != 200 or "text/event-stream" not in response.headers.get("content-type", ""):
                return
            events = sse_events(response.aiter_bytes(), endpoint=self.endpoint)
            async for data in events:
                status = parse_status(data)
                if isinstance(status, Completed):
                    await _read_to_the_end(events)
                yield status

    async def output(self, completed: Completed) -> Any:
        """The output JSON of a completed request (a failed one raises its typed error); notes fal's billed units."""
        response = await self.wire.send(
            "GET", self._result_url, endpoint=self.endpoint, request_id=self.request_id, error_type=completed.error_type
        )
        self.billed = billed_units(response.headers, "result") or self.billed
        try:
            return response.json()
        except ValueError:
            raise errors.ServerError(
                "the result is not JSON", endpoint=self.endpoint, request_id=self.request_id
            ) from None

    def build_result(self, output: Any, completed: Completed | None = None, **timings: float | None) -> Result:
        """The typed result of ``output`` (timings from what was seen of the request when ``completed`` given)."""
        if completed is not None:
            timings = self.timings(completed)
        from .results import parse_output  # pydantic loads with the first result

        try:
            return parse_output(
                output,
                endpoint=self.endpoint,
                request_id=self.request_id,
                request=self.request,
                downloader=self.wire,
                cost=self.cost,
                billed=self.billed,
                logs=self._book.entries,
                **timings,
            )
        except ValueError as exc:
            raise errors.ServerError(str(exc), endpoint=self.endpoint, request_id=self.request_id) from None

    def timings(self, completed: Completed) -> dict[str, float | None]:
        inference = completed.inference_seconds
        queue = None
        if self._submitted is not None and self._started is not None:
            queue = self._started - self._submitted
            if not self._saw_running and inference is not None:
                queue = max(0.0, queue - inference)  # never saw it running: subtract the run time
        return {"queue_seconds": queue, "inference_seconds": inference}

    async def cancel(self) -> bool:
        """Ask the server to cancel; False when the request had already finished."""
        try:
            response = await self.wire.send("PUT", self._cancel_url, endpoint=self.endpoint, request_id=self.request_id)
        except errors.FalError as exc:
            if exc.status_code == 400:
                return False
            raise
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict) and body.get("status") == "ALREADY_COMPLETED":
                return False
        self._cancel_requested = True
        return True

    # -- waiting: through the handle's tracked request ------------------------------------------------

    def track(
        self, *, with_logs: bool = True, on_status: StatusHook | None = None, recorder: Recorder | None = None
    ) -> AsyncTrackedRequest:
        """The tracked request following this handle (one per handle; started on the running loop).

        ``recorder`` (default: the client's) is told how the request ended.
        """
        if self._tracked is None:
            self._tracked = AsyncTrackedRequest(
                self.endpoint,
                handle=self,
                with_logs=with_logs,
                on_status=on_status,
                recorder=recorder if recorder is not None else self.recorder,
            )
            self._tracked.start()
        return self._tracked

    async def wait(
        self,
        *,
        with_logs: bool = False,
        on_update: StatusHook | None = None,
        cancel_on_abort: bool = False,
    ) -> Result:
        """Wait for the request to finish and return its result (or raise its error).

        ``on_update`` (sync or async) sees every status change. With ``cancel_on_abort``, a cancelled
        wait also cancels the request on the server.
        """
        tracked = self.track(with_logs=with_logs, on_status=on_update)
        return await tracked.result(cancel_on_abort=cancel_on_abort)

    async def get(self, *, interval: float | None = None) -> Result:
        """The result, waiting for the request to finish if needed (``interval`` as in :meth:`iter_events`)."""
        if interval is not None:
            self.interval = seconds("interval", interval)
        return await self.wait()


class SyncRequestHandle:
    """A queued request, for blocking code; the work happens on falstudio's private event loop."""

    def __init__(self, handle: AsyncRequestHandle, runner: LoopThread) -> None:
        self._async = handle
        self._runner = runner

    @property
    def request_id(self) -> str:
        return self._async.request_id

    @property
    def endpoint(self) -> str:
        return self._async.endpoint

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        return self._async.logs

    def __repr__(self) -> str:
        return f"SyncRequestHandle(endpoint={self.endpoint!r}, request_id={self.request_id!r})"

    status = blocking(AsyncRequestHandle.status)
    get = blocking(AsyncRequestHandle.get)
    cancel = blocking(AsyncRequestHandle.cancel)

    def iter_events(self, *, with_logs: bool = False, interval: float | None = None) -> Iterator[Status]:
        """Each status change until and including Completed (blocking iterator; see the async handle's)."""
        return self._runner.iterate(self._async.iter_events(with_logs=with_logs, interval=interval))

    def track(self, *, with_logs: bool = True, recorder: Recorder | None = None) -> TrackedRequest:
        """This request's life as :class:`~falstudio.client.State` snapshots (see :meth:`Client.track`)."""
        made: concurrent.futures.Future[AsyncTrackedRequest] = concurrent.futures.Future()
        self._runner.call_soon(lambda: made.set_result(self._async.track(with_logs=with_logs, recorder=recorder)))
        return TrackedRequest(made.result(), self._runner)

    def future(
        self, *, with_logs: bool = True, on_update: Callable[[Status], Any] | None = None
    ) -> concurrent.futures.Future[Result]:
        """Wait for the result in the background; returns at once.

        ``on_update`` runs on falstudio's loop thread for every status change (keep it quick; it must not
        call the sync API). Cancelling the future cancels the request on the server.
        """
        return self._runner.submit(self._async.wait(with_logs=with_logs, on_update=on_update, cancel_on_abort=True))


async def _read_to_the_end(rest: AsyncIterator[Any]) -> None:
    """Read a status stream past its COMPLETED event to its end (the server closes it right after), so that its
    connection is kept for the next request instead of closed; given up after :data:`DRAIN_SECONDS`."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in rest:
                pass
