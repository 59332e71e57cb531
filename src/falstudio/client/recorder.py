"""The hook through which the client reports each request's life to a run history, and the thread that feeds it.

The client calls :class:`Recorder` methods; ``falstudio.history`` implements them (``falstudio`` registers it as
the default with :func:`set_default_factory`, so the client never imports the history). Recorders never
receive secrets (requests arrive redacted) and must never raise into the client.

A request is recorded before it is sent (:class:`Sending`, no request id yet), so a process killed between the
server accepting it and the reply being recorded still leaves a trace; :class:`Submitted` then completes that
record with the request id, or :class:`Unanswered` says what became of it. ``sending`` and ``unanswered`` are
optional for a recorder: one without them just does not see those events.

``sending`` is called on the client's loop thread just before the request leaves, so it must be quick: the
history writes its file at once and leaves putting it on disk to :data:`SETTLE` (a killed process leaves it whole
either way). The other records resume depends on have threads of their own (:data:`WRITER`): ``submitted`` and
``unanswered`` are small, and ``submitted`` is waited for unless the history folder's spend journal already names
the request (a resume reads the id there); then it is held back a few seconds, and a request that ends sooner
never has it delivered: its :class:`Finished` event names the ``Sending`` record it completes instead. One
request's records arrive in order while several requests' are written at once. ``finished``
is not waited for: it reaches the recorder on another thread (:data:`MEDIA`), once its request's records queued
on :data:`WRITER` are written, so fetching and storing images never delays another request's records. A
recorder is called by one thread at a time unless it says ``thread_safe = True`` (falstudio's history does). A
recorder may leave follow-up work that no request waits for (the history syncs a request id's record to disk
there) on :data:`SETTLE`. :func:`flush` waits for all of it; it runs at exit. This module stays light:
no httpx, no pydantic.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import queue
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ._phases import FinalPhase

if TYPE_CHECKING:
    import concurrent.futures

FinalState = FinalPhase  # how a request ended: the final phases of falstudio.client.State
Mode = Literal["local", "fal"]
Via = Literal["queue", "run", "stream"]  # how the request was sent: only queued ones can be fetched again by id


@dataclass(frozen=True)
class Sending:
    """A request about to be sent (recorded before it leaves; no request id yet)."""

    endpoint: str
    intent_id: str  # links this record to the Submitted (or Unanswered) event that follows
    request: dict[str, Any]  # redacted
    base_url: str
    mode: Mode
    sent_at: float  # time.time(), just before the request leaves
    writer: str  # "<host>:<pid>" of the sending process, so a later one can tell whether it is still alive
    sync_mode: bool = False
    cost_estimate: str | None = None
    cost_amount: str | None = None
    via: Via = "queue"


@dataclass(frozen=True)
class Unanswered:
    """The request recorded by ``Sending`` got no usable reply. ``may_have_run``: the server may have queued it
    anyway (a lost reply, a gateway error); otherwise it certainly did not (refused, never sent).
    ``cancelled``: the client hung up on a streamed run on purpose (fal cancels a run whose client hangs up)."""

    endpoint: str
    intent_id: str
    may_have_run: bool
    reason: str
    cancelled: bool = False


@dataclass(frozen=True)
class Submitted:
    """A request the server accepted: its request id, and how to reach it again."""

    endpoint: str
    request_id: str
    request: dict[str, Any]  # redacted: secrets already replaced by "***"
    base_url: str  # where the request lives, so a later process can resume it
    mode: Mode
    submitted_at: float  # time.time()
    sync_mode: bool = False  # results of sync_mode requests cannot be fetched again by request id
    cost_estimate: str | None = None  # str(CostEstimate), e.g. "≤ $0.06"
    cost_amount: str | None = None  # Decimal as a string, e.g. "0.06"
    via: Via = "queue"
    billed_units: str | None = None  # fal's x-fal-billable-units on the submit reply (rare), as sent
    billed_unit: str | None = None  # its unit when the header names one; None: the endpoint's billing unit
    intent_id: str | None = None  # the Sending event this completes, if there was one


@dataclass(frozen=True)
class Finished:
    """How a request ended: its output and images, or its error."""

    endpoint: str
    request_id: str
    state: FinalState
    finished_at: float
    output: dict[str, Any] | None = None  # the raw output JSON (image URLs included)
    images: list[bytes] = field(default_factory=list)  # the image bytes, in output order
    error: str | None = None
    error_type: str | None = None
    queue_seconds: float | None = None
    inference_seconds: float | None = None
    thumbnails: list[tuple[bytes, str] | None] = field(default_factory=list)  # the shared preview of each image
    cost_estimate: str | None = None  # as in Submitted, so a record whose submission was not recorded has it
    cost_amount: str | None = None
    billed_units: str | None = None  # fal's x-fal-billable-units on the result (or run) reply, as sent
    billed_unit: str | None = None
    intent_id: str | None = None  # set when its Submitted was never delivered: the Sending record it completes


class Recorder(Protocol):
    def submitted(self, event: Submitted) -> None:
        """Record a submitted request; return once it is durable."""

    def finished(self, event: Finished) -> None:
        """Record how a request ended."""


_ONE_AT_A_TIME = threading.Lock()


def calling(recorder: object) -> contextlib.AbstractContextManager[object]:
    """Held while ``recorder`` is called: a lock shared by recorders that are not ``thread_safe``."""
    return contextlib.nullcontext() if getattr(recorder, "thread_safe", False) is True else _ONE_AT_A_TIME


RecorderFactory = Callable[[], "Recorder | None"]
_factory: RecorderFactory | None = None


def set_default_factory(factory: RecorderFactory | None) -> None:
    """Register what ``Client(history=True)`` records into (called once by ``falstudio`` itself)."""
    global _factory
    _factory = factory


def default_recorder() -> Recorder | None:
    """The registered default recorder, or None (none registered, recording off, or it failed to start)."""
    if _factory is None:
        return None
    try:
        return _factory()
    except Exception as exc:  # a broken history must not break the client
        warnings.warn(f"falstudio: run history disabled: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=3)
        return None


def bound_request_id(folder: os.PathLike[str] | str, intent_id: str, seed: Callable[[], list[Any]]) -> str | None:
    """The request id the client named the request recorded before sending as ``intent_id`` by, in the history
    folder's spend journal (written before the record gets it: a process killed in between leaves it there only);
    None when the journal does not say. ``seed``: the history's ``spend_entries``, should the journal be made."""
    from pathlib import Path

    from ._journal import journal_for

    try:
        return journal_for(Path(folder), seed).bound_to(f"intent:{intent_id}")
    except OSError:
        return None


