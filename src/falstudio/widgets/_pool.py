"""The widgets' one bounded pool of worker threads: image decoding (thumbnails) and done-callbacks.

Widgets are updated from the client's loop, which must never wait on a download or a decode: that work
comes here. Bounded to the cores less one, so that the loop (and a local server) keep a core.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from ..client import Image

WORKERS = max(1, (os.cpu_count() or 2) - 1)
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


def run_in_pool(work: Callable[[], object]) -> Future[object]:
    """Run ``work()`` on a widget worker thread; its exception (if any) is in the returned future."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="falstudio-widgets")
        pool = _pool
    return pool.submit(work)


T = TypeVar("T")


class Latest(Generic[T]):
    """Runs ``work(value)`` in the pool for the newest value handed in: values that arrive while one runs are
    folded into one more run (a burst of partial images costs one decode each time, never a queue).

    With ``every`` (seconds), runs start at least that far apart: the values of a burst wait for the next turn
    (a line of text that hundreds of jobs update is sent a few times a second, not once per job).
    """

    def __init__(self, work: Callable[[T], None], *, every: float = 0.0) -> None:
        self._work = work
        self._every = every
        self._lock = threading.Lock()
        self._pending: T | None = None
        self._has_pending = False
        self._running = False  # a run is going or has its turn booked
        self._started = -math.inf  # when the last run started (time.monotonic)
        self.idle = threading.Event()  # set while nothing is pending or running
        self.idle.set()

    def push(self, value: T) -> None:
        with self._lock:
            self.idle.clear()
            self._pending, self._has_pending = value, True
            if self._running:
                return
            self._running = True
            wait = self._started + self._every - time.monotonic()
        self._turn(wait)

    def _turn(self, wait: float) -> None:
        if wait <= 0:
            run_in_pool(self._drain)
            return
        timer = threading.Timer(wait, self._drain_in_pool)
        timer.daemon = True
        timer.start()

    def _drain_in_pool(self) -> None:
        try:
            run_in_pool(self._drain)
        except RuntimeError:  # the interpreter is exiting: nothing will show it
            self._stop()

    def _stop(self) -> None:
        with self._lock:
            self._running = False
            self.idle.set()

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._has_pending:
                    self._running = False
                    self.idle.set()
                    return
                value, self._pending, self._has_pending = self._pending, None, False
                self._started = time.monotonic()
            try:
                self._work(value)  # type: ignore[arg-type]  # a pending value is a T (None only when there is none)
            except BaseException:
                self._stop()
                raise
            if self._every > 0:
                with self._lock:
                    wait = self._started + self._every - time.monotonic()
                    if not self._has_pending or wait <= 0:
                        continue
                self._turn(wait)  # the next value waits for its turn; this worker is free meanwhile
                return


def fetched_then(image: Image, then: Callable[[], None]) -> None:
    """Call ``then()`` once ``image``'s bytes are in: fetched on the client's loop when called there (many
    images then download at once, not one after another on a worker), else right away."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        then()
        return
    task = loop.create_task(image.abytes())
    _fetching.add(task)  # a task nobody holds may be collected before it ends

    def done(finished: asyncio.Task[bytes]) -> None:
        _fetching.discard(finished)
        then()  # a failed fetch is met again, and reported, by ``then``

    task.add_done_callback(done)


_fetching: set[asyncio.Task[bytes]] = set()
