"""Tracked requests for blocking code: the same life, followed on the client's loop, never blocking a caller
that only looks (``state``, ``on_change``) and waiting only where asked (``result``, ``wait``)."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._loop import LoopThread

if TYPE_CHECKING:
    from ._batch import AsyncBatch
    from ._state import State
    from ._status import LogEntry
    from ._tracking import AsyncTrackedRequest
    from .results import Result

_SLICE = 0.25  # waits are sliced so that a KeyboardInterrupt is handled promptly


class TrackedRequest:
    """A request followed from start to end (:meth:`Client.track`); every change is a new :class:`State`.

    ``on_change`` callbacks run on the client's loop thread: keep them quick, and never call the blocking
    API from them. ``result()`` blocks; giving up (timeout, interrupt) leaves the request running.
    """

    def __init__(self, inner: AsyncTrackedRequest, runner: LoopThread) -> None:
        self._inner = inner
        self._runner = runner

    @property
    def state(self) -> State:
        """The newest state (safe to read from any thread)."""
        return self._inner.state

    @property
    def endpoint(self) -> str:
        return self._inner.endpoint

    @property
    def request_id(self) -> str | None:
        return self._inner.state.request_id

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        return self._inner.state.logs

    def __repr__(self) -> str:
        return repr(self._inner)

    def on_change(
        self, callback: Callable[[State], object], *, max_hz: float | None = None, heartbeat: float | None = None
    ) -> None:
        """Call ``callback(state)`` (on the loop) now and on every change; see ``AsyncTrackedRequest.on_change``."""
        self._runner.call_soon(lambda: self._inner.on_change(callback, max_hz=max_hz, heartbeat=heartbeat))

    def wait(self, timeout: float | None = None) -> State:
        """Block until the request has ended and return its final state; TimeoutError after ``timeout`` s."""
        if not _wait(self._inner.finished, timeout):
            raise TimeoutError(f"{self.endpoint} still {self.state.phase} after {timeout} s")
        return self._inner.state

    def result(self, timeout: float | None = None) -> Result:
        """The result (blocking), or the request's error raised."""
        return self.wait(timeout).result_or_raise()

    def cancel(self) -> concurrent.futures.Future[bool]:
        """Ask for the request to end (returns at once; the future says whether it could be cancelled)."""
        return self._runner.submit(self._inner.cancel())

    def close(self) -> None:
        """Stop following it (the request goes on, on the server)."""
        self._runner.call_soon(self._inner.close)


class Batch:
    """Many tracked requests, at most ``concurrency`` at once (:meth:`Client.track_many`)."""

    def __init__(self, inner: AsyncBatch, runner: LoopThread) -> None:
        self._inner = inner
        self._runner = runner

    @property
    def states(self) -> list[State | None]:
        """Each request's newest state; None for one not started yet."""
        return list(self._inner.states)

    @property
    def done(self) -> bool:
        return self._inner.done

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every request has ended (True) or ``timeout`` seconds passed (False)."""
        return _wait(self._inner.finished, timeout)

    def cancel(self) -> None:
        """Requests not started never start; started ones are cancelled (returns at once)."""
        if not self._inner.done:
            self._runner.call_soon(self._inner.cancel)


def _wait(event: threading.Event, timeout: float | None) -> bool:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = _SLICE if deadline is None else min(_SLICE, max(0.0, deadline - time.monotonic()))
        if event.wait(step):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False
