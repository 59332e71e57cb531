"""What fal says it billed: the ``x-fal-billable-units`` response header, kept as fal sent it (never a price).

fal sends the header on some replies (a sync run, a queued request's result; maybe a submit). Its number is in
the endpoint's own billing unit on fal (an image, a megapixel, a second...), which the header does not name: the
dollar figure is that number times the endpoint's unit price, which falstudio does not guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

HEADER = "x-fal-billable-units"
_VALUE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z][\w /-]{0,40})?\s*$")


@dataclass(frozen=True)
class BilledUnits:
    """``units`` billed by fal for one request, in ``unit`` (None: the endpoint's billing unit, unnamed)."""

    units: Decimal
    unit: str | None
    reply: str  # which reply carried it: "submit", "result" or "run"

    def __str__(self) -> str:
        return f"{self.units} {self.unit or 'billable units'}"


def billed_units(headers: Mapping[str, str], reply: str) -> BilledUnits | None:
    """The header's figure, or None when the reply has no (readable) ``x-fal-billable-units``."""
    raw = headers.get(HEADER)
    if raw is None:
        return None
    match = _VALUE.match(raw)
    if match is None:
        return None
    try:
        units = Decimal(match[1])
    except InvalidOperation:
        return None
    return BilledUnits(units, match[2].strip() if match[2] else None, reply)
