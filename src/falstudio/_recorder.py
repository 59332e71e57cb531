"""The hook through which the client reports each request's life to a run history.

The client calls these methods; ``falstudio.history`` implements them. Implementations must never raise
into the client (a broken history must not break a generation) and must never receive secrets: the
client passes ``request.redacted()``.

A request is recorded before it is sent (:class:`Sending`, no request id yet), so a process killed between the
server accepting it and the reply being recorded still leaves a trace; :class:`Submitted` then completes that
record with the request id, or :class:`Unanswered` says what became of it. ``sending`` and ``unanswered`` are
optional for a recorder: one without them just does not see those events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FinalState = Literal["completed", "failed", "cancelled"]
Mode = Literal["local", "fal"]


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


@dataclass(frozen=True)
class Unanswered:
    """The request recorded by ``Sending`` got no usable reply. ``may_have_run``: the server may have queued it
    anyway (a lost reply, a gateway error); otherwise it certainly did not (refused, never sent)."""

    endpoint: str
    intent_id: str
    may_have_run: bool
    reason: str


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
    cost_estimate: str | None = None  # as in Submitted, so a record whose submission was not recorded has it
    cost_amount: str | None = None
    billed_units: str | None = None  # fal's x-fal-billable-units on the result (or run) reply, as sent
    billed_unit: str | None = None


class Recorder(Protocol):
    def submitted(self, event: Submitted) -> None: ...

    def finished(self, event: Finished) -> None: ...
