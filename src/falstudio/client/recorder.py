"""The hook through which the client reports each request's life to a run history, and the thread that feeds it.

The client calls :class:`Recorder` methods; ``falstudio.history`` implements them (``falstudio`` registers it as
the default with :func:`set_default_factory`, so the client never imports the history). Recorders never
receive secrets (requests arrive redacted) and must never raise into the client.

A request is recorded before it is sent (:class:`Sending`, no request id yet), so a process killed between the
server accepting it and the reply being recorded still leaves a trace; :class:`Submitted` then completes that
record with the request id, or :class:`Unanswered` says what became of it. ``sending`` and ``unanswered`` are
optional for a recorder: one without them just does not see those events.

Every call reaches the recorder on one background thread (:data:`WRITER`), in order: ``sending`` and
``submitted`` are waited for (the record is durable before the request leaves, and before ``submit``
returns), ``finished`` is not (fetching the images and writing them stays off the path that shows the result).
:func:`flush` waits for what is queued; it runs at exit. This module stays light: no httpx, no pydantic.
"""

from __future__ import annotations

import atexit
import queue
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import concurrent.futures

FinalState = Literal["completed", "failed", "cancelled"]
Mode = Literal["local", "fal"]
Via = Literal["queue", "run", "stream"]  # how the request was sent: only queued ones can be fetched again by id


@dataclass(frozen=True)
class Sending:
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


class Recorder(Protocol):
    def submitted(self, event: Submitted) -> None:
        """Record a submitted request; return once it is durable."""

    def finished(self, event: Finished) -> None:
        """Record how a request ended."""


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


class Writer:
    """One daemon thread that runs recording work in order; started on first use, restarted after a fork."""

    def __init__(self, name: str = "falstudio-history") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Callable[[], object], concurrent.futures.Future[None]] | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def submit(self, work: Callable[[], object]) -> concurrent.futures.Future[None]:
        """Run ``work()`` on the writer thread; exceptions become warnings, never errors."""
        import concurrent.futures

        done: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._queue = queue.Queue()
                self._thread = threading.Thread(target=self._loop, args=(self._queue,), name=self._name, daemon=True)
                self._thread.start()
            self._queue.put((work, done))
        return done

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued so far has run (True), or ``timeout`` seconds (False)."""
        import concurrent.futures

        with self._lock:
            thread = self._thread
        if thread is None or not thread.is_alive() or thread is threading.current_thread():
            return True
        try:
            self.submit(lambda: None).result(timeout)
        except concurrent.futures.TimeoutError:
            return False
        return True

    @staticmethod
    def _loop(jobs: queue.Queue[tuple[Callable[[], object], concurrent.futures.Future[None]] | None]) -> None:
        while True:
            job = jobs.get()
            if job is None:
                return
            work, done = job
            try:
                work()
            except Exception as exc:  # a recorder must never break the client
                warnings.warn(f"falstudio: run history: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=1)
            done.set_result(None)


WRITER = Writer()


def flush(timeout: float | None = 30.0) -> bool:
    """Wait for the run history to catch up with every request this process has finished."""
    return WRITER.flush(timeout)


atexit.register(flush, 10.0)
