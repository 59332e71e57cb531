"""A tracked request's snapshot: :class:`State`, one immutable value per change (see :mod:`._tracking`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from . import errors
from ._status import LogEntry

if TYPE_CHECKING:
    from .results import Image, Result

Phase = Literal["submitting", "queued", "running", "done", "failed", "cancelled"]
FINAL_PHASES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class State:
    """One snapshot of a tracked request; the request publishes a new one on every change."""

    endpoint: str
    phase: Phase = "submitting"
    request_id: str | None = None
    queue_position: int | None = None  # requests ahead (0 = next), while queued
    logs: tuple[LogEntry, ...] = ()  # every log line so far
    partial: Image | None = None  # the newest partial image of a streamed run
    partials: int = 0  # how many partial images arrived
    result: Result | None = None
    error: errors.FalError | None = None
    streaming: bool = False  # runs through the endpoint's stream (a sync request on fal)
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    @property
    def done(self) -> bool:
        """Whether this is the final state (done, failed or cancelled)."""
        return self.phase in FINAL_PHASES

    @property
    def elapsed(self) -> float:
        """Seconds since the request was started (frozen once it has ended)."""
        return (self.ended or time.monotonic()) - self.started
