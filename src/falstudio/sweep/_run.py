"""Running a sweep: each variation's life as :class:`Job` snapshots, and :class:`SweepRun`, which runs them."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._expand import ENDPOINT, Sweep, Variation

if TYPE_CHECKING:  # imported where used: ``import falstudio`` loads the sweep module
    import concurrent.futures

JobState = Literal["pending", "submitting", "queued", "running", "done", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class Job:
    """A snapshot of one variation's life in a run; the run replaces it on every change."""

    variation: Variation
    state: JobState = "pending"
    queue_position: int | None = None
    request_id: str | None = None
    result: Any = None  # the client's Result once done
    error: str | None = None
    error_type: str | None = None
    started: float | None = None  # time.monotonic() at submit
    ended: float | None = None

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def elapsed(self) -> float | None:
        """Seconds from submit to the end (or to now while it runs)."""
        return None if self.started is None else (self.ended or time.monotonic()) - self.started

    def record(self, *, favourite: bool = False) -> dict[str, Any]:
        """A flat dict for tables (``pandas.DataFrame(records)``): axis values are columns of their own."""
        v, result, estimate = self.variation, self.result, self.variation.cost
        return {
            "index": v.index,
            ENDPOINT: v.endpoint,
            **{k: val for k, val in v.params.items() if k != ENDPOINT},
            "state": self.state,
            "request_id": self.request_id,
            "queue_seconds": getattr(result, "queue_seconds", None),
            "inference_seconds": getattr(result, "inference_seconds", None),
            "estimate": str(estimate),
            # fal bills only successful requests, each rounded up to the cent
            "cost_usd": float(estimate.amount) if self.state == "done" else (0.0 if self.done else None),
            "error_type": self.error_type,
            "error": self.error,
            "favourite": favourite,
            "image_urls": [image.url for image in getattr(result, "images", None) or ()],
            "request": v.request.redacted(exclude_unset=False),
            "result": result,
        }


FIRST_WAVE_WAIT = 2.0  # seconds a submitted variation waits for the rest of its wave before watching its status


class SweepRun:
    """Runs a sweep's variations, at most ``concurrency`` at once, each failing or succeeding on its own.

    ``on_change(job)`` is called (from a worker or the client's thread) with each new :class:`Job` snapshot;
    snapshots from two threads can arrive out of order, so :attr:`jobs` is the word on the newest state.
    """

    def __init__(
        self,
        variations: Sweep,
        client: Any = None,
        *,
        concurrency: int = 4,
        on_change: Callable[[Job], None] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.sweep = variations
        self.concurrency = concurrency
        self._client = client
        self._on_change = on_change
        self._jobs = [Job(v) for v in variations]
        self._handles: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._futures: list[concurrent.futures.Future[None]] = []
        # The first wave (as many variations as run at once) is submitted before any of them starts watching
        # its status: every submit then reaches the server sooner, and the server's clock starts at the submit.
        self._first_wave = min(concurrency, len(self._jobs))
        self._unsubmitted = threading.Condition()
        self._all_started = threading.Event()
        self._waiting_submits = self._first_wave

    @property
    def jobs(self) -> tuple[Job, ...]:
        with self._lock:
            return tuple(self._jobs)

    @property
    def done(self) -> bool:
        return bool(self._futures) and all(f.done() for f in self._futures)

    def start(self) -> None:
        import concurrent.futures

        if self._futures:
            raise RuntimeError("this run has already been started")
        if self._client is None:
            from ..client import Client

            self._client = Client()
        pool = concurrent.futures.ThreadPoolExecutor(min(self.concurrency, len(self._jobs)), "falstudio-sweep")
        try:
            self._futures = [pool.submit(self._run, i) for i in range(len(self._jobs))]
        finally:
            pool.shutdown(wait=False)  # the workers end once every variation has
            self._all_started.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every variation has ended (True) or ``timeout`` seconds passed (False)."""
        import concurrent.futures

        return not concurrent.futures.wait(self._futures, timeout).not_done

    def cancel(self) -> None:
        """Cancel what has not ended: waiting variations never start, running ones are cancelled on the server."""
        self._cancelled.set()
        with self._lock:
            handles = list(self._handles.values())
        for handle in handles:
            try:
                handle.cancel()
            except Exception:  # it may have finished meanwhile: its own outcome stands
                pass

    def records(self) -> list[dict[str, Any]]:
        return [job.record() for job in self.jobs]

    def _update(self, index: int, *, only_from: tuple[str, ...] = (), **changes: Any) -> None:
        with self._lock:  # ``only_from`` is checked under the lock: a status arriving after the result cannot undo it
            if only_from and self._jobs[index].state not in only_from:
                return
            job = self._jobs[index] = dataclasses.replace(self._jobs[index], **changes)
        if self._on_change is not None:
            self._on_change(job)

    def _run(self, index: int) -> None:
        from ..client.errors import FalError, RequestCancelledError

        # Starting a thread waits for it to take the GIL: were the first workers already busy submitting, the
        # last would start (and submit) tens of milliseconds after the first.
        self._all_started.wait()
        variation = self._jobs[index].variation
        if self._cancelled.is_set():
            self._submitted(index)
            self._update(index, state="cancelled", ended=time.monotonic())
            return
        self._update(index, state="submitting", started=time.monotonic())
        try:
            try:
                handle = self._client.submit(variation.endpoint, variation.request)
            finally:
                self._submitted(index)
            with self._lock:
                self._handles[index] = handle
            self._update(index, state="queued", request_id=handle.request_id)
            if self._cancelled.is_set():
                handle.cancel()
            if index < self._first_wave:
                with self._unsubmitted:
                    self._unsubmitted.wait_for(lambda: self._waiting_submits == 0, timeout=FIRST_WAVE_WAIT)
            result = handle.future(with_logs=False, on_update=lambda status: self._on_status(index, status)).result()
        except RequestCancelledError as exc:
            self._update(index, state="cancelled", error=exc.message, error_type=exc.error_type, ended=time.monotonic())
        except FalError as exc:
            text = exc.message + (f" ({exc.hint})" if exc.hint else "")
            self._update(index, state="failed", error=text, error_type=exc.error_type, ended=time.monotonic())
        except Exception as exc:  # one variation's failure must not stop the others
            self._update(index, state="failed", error=f"{type(exc).__name__}: {exc}", ended=time.monotonic())
        else:
            self._update(index, state="done", result=result, queue_position=None, ended=time.monotonic())
        finally:
            with self._lock:
                self._handles.pop(index, None)

    def _submitted(self, index: int) -> None:
        if index < self._first_wave:
            with self._unsubmitted:
                self._waiting_submits -= 1
                self._unsubmitted.notify_all()

    def _on_status(self, index: int, status: Any) -> None:
        from ..client import InProgress, Queued

        if isinstance(status, Queued | InProgress):
            state, position = ("queued", status.position) if isinstance(status, Queued) else ("running", None)
            self._update(index, only_from=("submitting", "queued"), state=state, queue_position=position)
