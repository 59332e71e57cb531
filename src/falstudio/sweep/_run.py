"""Running a sweep: each variation's life as :class:`Job` snapshots, and :class:`SweepRun`, which runs them.

A run is one batch of tracked requests on the client's loop (``client.track_many``): no thread per variation,
and no lifecycle of its own; a :class:`Job` is a variation together with its request's latest state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._expand import ENDPOINT, Sweep, Variation

if TYPE_CHECKING:
    from falstudio.client import Batch, ClientLike, Image, State
    from falstudio.endpoints import CostEstimate

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
    partial: Image | None = None  # the newest partial image (streamed runs)
    partials: int = 0

    @classmethod
    def of(cls, variation: Variation, state: State) -> Job:
        """The job a tracked request's state describes."""
        error = state.error
        text = None
        if error is not None:
            text = error.message + (f" ({error.hint})" if error.hint and state.phase == "failed" else "")
        return cls(
            variation,
            state.phase,
            queue_position=state.queue_position,
            request_id=state.request_id,
            result=state.result,
            error=text,
            error_type=error.error_type if error is not None else None,
            started=state.started,
            ended=state.ended,
            partial=state.partial,
            partials=state.partials,
        )

    @property
    def done(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def elapsed(self) -> float | None:
        """Seconds from submit to the end (or to now while it runs)."""
        return None if self.started is None else (self.ended or time.monotonic()) - self.started

    def record(self, *, favourite: bool = False) -> dict[str, Any]:
        """A flat dict for tables (``pandas.DataFrame(records)``): axis values are columns of their own, ``sent``
        has them as each endpoint was sent them, ``request`` the whole request as sent (secrets hidden)."""
        v, result, estimate = self.variation, self.result, self.variation.cost
        return {
            "index": v.index,
            ENDPOINT: v.endpoint,
            **{k: val for k, val in v.params.items() if k != ENDPOINT},
            "sent": v.sent(),  # the axis fields as sent: a size may go to GPT Image 2 as {width, height}
            "state": self.state,
            "request_id": self.request_id,
            "queue_seconds": getattr(result, "queue_seconds", None),
            "inference_seconds": getattr(result, "inference_seconds", None),
            "estimate": str(estimate),
            # fal bills only successful requests
            "cost_usd": (float(estimate.amount) if estimate.known else None)
            if self.state == "done"
            else (0.0 if self.done else None),
            "error_type": self.error_type,
            "error": self.error,
            "favourite": favourite,
            "image_urls": [image.url for image in getattr(result, "images", None) or ()],
            "request": v.request.redacted(exclude_unset=False),
            "result": result,
        }


class SweepRun:
    """Runs a sweep's variations, at most ``concurrency`` at once, each failing or succeeding on its own.

    ``on_change(job)`` is called on the client's loop thread with each new :class:`Job` snapshot (at most
    ``max_hz`` times a second per variation when given; the final one always). ``stream`` as in
    ``Client.track`` (None: stream where the endpoint supports it).
    """

    def __init__(
        self,
        variations: Sweep,
        client: ClientLike | None = None,
        *,
        concurrency: int = 4,
        on_change: Callable[[Job], None] | None = None,
        stream: bool | None = None,
        max_hz: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.sweep = variations
        self.concurrency = concurrency
        self.stream = stream
        self._client = client
        self._on_change = on_change
        self._max_hz = max_hz
        self._jobs = [Job(v) for v in variations]
        self._lock = threading.Lock()
        self._batch: Batch | None = None
        self._started = False
        self._cancelled = False

    @property
    def client(self) -> ClientLike | None:
        return self._client

    @property
    def jobs(self) -> tuple[Job, ...]:
        with self._lock:
            return tuple(self._jobs)

    @property
    def done(self) -> bool:
        return self._started and (self._batch is None or self._batch.done)

    def start(self) -> None:
        """Start every variation in the background; raises BudgetExceededError (nothing sent) when the client's
        budget cannot cover the whole sweep."""
        if self._started:
            raise RuntimeError("this run has already been started")
        if self._cancelled:  # cancelled before it started: nothing is sent
            self._started = True
            for variation in self.sweep:
                self._changed_job(Job(variation, "cancelled", error="cancelled before it was submitted"))
            return
        if self._client is None:
            from falstudio.client import Client

            self._client = Client()
        budget = self._client.budget
        if budget is not None:  # the whole sweep must fit in what is left; each request is checked again as it goes
            budget.check([(v.endpoint, _estimate(v)) for v in self.sweep])
        self._started = True
        items = [(v.endpoint, v.request) for v in self.sweep]
        self._batch = self._client.track_many(
            items,
            concurrency=self.concurrency,
            stream=self.stream,
            with_logs=False,  # a sweep shows no logs: fewer status events for the server and the loop
            on_change=self._changed,
            max_hz=self._max_hz,
        )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every variation has ended (True) or ``timeout`` seconds passed (False)."""
        if not self._started:
            raise RuntimeError("this run has not been started: call start() first")
        return self._batch is None or self._batch.wait(timeout)

    def cancel(self) -> None:
        """Cancel what has not ended: waiting variations never start, running ones are cancelled."""
        self._cancelled = True
        if self._batch is not None:
            self._batch.cancel()

    def records(self) -> list[dict[str, Any]]:
        return [job.record() for job in self.jobs]

    def _changed(self, index: int, state: State) -> None:
        self._changed_job(Job.of(self.sweep[index], state))

    def _changed_job(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.variation.index] = job
        if self._on_change is not None:
            self._on_change(job)


def _estimate(variation: Variation) -> CostEstimate | None:
    try:
        return variation.cost
    except Exception:  # no known price: the budget decides whether that is allowed
        return None