# work, its future, the future of the same key's work before it, the key
_Job = tuple[
    Callable[[], object], "concurrent.futures.Future[None]", "concurrent.futures.Future[None] | None", str | None
]


class Writer:
    """Daemon threads that run recording work (``workers`` at once; one: in order); started on first use,
    restarted after a fork."""

    def __init__(self, name: str = "falstudio-history", workers: int = 1) -> None:
        self._name = name
        self._workers = workers
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._pending: set[concurrent.futures.Future[None]] = set()
        self._last: dict[str, concurrent.futures.Future[None]] = {}  # per key, the newest work submitted
        self._held: dict[str, Callable[[], object]] = {}  # per key, work not submitted yet (see hold)

    def submit(self, work: Callable[[], object], key: str | None = None) -> concurrent.futures.Future[None]:
        """Run ``work()`` on a writer thread; exceptions become warnings, never errors. Work with the same ``key``
        (one request's events) runs in the order it was submitted, even with several threads."""
        import concurrent.futures

        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        # running from the start: a caller's cancel (an awaiting task cancelled through wrap_future) cannot
        # cancel it, the work is still done, and the writer thread's set_result never meets a cancelled future
        done.set_running_or_notify_cancel()
        with self._lock:
            self._threads = [thread for thread in self._threads if thread.is_alive()]
            if not self._threads:  # first use, or a forked child (which has none of its parent's threads)
                self._queue, self._pending, self._last = queue.Queue(), set(), {}
            while len(self._threads) < self._workers:
                thread = threading.Thread(target=self._loop, args=(self._queue,), name=self._name, daemon=True)
                thread.start()
                self._threads.append(thread)
            self._pending.add(done)
            before = self._last.get(key) if key is not None else None
            if key is not None:
                self._last[key] = done
            self._queue.put((work, done, before, key))
        return done

    def hold(self, work: Callable[[], object], key: str) -> None:
        """Keep ``work`` back until :meth:`release` (or :meth:`flush`) submits it, or :meth:`drop` forgets it."""
        with self._lock:
            self._held[key] = work

    def held(self) -> list[str]:
        """The keys of the work held back now."""
        with self._lock:
            return list(self._held)

    def release(self, key: str) -> bool:
        """Submit the work held under ``key``; False when there was none (submitted or dropped already)."""
        with self._lock:
            work = self._held.pop(key, None)
        if work is not None:
            self.submit(work, key)
        return work is not None

    def drop(self, key: str) -> bool:
        """Forget the work held under ``key`` (True), or say there was none (False)."""
        with self._lock:
            return self._held.pop(key, None) is not None

    def last(self, key: str) -> concurrent.futures.Future[None] | None:
        """The future of the newest work submitted with ``key`` while it is not done yet, else None."""
        with self._lock:
            return self._last.get(key)

    def barrier(self) -> concurrent.futures.Future[None]:
        """A future done once everything submitted so far has run."""
        import concurrent.futures

        with self._lock:
            pending = list(self._pending)
        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        left = [len(pending)]
        count = threading.Lock()

        def one_less(_: object) -> None:
            with count:
                left[0] -= 1
                last = left[0] == 0
            if last:
                done.set_result(None)

        if not pending:
            done.set_result(None)
        for future in pending:
            future.add_done_callback(one_less)
        return done

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued so far has run (True), or ``timeout`` seconds (False)."""
        import concurrent.futures

        with self._lock:
            if threading.current_thread() in self._threads:
                return True  # called by recording work itself: waiting would wait for itself
        for key in self.held():
            self.release(key)
        try:
            self.barrier().result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    def _loop(self, jobs: queue.Queue[_Job | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            work, done, before, key = job
            if before is not None:
                before.result()  # queued earlier, so already taken by another thread: never a wait on itself
            try:
                work()
            except Exception as exc:  # a recorder must never break the client
                warnings.warn(f"falstudio: run history: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=1)
            with self._lock:
                self._pending.discard(done)
                if key is not None and self._last.get(key) is done:
                    del self._last[key]
            done.set_result(None)


# The records resume depends on after sending (the request id, what became of it): several are written at once
# (their fsyncs overlap); one request's are in order.
WRITER = Writer(workers=4)
MEDIA = Writer("falstudio-history-images")  # how requests ended: their images fetched and stored, then the record
SETTLE = Writer("falstudio-history-settle")  # recorders' follow-up work, waited for by no request


def flush(timeout: float | None = 30.0) -> bool:
    """Wait for the run history to catch up with every request this process has finished."""
    import time

    deadline = None if timeout is None else time.monotonic() + timeout
    for key in WRITER.held():
        WRITER.release(key)  # records held back are written now
    # MEDIA first: its work waits for WRITER, never the other way, so WRITER is then flushed of all it queued;
    # then SETTLE, which only the other two add to.
    if not MEDIA.flush(timeout):
        return False
    for writer in (WRITER, SETTLE):
        if not writer.flush(None if deadline is None else max(0.0, deadline - time.monotonic())):
            return False
    return True


atexit.register(flush, 10.0)
