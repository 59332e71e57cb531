"""The hook through which the client reports each request's life to a run history.

The client calls these methods; ``falstudio.history`` implements them. Implementations must never raise
into the client (a broken history must not break a generation) and must never receive secrets: the
client passes ``request.redacted()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FinalState = Literal["completed", "failed", "cancelled"]


@dataclass(frozen=True)
class Submitted:
    endpoint: str
    request_id: str
    request: dict[str, Any]  # redacted: secrets already replaced by "***"
    base_url: str  # where the request lives, so a later process can resume it
    mode: Literal["local", "fal"]
    submitted_at: float  # time.time()
    sync_mode: bool = False  # results of sync_mode requests cannot be fetched again by request id
    cost_estimate: str | None = None  # str(CostEstimate), e.g. "≤ $0.06"
    cost_amount: str | None = None  # Decimal as a string, e.g. "0.06"


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


class Recorder(Protocol):
    def submitted(self, event: Submitted) -> None: ...

    def finished(self, event: Finished) -> None: ...
