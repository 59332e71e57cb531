"""Typed queue statuses and log entries, parsed from fal's status JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

CANCELLED_ERROR_TYPE = "request_cancelled"
_CANCEL_WORDS = ("cancelled", "canceled", "cancellation")


def says_cancelled(*texts: object) -> bool:
    """Whether an error message or type from the server says the request was cancelled.

    fal ends a cancelled request as COMPLETED without falstudio's ``error_type`` (and its result is an error
    reply whose ``detail`` says so), so the words are what both servers have in common.
    """
    return any(isinstance(t, str) and any(w in t.lower() for w in _CANCEL_WORDS) for t in texts)


@dataclass(frozen=True)
class LogEntry:
    """One log line of a request."""

    message: str
    level: str | None = None  # STDERR | STDOUT | ERROR | INFO | WARN | DEBUG
    source: str | None = None  # e.g. USER
    timestamp: datetime | None = None
    labels: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LogEntry:
        return cls(
            message=str(data.get("message", "")),
            level=data.get("level"),
            source=data.get("source"),
            timestamp=_parse_time(data.get("timestamp")),
            labels=data.get("labels") or {},
        )

    def __str__(self) -> str:
        stamp = self.timestamp.strftime("%H:%M:%S ") if self.timestamp else ""
        level = f"{self.level} " if self.level else ""
        return f"{stamp}{level}{self.message}"


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Status:
    """Base of the three queue states. ``logs`` holds only lines not seen in earlier events of a wait."""

    logs: tuple[LogEntry, ...] = field(default=(), kw_only=True)


@dataclass(frozen=True)
class Queued(Status):
    """Waiting in the queue; ``position`` requests are ahead (0 = next)."""

    position: int = 0


@dataclass(frozen=True)
class InProgress(Status):
    """Running."""


@dataclass(frozen=True)
class Completed(Status):
    """Finished: succeeded, failed (``error`` set) or cancelled (``error_type == "request_cancelled"``, or an
    ``error`` that says so).

    fal's own status for a cancelled request may carry no error at all: the result fetch then tells.
    """

    metrics: Mapping[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.error_type is None

    @property
    def cancelled(self) -> bool:
        return self.error_type == CANCELLED_ERROR_TYPE or says_cancelled(self.error)

    @property
    def inference_seconds(self) -> float | None:
        value = self.metrics.get("inference_time")
        return float(value) if isinstance(value, (int, float)) else None


def parse_status(data: Any) -> Status:
    """A typed status from fal's status JSON; raises ValueError for anything else."""
    if not isinstance(data, Mapping):
        raise ValueError(f"expected a status object, got {type(data).__name__}")
    state = data.get("status")
    logs = tuple(LogEntry.from_json(e) for e in data.get("logs") or () if isinstance(e, Mapping))
    if state == "IN_QUEUE":
        return Queued(logs=logs, position=int(data.get("queue_position") or 0))
    if state == "IN_PROGRESS":
        return InProgress(logs=logs)
    if state == "COMPLETED":
        error = data.get("error")
        return Completed(
            logs=logs,
            metrics=data.get("metrics") or {},
            error=None if error is None else str(error),
            error_type=data.get("error_type"),
        )
    raise ValueError(f"unknown request status {state!r}")


class LogBook:
    """De-duplicates log lines across events (servers may resend every line on each poll)."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self._seen: set[tuple[Any, ...]] = set()

    def fresh(self, status: Status) -> Status:
        """``status`` with only the log lines not seen before; records them."""
        new = []
        for entry in status.logs:
            key = (entry.timestamp, entry.message, entry.level, entry.source)
            if key not in self._seen:
                self._seen.add(key)
                new.append(entry)
        self.entries.extend(new)
        if len(new) == len(status.logs):
            return status
        return replace(status, logs=tuple(new))


def same_state(a: Status | None, b: Status) -> bool:
    """True when ``b`` tells nothing new after ``a`` (same state, position, and no new logs)."""
    return a is not None and type(a) is type(b) and not b.logs and replace(a, logs=()) == b
