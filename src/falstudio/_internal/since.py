"""Points in time for spend reports and budgets: ``since="today"``, a date, a datetime or a duration.

Shared by the client (``budget_since``) and the history (``spent(since=...)``, ``history(since=...)``). Dates and
naive datetimes are local time, as a person means "today"; ``today`` and ``now`` are injectable for tests.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable

__all__ = ["EXAMPLES", "describe_since", "since_timestamp"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|minutes?|h|hours?|d|days?|w|weeks?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EXAMPLES = "'today', 'yesterday', 'all', '2h', '30m', '7d', '2026-12-01', a date, a datetime or a timedelta"


def since_timestamp(
    since: object,
    *,
    name: str = "since",
    today: Callable[[], dt.date] = dt.date.today,
    now: Callable[[], float] = time.time,
) -> float | None:
    """``since`` as a POSIX timestamp, or None for "all time". Raises ValueError naming ``name`` otherwise."""
    if since is None:
        return None
    if isinstance(since, dt.datetime):
        return since.timestamp()  # naive: local time
    if isinstance(since, dt.date):
        return _midnight(since)
    if isinstance(since, dt.timedelta):
        if since.total_seconds() < 0:
            raise ValueError(f"{name} must be a duration back from now (>= 0), got {since!r}")
        return now() - since.total_seconds()
    if isinstance(since, str):
        text = since.strip().lower()
        if text in ("all", ""):
            return None
        if text == "today":
            return _midnight(today())
        if text == "yesterday":
            return _midnight(today() - dt.timedelta(days=1))
        if text == "now":
            return now()
        match = _DURATION.match(text)
        if match:
            return now() - float(match[1]) * _UNIT_SECONDS[match[2][0].lower()]
        try:
            parsed = dt.datetime.fromisoformat(since.strip())
        except ValueError:
            pass
        else:
            return _midnight(parsed.date()) if len(since.strip()) == 10 else parsed.timestamp()
    raise ValueError(f"{name} must be one of {EXAMPLES}; got {since!r}")


def describe_since(timestamp: float | None) -> str:
    """``since 2026-12-02 00:00`` (local time), or ``all time``."""
    if timestamp is None:
        return "all time"
    return "since " + dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time()).timestamp()
