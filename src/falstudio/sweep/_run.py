"""Running a sweep: each variation's life as :class:`Job` snapshots, and :class:`SweepRun`, which runs them.

A run is one batch of tracked requests on the client's loop (``client.track_many``): no thread per variation,
and no lifecycle of its own; a :class:`Job` is a variation together with its request's latest state.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from falstudio.client import FINAL_PHASES, Phase, State

from ._variations import ENDPOINT, Sweep, Variation

if TYPE_CHECKING:
    from falstudio.client import Batch, ClientLike, Image
    from falstudio.endpoints import CostEstimate

JobState = Literal["pending"] | Phase  # "pending": not started yet (no request, so no State)
FINAL_STATES = FINAL_PHASES  # the client's one set, under the name this package has always exported


@dataclass(frozen=True)
class Job:
    """One variation and its request's latest :class:`~falstudio.client.State` (``latest``; None while the
    variation has not started). The run replaces it on every change; every fact is read from ``latest``."""

    variation: Variation
    latest: State | None = None

    @property
    def state(self) -> JobState:
        """The request's phase, or ``"pending"`` before it starts."""
        return "pending" if self.latest is None else self.latest.phase

    @property
    def done(self) -> bool:
        return self.latest is not None and self.latest.done

    @property
    def queue_position(self) -> int | None:
        return None if self.latest is None else self.latest.queue_position

    @property
    def request_id(self) -> str | None:
        return None if self.latest is None else self.latest.request_id

    @property
    def result(self) -> Any:
        """The client's Result once done."""
        return None if self.latest is None else self.latest.result

    @property
    def partial(self) -> Image | None:
        """The newest partial image (streamed runs)."""
        return None if self.latest is None else self.latest.partial

    @property
    def partials(self) -> int:
        return 0 if self.latest is None else self.latest.partials

    @property
    def error(self) -> str | None:
        """What went wrong, in words (with the fix, for a failure)."""
        error = None if self.latest is None else self.latest.error
        if error is None:
            return None
        return error.message + (f" ({error.hint})" if error.hint and self.state == "failed" else "")

    @property
    def error_type(self) -> str | None:
        error = None if self.latest is None else self.latest.error
        return None if error is None else error.error_type

    @property
    def elapsed(self) -> float | None:
        """Seconds from submit to the end (or to now while it runs); None for one never sent."""
        return self.latest.elapsed if self.latest is not None and self.latest.sent else None

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
            for v in self.sweep:
                self._changed_job(Job(v, State.never_sent(v.endpoint, "cancelled before it was submitted")))
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
        self._changed_job(Job(self.sweep[index], state))

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
