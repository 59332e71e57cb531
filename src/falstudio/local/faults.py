"""Fault injection: the failures a real fal deployment shows now and then, on demand, and holds that pause
jobs at named points of their run until you let them on.

Faults apply to the queue and run routes (not to file serving or storage). Change the fields of a
running server's ``Faults`` at any time; the next request sees them.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

# What nginx in front of fal answers when the ingress is overloaded; fal-client retries it because the body
# says "nginx" and there is no x-fal-request-id header.
NGINX_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)

Point = Literal["start", "log", "partial", "output"]
POINTS: tuple[str, ...] = get_args(Point)


@dataclass
class Faults:
    """Rates (0 to 1) and delays of injected failures, and holds. All zero (none) by default.

    ``hold`` names points where every job waits until :meth:`release` lets it on, so you can watch a run one
    step at a time (a lesson pausing on each partial image, a test observing a state without racing the clock):
    ``"start"`` (a worker took the job, still ``IN_QUEUE``), ``"log"`` (before each of the engine's progress
    lines), ``"partial"`` (before each partial image of a streamed run) and ``"output"`` (before the job
    completes with its output)::

        faults = Faults(hold={"partial", "output"})
        with LocalServer(faults=faults) as server:
            ...  # start a streamed run
            faults.wait_held("partial")  # the run is at its first partial image
            faults.release("partial")  # the first partial image is sent; the run holds at the next
            faults.release("output", count=2)  # passes for the next two jobs to reach the output

    A release that no job waits for is kept for the next one to arrive there; a cancelled job leaves its hold (a
    release it had just been given goes to the next job). Jobs already waiting stay until released.
    """

    ingress_503: float = 0.0
    """Share of requests answered 503 with an nginx HTML body and no ``x-fal-request-id`` header."""
    rate_limit_429: float = 0.0
    """Share of requests answered 429 (concurrent requests limit), which clients retry."""
    drop_sse: float = 0.0
    """Share of status streams closed early, without a COMPLETED event."""
    slow_start: float = 0.0
    """Seconds every job waits, still IN_QUEUE, after a worker takes it and before IN_PROGRESS."""
    fail_prompt: str | None = None
    """Requests whose prompt contains this text end COMPLETED with error_type content_policy_violation."""
    seed: int | None = None
    """Seed for the fault dice, so a test sees the same sequence of faults every run."""
    hold: Iterable[Point] = frozenset()
    """Points where each job waits for a :meth:`release`: any of ``"start"``, ``"log"``, ``"partial"``,
    ``"output"``."""
    _dice: random.Random = field(default_factory=random.Random, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _seeded: int | None = field(default=None, init=False, repr=False, compare=False)
    _changed: threading.Condition = field(init=False, repr=False, compare=False)
    _held: dict[str, list[asyncio.Future[None]]] = field(default_factory=dict, init=False, repr=False, compare=False)
    _passes: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("ingress_503", "rate_limit_429", "drop_sse"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"Faults.{name} is a rate between 0 and 1, got {rate!r}")
        if self.slow_start < 0:
            raise ValueError(f"Faults.slow_start is a delay in seconds (>= 0), got {self.slow_start!r}")
        self.hold = frozenset(self.hold)
        for point in self.hold:
            _check(point)
        self._changed = threading.Condition(self._lock)

    def roll(self, rate: float) -> bool:
        """True with probability ``rate``; reproducible when ``seed`` is set."""
        if rate <= 0:
            return False
        with self._lock:
            if self.seed is not None and self._seeded != self.seed:
                self._dice.seed(self.seed)
                self._seeded = self.seed
            return self._dice.random() < rate

    def fails(self, prompt: object) -> bool:
        return bool(self.fail_prompt) and isinstance(prompt, str) and str(self.fail_prompt) in prompt

    def release(self, point: Point, count: int = 1) -> None:
        """Let ``count`` jobs on past ``point``: those waiting there first, then the next ones to arrive."""
        _check(point)
        with self._lock:
            waiting = self._held.setdefault(point, [])
            for _ in range(count):
                if waiting:
                    future = waiting.pop(0)
                    future.get_loop().call_soon_threadsafe(_open, future)
                else:
                    self._passes[point] = self._passes.get(point, 0) + 1
            self._changed.notify_all()

    def held(self, point: Point) -> int:
        """How many jobs wait at ``point`` now."""
        _check(point)
        with self._lock:
            return len(self._held.get(point, ()))

    def wait_held(self, point: Point, count: int = 1, timeout: float | None = 30.0) -> bool:
        """Block until at least ``count`` jobs wait at ``point`` (True), or ``timeout`` seconds (False)."""
        _check(point)
        with self._lock:
            return self._changed.wait_for(lambda: len(self._held.get(point, ())) >= count, timeout)

    async def gate(self, point: Point) -> None:
        """On the server's loop: wait here while ``point`` is held and no release lets this job on."""
        with self._lock:
            if point not in self.hold:
                return
            if self._passes.get(point, 0) > 0:
                self._passes[point] -= 1
                return
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._held.setdefault(point, []).append(future)
            self._changed.notify_all()
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                waiting = self._held.get(point, [])
                if future in waiting:
                    waiting.remove(future)
                else:  # released as it was cancelled: the pass goes to the next job
                    self._passes[point] = self._passes.get(point, 0) + 1
                self._changed.notify_all()
            raise


def _check(point: str) -> None:
    if point not in POINTS:
        raise ValueError(f"Faults.hold: unknown point {point!r}; the points are {', '.join(map(repr, POINTS))}")


def _open(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
