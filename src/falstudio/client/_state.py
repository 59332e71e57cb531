"""A tracked request's snapshot: :class:`State`, one immutable value per change (see :mod:`._tracking`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import errors
from ._phases import FINAL_PHASES, FinalPhase, Phase
from ._status import LogEntry

if TYPE_CHECKING:
    from .results import Image, Result

__all__ = ["FINAL_PHASES", "FinalPhase", "Phase", "State"]


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

    @classmethod
    def never_sent(cls, endpoint: str, reason: str) -> State:
        """The final state of a request cancelled before it was sent: nothing ran, no time passed."""
        now = time.monotonic()
        return cls(endpoint, "cancelled", error=errors.RequestCancelledError(reason), started=now, ended=now)

    @property
    def sent(self) -> bool:
        """Whether the request was started (False only for :meth:`never_sent` states)."""
        return self.ended != self.started

    @property
    def done(self) -> bool:
        """Whether this is the final state (done, failed or cancelled)."""
        return self.phase in FINAL_PHASES

    @property
    def elapsed(self) -> float:
        """Seconds since the request was started (frozen once it has ended)."""
        return (self.ended or time.monotonic()) - self.started

    def result_or_raise(self) -> Result:
        """The result of a final state, or the request's typed error raised (an error that is not about the
        request, such as a bad argument or a callback's, is raised as itself)."""
        if self.error is not None:
            cause = self.error.__cause__
            raise cause if type(self.error) is errors.FalError and isinstance(cause, Exception) else self.error
        if self.result is None:
            raise RuntimeError(f"the request to {self.endpoint} has not ended: it is {self.phase}")
        return self.result
