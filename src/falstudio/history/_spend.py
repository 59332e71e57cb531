"""What the run history says was spent: estimates and fal's billed figures, by endpoint, offline and fal apart.

A request counts once it succeeded (``done``), with the estimate recorded when it was sent; requests still
in flight are reported beside it; failed, cancelled and lost requests cost nothing (fal bills only successful
outputs). fal's ``x-fal-billable-units`` figures are summed per endpoint in their own unit, never turned into
dollars. Offline runs are priced as fal would bill them and reported apart.
"""

from __future__ import annotations

import html
import itertools
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from falstudio._internal.since import describe_since

from ._record import RunRecord
from ._store import HistoryWarning

if TYPE_CHECKING:
    from ._store import HistoryStore

ZERO = Decimal(0)
MODES = {"local": "offline", "fal": "fal.ai", "unknown": "unknown server"}
_STAMP = re.compile(r"^(\d{8}T\d{6}\.\d{6}Z)-")


@dataclass(frozen=True)
class EndpointSpend:
    """One endpoint's spend on one kind of server (``mode``: ``local`` = offline, ``fal`` or ``unknown``)."""

    endpoint: str
    mode: str
    requests: int  # succeeded requests
    estimated: Decimal  # the sum of their estimates (USD)
    unpriced: int  # succeeded requests that had no estimate
    in_flight: int
    in_flight_estimated: Decimal
    billed_requests: int  # succeeded requests for which fal sent x-fal-billable-units
    billed_units: Decimal | None  # their sum, in the endpoint's billing unit (``billed_unit``)
    billed_unit: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "server": MODES.get(self.mode, self.mode),
            "requests": self.requests,
            "estimated_usd": float(self.estimated),
            "unpriced": self.unpriced,
            "in_flight": self.in_flight,
            "in_flight_usd": float(self.in_flight_estimated),
            "billed_requests": self.billed_requests,
            "billed_units": None if self.billed_units is None else float(self.billed_units),
            "billed_unit": self.billed_unit,
        }


class Spend:
    """Spend since a point in time. ``spend.fal`` and ``spend.offline`` are estimates in USD; ``spend.rows`` has
    one :class:`EndpointSpend` per endpoint and server, fal's billed units included; ``records()`` feeds pandas."""

    def __init__(self, rows: Iterable[EndpointSpend], since: float | None) -> None:
        self.rows = tuple(sorted(rows, key=lambda r: (r.mode, r.endpoint)))
        self.since = since

    def estimated(self, mode: str | None = None) -> Decimal:
        """Estimates of succeeded requests (USD); ``mode``: ``"local"`` (offline) or ``"fal"``; None: both."""
        return sum((r.estimated for r in self.rows if mode is None or r.mode == mode), ZERO)

    def in_flight(self, mode: str | None = None) -> Decimal:
        return sum((r.in_flight_estimated for r in self.rows if mode is None or r.mode == mode), ZERO)

    @property
    def fal(self) -> Decimal:
        return self.estimated("fal")

    @property
    def offline(self) -> Decimal:
        return self.estimated("local")

    def billed_units(self) -> dict[str, tuple[Decimal, str | None]]:
        """Per endpoint, what fal reported billing: ``(units, unit)`` (only endpoints fal reported on)."""
        return {
            r.endpoint: (r.billed_units, r.billed_unit)
            for r in self.rows
            if r.billed_units is not None and r.mode == "fal"
        }

    def records(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rows]

    def __repr__(self) -> str:
        lines = [f"Spend {describe_since(self.since)}: {self._totals()}"]
        for r in self.rows:
            lines.append(f"  {MODES.get(r.mode, r.mode):<8} {r.endpoint:<40} {_row_text(r)}")
        return "\n".join(lines)

    def _totals(self) -> str:
        from falstudio.endpoints.pricing import usd  # the endpoints load when spend is shown, not to read

        parts = []
        for mode in ("fal", "local", "unknown"):
            rows = [r for r in self.rows if r.mode == mode]
            if rows:
                noun = "estimated on fal.ai" if mode == "fal" else f"{MODES[mode]} (priced as fal would bill)"
                parts.append(f"{usd(self.estimated(mode))} {noun}")
        return "; ".join(parts) or "nothing"

    def _repr_html_(self) -> str:
        from falstudio.endpoints.pricing import usd

        head = "".join(f"<th>{h}</th>" for h in ("server", "endpoint", "requests", "estimated", "in flight", "billed"))
        body = "".join(
            f"<tr><td>{MODES.get(r.mode, r.mode)}</td><td><code>{html.escape(r.endpoint)}</code></td>"
            f"<td>{r.requests}</td><td>{usd(r.estimated)}</td><td>{r.in_flight}</td>"
            f"<td>{html.escape(_billed_text(r))}</td></tr>"
            for r in self.rows
        )
        title = html.escape(f"Spend {describe_since(self.since)}: {self._totals()}")
        return f"<div><b>{title}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def summarize(records: Iterable[RunRecord], since: float | None = None) -> Spend:
    """Add up ``records`` made at or after ``since`` (a POSIX time; None: all)."""
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        if since is not None and (_when(record) or 0.0) < since:
            continue
        groups.setdefault((record.mode or "unknown", record.endpoint), []).append(record)
    return Spend((_row(endpoint, mode, rows) for (mode, endpoint), rows in groups.items()), since)


