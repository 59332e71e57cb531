"""Where an endpoint's upstream model stands: dates in, a status and a note out, for any day (default: today).

Facts (shared notes gpt-image-domain.md §0, gpt-image-2.md §1): OpenAI shut gpt-image-1 down on 2026-10-23 and
retired gpt-image-1-mini and gpt-image-1.5 on 2026-12-01 (notice 2026-06-02); fal marked the BYOK edit endpoint
deprecated in 2026-03. "Retired" means the upstream model is shut down: fal may still answer, or may fail.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Literal

Status = Literal["active", "deprecated", "retired"]
STATUSES: tuple[Status, ...] = ("active", "deprecated", "retired")


def _days(n: int) -> str:
    return f"{n} day{'s' if n != 1 else ''}"


@dataclass(frozen=True)
class Lifecycle:
    """The dates of one upstream model, and the endpoint to use instead."""

    model: str  # the upstream model, e.g. "gpt-image-1-mini"
    retires_on: datetime.date | None = None  # the day the upstream model is shut down
    announced_on: datetime.date | None = None  # the day the shutdown was announced
    fal_deprecated_on: datetime.date | None = None  # fal marked this endpoint deprecated (month precision)
    successor: str | None = None
    by: str = "OpenAI"

    def status(self, today: datetime.date | None = None) -> Status:
        """``retired`` from the shutdown day on; ``deprecated`` once announced (or marked by fal); else active."""
        day = today or datetime.date.today()
        if self.retires_on is not None and day >= self.retires_on:
            return "retired"
        announced = self.announced_on is None or day >= self.announced_on
        if (self.retires_on is not None and announced) or (
            self.fal_deprecated_on is not None and day >= self.fal_deprecated_on
        ):
            return "deprecated"
        return "active"

    def note(self, today: datetime.date | None = None) -> str:
        """One or two sentences about the model as of ``today``: never "retires" once the day has passed."""
        day = today or datetime.date.today()
        status = self.status(day)
        parts = []
        if self.fal_deprecated_on is not None and day >= self.fal_deprecated_on:
            parts.append(f"fal marked this endpoint deprecated in {self.fal_deprecated_on:%Y-%m}.")
        if self.retires_on is not None and status == "retired":
            ago = (day - self.retires_on).days
            when = "today" if ago == 0 else f"{_days(ago)} ago"
            parts.append(
                f"{self.by} shut {self.model} down on {self.retires_on.isoformat()} ({when}): "
                "fal may still answer this endpoint, or may fail."
            )
        elif self.retires_on is not None and status == "deprecated":
            left = (self.retires_on - day).days
            when = "tomorrow" if left == 1 else f"in {_days(left)}"
            parts.append(f"{self.by} retires {self.model} on {self.retires_on.isoformat()} ({when}).")
        if self.successor and status != "active":
            parts.append(f"Use {self.successor} instead.")
        return " ".join(parts)


# The successor of every GPT Image 1 / 1 Mini / 1.5 endpoint, by kind.
SUCCESSOR = {"text-to-image": "openai/gpt-image-2", "image-edit": "openai/gpt-image-2/edit"}
_GPT_IMAGE_1_SHUTDOWN = datetime.date(2026, 10, 23)
_MINI_15_RETIREMENT = datetime.date(2026, 12, 1)
_MINI_15_NOTICE = datetime.date(2026, 6, 2)
_FAL_BYOK_EDIT_DEPRECATED = datetime.date(2026, 3, 1)  # "2026-03": month precision


def gpt_image_1(kind: str, *, fal_deprecated: bool = False) -> Lifecycle:
    return Lifecycle(
        "gpt-image-1",
        retires_on=_GPT_IMAGE_1_SHUTDOWN,
        fal_deprecated_on=_FAL_BYOK_EDIT_DEPRECATED if fal_deprecated else None,
        successor=SUCCESSOR[kind],
    )


def gpt_image_1_mini(kind: str) -> Lifecycle:
    return Lifecycle(
        "gpt-image-1-mini", retires_on=_MINI_15_RETIREMENT, announced_on=_MINI_15_NOTICE, successor=SUCCESSOR[kind]
    )


def gpt_image_15(kind: str) -> Lifecycle:
    return Lifecycle(
        "gpt-image-1.5", retires_on=_MINI_15_RETIREMENT, announced_on=_MINI_15_NOTICE, successor=SUCCESSOR[kind]
    )


LIVE = Lifecycle("gpt-image-2")  # nobody has announced a shutdown (as of 2026-12-02)
