"""One tracked request: its whole life as immutable :class:`State` snapshots, the one lifecycle of falstudio.

A tracked request submits (or streams) a request, follows it, classifies how it ended, records it in the run
history and publishes a snapshot on every change: ``submitting -> queued (position) -> running -> done |
failed | cancelled``, with the log lines so far, the newest partial image (streamed runs) and the result or
the typed :class:`~falstudio.client.errors.FalError`. Widgets, sweeps, the demo and history resume are all
built on it. Everything here runs on one event loop (the blocking facade is :mod:`._sync_tracking`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import errors
from ._outcome import Ending, QueuedRequest, failure_ending, queued_ending, stream_ending
from ._phases import FinalPhase
from ._settlement import Settlement
from ._state import State
from ._status import Completed, InProgress, LogBook, LogEntry, Queued, Status
from ._streaming import EventStream, StreamReader
from ._subscriptions import Subscriptions
from .recorder import Recorder

if TYPE_CHECKING:
    from ._sending import Sender
    from .results import Result

StatusHook = Callable[[Status], object]  # fal-style callbacks (``on_queue_update``); may return an awaitable
Submit = Callable[..., Awaitable[QueuedRequest]]  # a client's submit: ``submit(endpoint, arguments, **options)``
ABANDON_SECONDS = 0.8  # budget for cancelling on the server when a waiting caller gives up


class AsyncTrackedRequest:
    """A request followed from start to end; see :meth:`AsyncClient.track`.

    It starts from ``handle`` (a request already queued), or sends ``arguments`` through ``sender`` (streamed)
    or ``submit`` (queued). Its money and record end through the request's :class:`Settlement`.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        submit: Submit | None = None,
        arguments: Any = None,
        handle: QueuedRequest | None = None,
        sender: Sender | None = None,
        stream: bool = False,
        with_logs: bool = True,
        validate: bool = True,
        queue_options: dict[str, Any] | None = None,
        on_status: StatusHook | None = None,
        on_queued: Callable[[str], object] | None = None,
        recorder: Recorder | None = None,
        gate: asyncio.Event | None = None,
    ) -> None:
        self._submit_to = submit
        self.endpoint = endpoint
        self.handle = handle
        self._arguments = arguments
        self._sender = sender
        self._stream = stream and sender is not None
        self._events: EventStream | None = None  # the stream of a streamed run, once open
        self._with_logs = with_logs
        self._validate = validate
        self._queue_options = queue_options or {}
        self._on_status = on_status
        self._on_queued = on_queued
        self._recorder = recorder
        self._gate = gate
        request_id = handle.request_id if handle is not None else None
        self._state = State(
            endpoint, "queued" if handle else "submitting", request_id=request_id, streaming=self._stream
        )
        self._book = LogBook()
        self._subscriptions = Subscriptions()
        self._finished = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._cancel_wanted = False
        self._cancel_answer: asyncio.Future[bool] | None = None  # cancel() while a queued request is submitted
        self._reader: StreamReader | None = None  # a streamed run's reader, once its events are read
        self._closing_stream: Callable[[], Awaitable[None]] | None = None

    def __repr__(self) -> str:
        state = self._state
        return f"TrackedRequest({self.endpoint!r}, {state.phase}, request_id={state.request_id!r})"

    # -- what callers use ---------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def finished(self) -> threading.Event:
        """Set (from the loop) once the final state is published; waitable from any thread."""
        return self._finished

    def start(self) -> None:
        """Begin on the running loop (idempotent)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drive(), name=f"falstudio-{self.endpoint}")

    def on_change(
        self, callback: Callable[[State], object], *, max_hz: float | None = None, heartbeat: float | None = None
    ) -> Callable[[], None]:
        """Call ``callback(state)`` on the loop with the current state, then with each new one.

        ``max_hz`` throttles the calls (the newest state is kept, the final one always delivered at once);
        ``heartbeat`` repeats the latest state every so many seconds while the request runs (for clocks).
        Returns a function that unsubscribes.
        """
        return self._subscriptions.add(callback, self._state, max_hz=max_hz, heartbeat=heartbeat)

    async def watch(self, *, max_hz: float | None = None) -> AsyncIterator[State]:
        """Each state from now on, ending with the final one."""
        states: asyncio.Queue[State] = asyncio.Queue()
        stop = self.on_change(states.put_nowait, max_hz=max_hz)
        try:
            while True:
                state = await states.get()
                yield state
                if state.done:
                    return
        finally:
            stop()

    async def wait(self) -> State:
        """The final state (never raises the request's error)."""
        async for state in self.watch():
            if state.done:
                return state
        return self._state

    async def result(self, *, cancel_on_abort: bool = False) -> Result:
        """The result, or the request's typed error raised. With ``cancel_on_abort``, being cancelled
        while waiting (an interrupt, a timeout) also cancels the request on the server."""
        try:
            state = await self.wait()
        except asyncio.CancelledError:
            if cancel_on_abort and not self._state.done:
                with contextlib.suppress(Exception, asyncio.TimeoutError):
                    await asyncio.wait_for(self._abandon(), ABANDON_SECONDS)
            raise
        return state.result_or_raise()

    async def cancel(self) -> bool:
        """Ask for the request to end: cancelled on the server (queued), or its connection closed (streamed:
        while it is being sent, waits or runs; fal and the offline server cancel a run whose client hangs up).

        True only when the request will not complete; False when it had already ended or its result had
        arrived, or the server refused (said in the log). A queued request still being submitted is cancelled
        as soon as it has a request id, and the answer waits for that.
        """
        if self._state.done:
            return False
        if self._stream and self.handle is None:
            if self._reader is not None and self._reader.output is not None:
                self._publish(logs=self._logs_with([LogEntry("could not cancel: its result had arrived", "WARN")]))
                return False
            self._cancel_wanted = True
            await self._close_stream()
            return True
        self._cancel_wanted = True
        if self.handle is None:
            if self._cancel_answer is None:
                self._cancel_answer = asyncio.get_running_loop().create_future()
            return await asyncio.shield(self._cancel_answer)
        return await self._send_cancel(self.handle)

    async def _close_stream(self) -> None:
        """Close a streamed run's connection (being sent, or open) and wait until its end is published."""
        if self._closing_stream is not None:
            await self._closing_stream()
        elif self._task is not None and not self._task.done():
            self._task.cancel()
        if self._task is not None and self._task is not asyncio.current_task():
            await asyncio.wait([self._task], timeout=ABANDON_SECONDS)

    def close(self) -> None:
        """Stop following (the request itself goes on, on the server)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # -- the life of the request ----------------------------------------------------------------------

    async def _drive(self) -> None:
        try:
            if self.handle is None and self._stream and await self._run_stream():
                return
            handle = self.handle or await self._submit()
            if handle is None:
                return
            if self._gate is not None:
                await self._gate.wait()
            await self._follow(handle)
        except asyncio.CancelledError:
            if self._cancel_wanted and not self._state.done:  # a stream closed by cancel()
                self._end("cancelled", errors.RequestCancelledError("the stream was closed: the run was cancelled"))
            elif self._events is not None and self._events.settlement is not None and not self._state.done:
                self._events.settlement.end("cancelled", recorded=False)  # no longer followed: its stream was closed
            raise
        except Exception as exc:  # the request may still run on the server: not recorded as ended (as a rule)
            self._finish(failure_ending(exc, self.handle, self.endpoint, self._state.request_id))
        finally:
            if self._cancel_answer is not None and not self._cancel_answer.done():
                self._cancel_answer.set_result(self._state.phase == "cancelled")

    async def _submit(self) -> QueuedRequest | None:
        if self._cancel_wanted:
            self._end("cancelled", errors.RequestCancelledError("cancelled before it was submitted"))
            return None
        assert self._submit_to is not None, "a tracked request without a handle needs a submit"
        handle = await self._submit_to(self.endpoint, self._arguments, validate=self._validate, **self._queue_options)
        self.handle = handle
        self._publish(phase="queued", request_id=handle.request_id, queue_position=handle.queue_position)
        if self._on_queued is not None:
            await _call(self._on_queued, handle.request_id)
        if self._cancel_wanted:
            accepted = await self._send_cancel(handle)
            if self._cancel_answer is not None and not self._cancel_answer.done():
                self._cancel_answer.set_result(accepted)
        return handle

    async def _follow(self, handle: QueuedRequest) -> None:
        completed: Completed | None = None
        async with contextlib.aclosing(handle.iter_events(with_logs=self._with_logs)) as events:
            async for status in events:
                if self._on_status is not None:
                    await _call(self._on_status, status)
                logs = self._logs_with(status.logs)
                if isinstance(status, Queued) and self._state.phase in ("submitting", "queued"):
                    self._publish(phase="queued", queue_position=status.position, logs=logs)
                elif isinstance(status, InProgress | Completed) and self._state.phase in ("submitting", "queued"):
                    self._publish(phase="running", queue_position=None, logs=logs)
                elif status.logs:
                    self._publish(logs=logs)
                if isinstance(status, Completed):
                    completed = status
        assert completed is not None
        self._finish(await queued_ending(handle, completed))

    async def _run_stream(self) -> bool:
        """Run through the endpoint's stream; False when it has none here (404/405: use the queue).

        Recorded in the history like a submit (before it is sent, then with its request id: see
        :class:`EventStream`), but a streamed run cannot be fetched again: resume reports it lost.
        """
        assert self._sender is not None
        events = EventStream(
            self._sender,
            self.endpoint,
            self._arguments,
            validate=self._validate,
            tracked=True,
            headers=self._queue_options.get("headers"),
            on_sent=self._sent,
        )
        self._events = events  # settled with the budget however it ends, even while it opens
        try:
            await events.open()
        except errors.FalError as exc:
            if exc.status_code not in (404, 405):
                raise
            self._events, self._stream = None, False
            self._publish(
                phase="submitting",
                streaming=False,
                logs=self._logs_with([_note(f"no stream here ({exc.status_code}): queued")]),
            )
            return False
        self._closing_stream = self._closer(events.aclose)
        try:
            self._publish(phase="running", request_id=events.request_id or None)
            self._reader = reader = StreamReader(self.endpoint, events.request_id)
            started = time.monotonic()
            async for event in events:
                update = reader.read(event)
                if update.error is not None:
                    self._end("failed", update.error)
                    return True
                if update.log is not None:
                    self._publish(logs=self._logs_with([update.log]))
                for image in update.partials:
                    count = self._state.partials + 1
                    line = _note(f"partial image {count} received")
                    self._publish(partial=image, partials=count, logs=self._logs_with([line]))
        finally:
            self._closing_stream = None
            await events.aclose()
        recorded = self._recorder is not None
        self._finish(stream_ending(events, reader, started, self._state.logs, recorded=recorded))
        return True

    def _sent(self) -> None:
        """A streamed run's request is on the server: it waits there (or runs) until its events come."""
        if self._state.phase == "submitting":
            self._publish(phase="queued")

    # -- cancelling -----------------------------------------------------------------------------------

    async def _send_cancel(self, handle: QueuedRequest) -> bool:
        try:
            accepted = await handle.cancel()
        except errors.FalError as exc:
            accepted, reason = False, exc.message
        else:
            reason = "it had already finished"
        if not accepted and not self._state.done:  # say why, and keep following: the result may still come
            self._publish(logs=self._logs_with([LogEntry(f"could not cancel: {reason}", level="WARN")]))
        return accepted

    def _closer(self, aclose: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def close() -> None:
            await aclose()
            if self._task is not None and not self._task.done():
                self._task.cancel()

        return close

    async def _abandon(self) -> None:
        """The caller gave up waiting: cancel on the server, and record that the client cancelled it."""
        handle = self.handle
        if self._stream and handle is None:  # a streamed run, being sent, waiting or running: hang up
            await self.cancel()
        elif handle is not None and await handle.cancel():
            self._end("cancelled", errors.RequestCancelledError("cancelled by the client"))
        self.close()

    # -- publishing -----------------------------------------------------------------------------------

    def _logs_with(self, entries: Any) -> tuple[LogEntry, ...]:
        self._book.entries.extend(entries)
        return tuple(self._book.entries)

    def _publish(self, **changes: Any) -> None:
        if self._state.done:
            return  # the end is final: nothing arriving later undoes it
        self._state = dataclasses.replace(self._state, **changes)
        self._subscriptions.publish(self._state)

    def _end(
        self,
        phase: FinalPhase,
        error: errors.FalError | None = None,
        *,
        result: Result | None = None,
        record: bool = True,
        details: tuple[str | None, str | None] | None = None,
        kept: Result | None = None,
    ) -> None:
        """Publish the final state, then (off the path that shows it) record the outcome and settle its estimate
        with the budget (fal bills only successful outputs).

        ``record=False`` for outcomes the server did not confirm (the request may still be running there: its
        record stays in flight, to be resumed, and its estimate stays reserved; a streamed run cannot be
        resumed, so its estimate is released). ``details``: the recorded error and error type (default: the
        error's own); ``kept``: what a failed run sent, recorded with it.
        """
        if self._state.done:
            return
        # Counted first (the budget, the process's spend, the history's queue), then shown: whoever reads the
        # spend when the final state arrives sees this request in it.
        settlement = self._settlement()
        if settlement is not None:
            if record or self._events is not None:  # a streamed run cannot be resumed: settled whatever happened
                if details is None:
                    details = (error.message, error.error_type) if error is not None else (None, None)
                source = self._events or self.handle
                settlement.end(
                    phase,
                    recorded=record,
                    result=result or kept,
                    error=details[0],
                    error_type=details[1],
                    billed=source.billed if source is not None else None,
                )
            else:
                settlement.unconfirmed()
        self._publish(phase=phase, error=error, result=result, queue_position=None, ended=time.monotonic())
        self._finished.set()

    def _settlement(self) -> Settlement | None:
        """The request's money and record: its stream's or queued request's (a handle of a request sent earlier,
        maybe by a process that has ended, gets one that settles what that process reserved)."""
        if self._events is not None:
            return self._events.settlement
        handle = self.handle
        if handle is None:
            return None
        if handle.settlement is None:
            handle.settlement = Settlement.resumed(self.endpoint, handle.request_id, self._recorder, handle.cost)
        elif self._recorder is not None:
            handle.settlement.recorder = self._recorder  # ``handle.track(recorder=...)``: told how it ended
        return handle.settlement

    def _finish(self, ending: Ending) -> None:
        self._end(
            ending.phase,
            ending.error,
            result=ending.result,
            record=ending.record,
            details=ending.details,
            kept=ending.kept,
        )


def _note(message: str) -> LogEntry:
    return LogEntry(message, level="INFO", source="falstudio")


async def _call(callback: Callable[..., object], *args: Any) -> None:
    outcome = callback(*args)
    if isinstance(outcome, Awaitable):
        await outcome