def spend_entries(store: HistoryStore) -> list[tuple[str, str, Decimal, float]]:
    """For the budget guard's spend journal: ``(request id or intent:<id>, mode, estimate, time)`` of each request
    that counts: succeeded, in flight, or whose reply was lost (it may have run and been billed)."""
    found: list[tuple[str, str, Decimal, float]] = []
    for record in records_since(store, None):
        if counts(record):
            key = record.request_id or f"intent:{record.intent_id}"
            found.append((key, record.mode or "unknown", _amount(record) or ZERO, _when(record) or 0.0))
    return found


def counts(record: RunRecord) -> bool:
    """Whether a record counts against a budget: succeeded, in flight, or unconfirmed (a lost reply)."""
    return record.state == "done" or record.in_flight or (record.state == "lost" and record.error_type == "unconfirmed")


def records_since(store: HistoryStore, since: float | None) -> Iterator[RunRecord]:
    """The records made at or after ``since``, reading only the files whose name says they may be (the store keeps
    parsed records while their files are unchanged; an unreadable one is skipped with one warning)."""
    cutoff = _stamp(since - 1.0) if since is not None else None  # a second of slack for clock rounding

    def recent(name: str) -> bool:
        match = _STAMP.match(name)
        return cutoff is None or not match or match[1] >= cutoff

    # newest first; an early record whose completed twin is there too (a kill before it was removed) is left out
    for path, record in store.named_records(itertools.takewhile(recent, store.record_names())):
        if since is None or (_when(record) or 0.0) >= since:
            if record.cost_amount is not None and _amount(record) is None:
                _warn_bad_amount(Path(path), record.cost_amount)
            yield record


def _row(endpoint: str, mode: str, records: list[RunRecord]) -> EndpointSpend:
    done = [r for r in records if r.state == "done"]
    flying = [r for r in records if r.in_flight]
    billed = [(r, amount) for r in done if (amount := _decimal(r.billed_units)) is not None]
    units = {r.billed_unit for r, _ in billed}
    return EndpointSpend(
        endpoint=endpoint,
        mode=mode,
        requests=len(done),
        estimated=sum((_amount(r) or ZERO for r in done), ZERO),
        unpriced=sum(_amount(r) is None for r in done),
        in_flight=len(flying),
        in_flight_estimated=sum((_amount(r) or ZERO for r in flying), ZERO),
        billed_requests=len(billed),
        billed_units=sum((u for _, u in billed), ZERO) if billed else None,
        billed_unit=(units.pop() if len(units) == 1 else "mixed units") if billed else None,
    )


def _row_text(r: EndpointSpend) -> str:
    from falstudio.endpoints.pricing import usd

    text = f"{r.requests} request{'s' * (r.requests != 1)}, {usd(r.estimated)} estimated"
    if r.unpriced:
        text += f" (+{r.unpriced} with no known price)"
    if r.in_flight:
        text += f"; {r.in_flight} in flight ({usd(r.in_flight_estimated)})"
    if r.billed_units is not None:
        text += f"; {_billed_text(r)}"
    return text


def _billed_text(r: EndpointSpend) -> str:
    if r.billed_units is None:
        return ""
    units = f"{r.billed_units} {r.billed_unit or 'units'} for {r.billed_requests} request(s)"
    if r.mode == "fal":
        return f"fal billed {units}"
    return f"the server reported {units} as billable (offline: nothing billed)"


def _when(record: RunRecord) -> float | None:
    return record.submitted_at if record.submitted_at is not None else record.finished_at


def _amount(record: RunRecord) -> Decimal | None:
    """The record's estimate; None when it has none, or one no request can cost (negative, not finite, huge)."""
    if record.cost_amount is None:
        return None
    from falstudio.endpoints.pricing import sane_amount  # the endpoints load when spend is summed, not to read

    return sane_amount(record.cost_amount)


_warned_bad: set[Path] = set()


def _warn_bad_amount(path: Path, text: str) -> None:
    if path not in _warned_bad:
        _warned_bad.add(path)
        shown = text if len(text) <= 40 else f"{text[:40]}…"
        warnings.warn(
            f"{path}: cost_amount {shown!r} is not an amount a request can cost; ignored for spend",
            HistoryWarning,
            stacklevel=3,
        )


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _stamp(when: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
