"""Fault injection: the failures a real fal deployment shows now and then, on demand.

Faults apply to the queue and run routes (not to file serving or storage). Change the fields of a
running server's ``Faults`` at any time; the next request sees them.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

# What nginx in front of fal answers when the ingress is overloaded; fal-client retries it because the body
# says "nginx" and there is no x-fal-request-id header.
NGINX_503 = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)


@dataclass
class Faults:
    """Rates (0 to 1) and delays of injected failures. All zero by default."""

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
    _dice: random.Random = field(default_factory=random.Random, init=False, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)
    _seeded: int | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("ingress_503", "rate_limit_429", "drop_sse"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"Faults.{name} is a rate between 0 and 1, got {rate!r}")
        if self.slow_start < 0:
            raise ValueError(f"Faults.slow_start is a delay in seconds (>= 0), got {self.slow_start!r}")

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
