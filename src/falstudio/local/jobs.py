"""The queue: jobs, a fixed pool of asyncio workers, cancellation and change notification.

Everything here runs on the server's event loop, except :meth:`Job.cancelled_flag` which the engine
thread reads, and log lines, which the engine thread hands over with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from falstudio.endpoints import RequestModel

from .._internal.errors import FalstudioError

logger = logging.getLogger("falstudio.local")

State = Literal["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]
CANCELLED_MESSAGE = "Request was cancelled"
TIMED_OUT_MESSAGE = "Request timed out"
PRIORITIES = ("normal", "low")  # X-Fal-Queue-Priority, served in this order


class JobCancelled(FalstudioError):
    """Raised inside the engine thread when its job was cancelled."""


@dataclass(eq=False)
class Job:
    """One request's life: state, logs, and its output or error."""

    id: str
    endpoint_id: str
    request: RequestModel
    base_url: str
    webhook_url: str | None = None
    stream: bool = False  # answered as server-sent events, partial images included
    priority: str = "normal"  # X-Fal-Queue-Priority: "low" waits behind every "normal" request
    start_timeout: float | None = None  # X-Fal-Request-Timeout: seconds it may wait to start
    timeout_type: str | None = None  # "user" once start_timeout ended it (fal's X-Fal-Request-Timeout-Type)
    status: State = "IN_QUEUE"
    logs: list[dict[str, Any]] = field(default_factory=list)
    partials: list[dict[str, Any]] = field(default_factory=list)  # stream events with a partial image, in order
    submitted_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    finished_at: float | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    error_type: str | None = None
    error_status: int | None = None
    error_body: Any = None
    cancelled: bool = False
    cancelled_flag: threading.Event = field(default_factory=threading.Event, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)
    version: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def app_path(self) -> str:
        """``owner/app`` (with a ``workflows/``/``comfy/`` namespace kept): where status and result live."""
        parts = self.endpoint_id.split("/")
        return "/".join(parts[:3] if parts[0] in ("workflows", "comfy") else parts[:2])

    @property
    def finished(self) -> bool:
        return self.status == "COMPLETED"

    @property
    def inference_time(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round(self.finished_at - self.started_at, 3)

    def urls(self) -> dict[str, str]:
        base = f"{self.base_url}/{self.app_path}/requests/{self.id}"
        return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}

    def status_body(
        self, *, position: int | None, with_logs: bool, logs_since: int = 0, typed_cancellation: bool = True
    ) -> dict[str, Any]:
        """fal's status JSON. ``typed_cancellation=False``: a cancelled request ends like on fal, COMPLETED
        without ``error`` / ``error_type``."""
        body: dict[str, Any] = {"status": self.status, "request_id": self.id, **self.urls()}
        if self.status == "IN_QUEUE":
            body["queue_position"] = position if position is not None else 0
        body["logs"] = self.logs[logs_since:] if with_logs else None
        body["metrics"] = {"inference_time": self.inference_time} if self.finished else {}
        if self.finished and self.error is not None and (typed_cancellation or not self.cancelled):
            body["error"] = self.error
            body["error_type"] = self.error_type
        return body

    # --- changes (event loop only) ---

    def notify(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_changed(self, version: int, timeout: float) -> bool:
        """True once :attr:`version` differs from ``version``; False after ``timeout`` seconds."""
        if self.version != version:
            return True
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_done(self) -> None:
        await self._done.wait()

    def log(self, message: str, level: str = "INFO") -> None:
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        self.logs.append({"message": message, "level": level, "source": "USER", "timestamp": stamp})
        self.notify()

    def add_partial(self, event: dict[str, Any]) -> None:
        self.partials.append(event)
        self.notify()

    def start(self) -> None:
        self.status = "IN_PROGRESS"
        self.started_at = time.monotonic()
        self.notify()

    def complete(self, output: dict[str, Any]) -> None:
        self.output = output
        self._finish()

    def fail(self, status_code: int, body: Any, message: str, error_type: str) -> None:
        self.error_status, self.error_body, self.error, self.error_type = status_code, body, message, error_type
        self.log(message, "ERROR")
        self._finish()

    def time_out(self) -> None:
        """Never started within ``start_timeout``: fal's 504 ``request_timeout``, a timeout the user asked for."""
        self.timeout_type = "user"
        body = {"detail": TIMED_OUT_MESSAGE, "error_type": "request_timeout"}
        self.fail(504, body, f"{TIMED_OUT_MESSAGE}: it did not start within {self.start_timeout} s", "request_timeout")

    def cancel(self) -> None:
        self.cancelled = True
        self.cancelled_flag.set()
        self.error_status = 400
        self.error_body = {"detail": CANCELLED_MESSAGE, "error_type": "request_cancelled"}
        self.error, self.error_type = CANCELLED_MESSAGE, "request_cancelled"
        self._finish()

    def _finish(self) -> None:
        if self.started_at is None:
            self.started_at = time.monotonic()
        self.finished_at = time.monotonic()
        self.status = "COMPLETED"
        self._done.set()
        self.notify()


Runner = Callable[[Job], Awaitable[None]]


class JobQueue:
    """Pending jobs in order, and ``concurrency`` workers taking them one at a time."""

    def __init__(
        self,
        concurrency: int,
        run: Runner,
        on_finish: Callable[[Job], None],
        *,
        max_jobs: int = 1000,
        max_age: float | None = None,
    ) -> None:
        """``max_jobs`` finished jobs are remembered, none longer than ``max_age`` seconds (see :meth:`prune`)."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self.concurrency = concurrency
        self.max_jobs = max_jobs
        self.max_age = max_age
        self._run = run
        self._on_finish = on_finish
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._pending: OrderedDict[str, Job] = OrderedDict()
        # Tickets (priority rank, arrival) of pending jobs, ascending: a job's queue position is a binary search,
        # not a scan, which matters when hundreds of status streams ask after every move of the queue.
        self._tickets: list[tuple[int, int]] = []
        self._ticket_of: dict[str, tuple[int, int]] = {}
        self._holder: dict[tuple[int, int], Job] = {}
        self._deadlines: dict[str, asyncio.TimerHandle] = {}
        self._next_ticket = 0
        self._has_work = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._worker(), name=f"falstudio-worker-{i}") for i in range(self.concurrency)
        ]

    async def stop(self) -> None:
        """Cancel the workers and every unfinished job."""
        for job in list(self._pending.values()):
            self.cancel(job)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []

    def submit(self, job: Job) -> None:
        """Queue ``job`` behind every job of its priority or a higher one; one with a ``start_timeout`` ends
        with fal's 504 if no worker took it by then."""
        self._jobs[job.id] = job
        self._pending[job.id] = job
        ticket = (PRIORITIES.index(job.priority), self._next_ticket)
        self._next_ticket += 1
        self._ticket_of[job.id] = ticket
        self._holder[ticket] = job
        bisect.insort(self._tickets, ticket)
        if ticket != self._tickets[-1]:  # it went ahead of some: their positions moved
            for waiting in self._pending.values():
                waiting.notify()
        if job.start_timeout is not None:
            loop = asyncio.get_running_loop()
            self._deadlines[job.id] = loop.call_later(job.start_timeout, self._expire, job)
        self._has_work.set()
        self._forget_old()

    def _expire(self, job: Job) -> None:
        if job.id in self._pending:
            self._leave(job)
            job.time_out()
            self._on_finish(job)

    def get(self, request_id: str) -> Job | None:
        return self._jobs.get(request_id)

    def jobs(self) -> list[Job]:
        return list(self._jobs.values())

    @property
    def waiting(self) -> int:
        """Jobs not yet taken by a worker."""
        return len(self._pending)

    def position(self, job: Job) -> int | None:
        """Requests ahead of ``job`` (0-based), or None when it is not waiting."""
        if job.status != "IN_QUEUE":
            return None
        ticket = self._ticket_of.get(job.id)
        if ticket is None:
            return 0  # taken by a worker but not started yet (slow start)
        return bisect.bisect_left(self._tickets, ticket)

    def _leave(self, job: Job) -> None:
        """Take ``job`` out of the waiting line."""
        del self._pending[job.id]
        ticket = self._ticket_of.pop(job.id)
        del self._holder[ticket]
        del self._tickets[bisect.bisect_left(self._tickets, ticket)]
        deadline = self._deadlines.pop(job.id, None)
        if deadline is not None:
            deadline.cancel()
        for waiting in self._pending.values():  # every position behind it moved
            waiting.notify()

    def cancel(self, job: Job) -> bool:
        """Remove a queued job or stop a running one; False when it had already finished."""
        if job.finished:
            return False
        if job.id in self._pending:
            self._leave(job)
            job.cancel()
            self._on_finish(job)
            return True
        job.cancelled_flag.set()
        if job.task is not None:
            job.task.cancel()
        return True

    async def _worker(self) -> None:
        while True:
            while not self._pending:
                self._has_work.clear()
                await self._has_work.wait()
            job = self._holder[self._tickets[0]]
            self._leave(job)
            job.task = asyncio.create_task(self._execute(job), name=f"falstudio-job-{job.id}")
            try:
                await asyncio.wait({job.task})
            except asyncio.CancelledError:
                job.task.cancel()
                await asyncio.wait({job.task})
                raise

    async def _execute(self, job: Job) -> None:
        try:
            await self._run(job)
        except (asyncio.CancelledError, JobCancelled):
            if not job.finished:
                job.cancel()
        except Exception:
            logger.exception("job %s failed inside the local server", job.id)
            if not job.finished:
                detail = "Internal error in the offline engine; see the server log"
                job.fail(
                    500, {"detail": detail, "error_type": "internal_server_error"}, detail, "internal_server_error"
                )
        finally:
            if not job.finished:  # a runner that returned without finishing is a bug; never leave a job hanging
                job.fail(
                    500, {"detail": "Job ended without a result"}, "Job ended without a result", "internal_server_error"
                )
            self._on_finish(job)

    def _forget_old(self) -> None:
        while len(self._jobs) > self.max_jobs:
            oldest = next((j for j in self._jobs.values() if j.finished), None)
            if oldest is None:
                return
            del self._jobs[oldest.id]

    def prune(self) -> int:
        """Forget finished jobs older than ``max_age`` (their status and result then answer 404); returns how many."""
        if self.max_age is None:
            return 0
        horizon = time.monotonic() - self.max_age
        old = [j.id for j in self._jobs.values() if j.finished_at is not None and j.finished_at < horizon]
        for job_id in old:
            del self._jobs[job_id]
        return len(old)
