"""Request handles: follow one queued request (status stream, polling fallback), fetch or cancel it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from falstudio.endpoints import CostEstimate, EndpointSpec

from . import errors
from ._loop import LoopThread, blocking
from ._protocol import Urls, origin_of, sse_events
from ._recording import record_finished
from ._status import Completed, InProgress, LogBook, LogEntry, Queued, Status, parse_status, same_state
from .recorder import FinalState
from .results import Result, parse_output

if TYPE_CHECKING:
    from ._async import AsyncClient

POLL_FIRST = 0.1  # polling (only when the status stream is unavailable): first delay, growing to POLL_MAX
POLL_MAX = 1.0
ABANDON_SECONDS = 0.8  # budget for cancelling on the server when a waiting caller gives up


class AsyncRequestHandle:
    """One request in fal's queue."""

    def __init__(
        self,
        client: AsyncClient,
        endpoint: str,
        request_id: str,
        *,
        request: Any = None,
        spec: EndpointSpec | None = None,
        cost: CostEstimate | None = None,
        reply: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.request_id = request_id
        self.request = request
        self.spec = spec
        self.cost = cost
        urls = Urls(client._target.hosts, endpoint)
        reply = reply or {}
        own = client._target.hosts.origins

        def pick(key: str, built: str) -> str:
            """The URL the server returned (fal asks clients to use them), if it is on the API's origin."""
            given = reply.get(key)
            return str(given) if isinstance(given, str) and origin_of(given) in own else built

        self._status_url = pick("status_url", urls.status(request_id)).rstrip("/")
        self._result_url = pick("response_url", urls.request(request_id))
        self._cancel_url = pick("cancel_url", urls.cancel(request_id))
        self._submitted = time.monotonic() if reply else None
        self._started: float | None = None
        self._saw_running = False
        self._book = LogBook()
        self._completed: Completed | None = None
        self._result: Result | None = None
        self._recorded = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, request_id={self.request_id!r})"

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        """Every log line seen so far by :meth:`iter_events` and :meth:`wait`."""
        return tuple(self._book.entries)

    async def status(self, *, with_logs: bool = False) -> Status:
        """The current status (one request)."""
        response = await self.client._send(
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

    async def iter_events(self, *, with_logs: bool = True) -> AsyncIterator[Status]:
        """Each status change until and including :class:`Completed`; each event holds only new log lines."""
        if self._completed is not None:
            yield self._completed
            return
        last: Status | None = None
        async with contextlib.aclosing(self._events(with_logs)) as events:
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

    async def _events(self, with_logs: bool) -> AsyncIterator[Status]:
        """Statuses from the SSE status stream; after a failure or drop, from polling."""
        async with contextlib.aclosing(self._stream(with_logs)) as stream:
            try:
                async for status in stream:
                    yield status
                    if isinstance(status, Completed):
                        return
            except (httpx.TransportError, ValueError):
                pass  # the stream broke: fall back to polling
        delay = POLL_FIRST
        while True:
            status = await self.status(with_logs=with_logs)
            yield status
            if isinstance(status, Completed):
                return
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX)

    async def _stream(self, with_logs: bool) -> AsyncIterator[Status]:
        http = self.client._http()
        async with http.stream(
            "GET",
            f"{self._status_url}/stream",
            params={"logs": "1" if with_logs else "0"},
            headers={"Accept": "text/event-stream"},
        ) as response:
            if response.status_code != 200 or "text/event-stream" not in response.headers.get("content-type", ""):
                return
            async for data in sse_events(response.aiter_lines()):
                yield parse_status(data)

    async def wait(
        self,
        *,
        with_logs: bool = False,
        on_update: Callable[[Status], Any] | None = None,
        cancel_on_abort: bool = False,
    ) -> Result:
        """Wait for the request to finish and return its result (or raise its error).

        ``on_update`` (sync or async) sees every status change. With ``cancel_on_abort``, a cancelled
        wait also cancels the request on the server.
        """
        if self._result is not None:
            return self._result
        try:
            if self._completed is None:
                async with contextlib.aclosing(self.iter_events(with_logs=with_logs)) as events:
                    async for status in events:
                        if on_update is not None:
                            outcome = on_update(status)
                            if isinstance(outcome, Awaitable):
                                await outcome
            assert self._completed is not None
            return await self._outcome(self._completed)
        except asyncio.CancelledError:
            if cancel_on_abort and self._completed is None:
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(self._abandon(), ABANDON_SECONDS)
            raise

    async def get(self) -> Result:
        """The result, waiting for the request to finish if needed."""
        return await self.wait()

    async def cancel(self) -> bool:
        """Ask the server to cancel; False when the request had already finished."""
        try:
            response = await self.client._send(
                "PUT", self._cancel_url, endpoint=self.endpoint, request_id=self.request_id
            )
        except errors.FalError as exc:
            if exc.status_code == 400:
                return False
            raise
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict) and body.get("status") == "ALREADY_COMPLETED":
                return False
        return True

    async def _abandon(self) -> None:
        if await self.cancel():
            await self._record("cancelled", error="cancelled by the client")

    async def _outcome(self, completed: Completed) -> Result:
        context: dict[str, Any] = {"endpoint": self.endpoint, "request_id": self.request_id}
        if completed.cancelled:
            await self._record("cancelled", error=completed.error, error_type=completed.error_type)
            raise errors.RequestCancelledError("the request was cancelled", error_type=completed.error_type, **context)
        try:
            response = await self.client._send("GET", self._result_url, error_type=completed.error_type, **context)
        except errors.FalError as exc:
            if not completed.ok:
                await self._record("failed", error=exc.message, error_type=exc.error_type or completed.error_type)
            raise
        try:
            output = response.json()
        except ValueError:
            raise errors.ServerError("the result is not JSON", **context) from None
        result = self.build_result(output, **self._timings(completed))
        await self._record("completed", result=result)
        self._result = result
        return result

    def build_result(self, output: Any, **timings: float | None) -> Result:
        try:
            return parse_output(
                output,
                endpoint=self.endpoint,
                request_id=self.request_id,
                request=self.request,
                downloader=self.client,
                cost=self.cost,
                logs=self._book.entries,
                **timings,
            )
        except ValueError as exc:
            raise errors.ServerError(str(exc), endpoint=self.endpoint, request_id=self.request_id) from None

    def _timings(self, completed: Completed) -> dict[str, float | None]:
        inference = completed.inference_seconds
        queue = None
        if self._submitted is not None and self._started is not None:
            queue = self._started - self._submitted
            if not self._saw_running and inference is not None:
                queue = max(0.0, queue - inference)  # never saw it running: subtract the run time
        return {"queue_seconds": queue, "inference_seconds": inference}

    async def _record(self, state: FinalState, **details: Any) -> None:
        if not self._recorded:
            self._recorded = True
            await record_finished(self.client._recorder, self, state, **details)


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

    def iter_events(self, *, with_logs: bool = True) -> Iterator[Status]:
        """Each status change until and including Completed (blocking iterator)."""
        events = self._async.iter_events(with_logs=with_logs)

        async def step() -> Status:
            return await events.__anext__()

        try:
            while True:
                try:
                    status = self._runner.run(step())
                except StopAsyncIteration:
                    return
                yield status
        finally:
            if not self._runner.in_loop_thread():
                self._runner.run(_aclose(events))

    def future(
        self, *, with_logs: bool = True, on_update: Callable[[Status], Any] | None = None
    ) -> concurrent.futures.Future[Result]:
        """Wait for the result in the background; returns at once.

        ``on_update`` runs on falstudio's loop thread for every status change (keep it quick; it must not
        call the sync API). Cancelling the future cancels the request on the server.
        """
        return self._runner.submit(self._async.wait(with_logs=with_logs, on_update=on_update, cancel_on_abort=True))


async def _aclose(events: AsyncIterator[Status]) -> None:
    await events.aclose()  # type: ignore[attr-defined]
