"""Prices of any fal endpoint from fal's Platform API: ``unit_price × units``, the unit read from fal's ``unit``.

fal's ``GET /v1/models/pricing`` gives each endpoint a price per *unit*, a free-form string (``"image"``,
``"megapixels"``, ``"seconds"``, ``"units"``...). A request's units are counted from its fields where the unit
allows (images: ``num_images``; megapixels: ``image_size`` × ``num_images``; seconds: ``duration``); any other
unit, and the token-billed models' ``"units"`` ($1 a unit, a fractional number per call), have no price here
rather than a guess. Prices are kept with their date (:mod:`.dated`) once fetched (fal's prices need a key:
:class:`falstudio.client.Platform` fetches them). Registered endpoints keep their hand-written tables.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from . import dated, sizes
from .pricing import CostEstimate, no_price

PRICES = "prices"  # the file under the platform cache
_MICRO = Decimal("0.000001")
_PER_IMAGE = frozenset({"image", "images"})
_PER_CALL = frozenset({"generation", "generations", "request", "requests", "call", "calls", "video", "videos"})
_MEGAPIXELS = frozenset({"megapixel", "megapixels", "mp"})
_SECONDS = frozenset({"second", "seconds", "video second", "video seconds"})
_TOKEN_BILLED = frozenset({"unit", "units"})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*s?\s*$")

_memory: dict[str, UnitPrice] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class UnitPrice:
    """One row of fal's price list: ``unit_price`` (in ``currency``) per ``unit`` of ``endpoint_id``."""

    endpoint_id: str
    unit_price: Decimal
    unit: str
    currency: str = "USD"
    fetched_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """The row in fal's shape (``unit_price`` as a number)."""
        price = float(self.unit_price)
        return {"endpoint_id": self.endpoint_id, "unit_price": price, "unit": self.unit, "currency": self.currency}


def parse_prices(body: Any, fetched_at: datetime | None = None) -> list[UnitPrice]:
    """The rows of a ``/models/pricing`` reply; ValueError naming the field when the reply is not fal's shape."""
    rows = body.get("prices") if isinstance(body, Mapping) else None
    if not isinstance(rows, list):
        raise ValueError("the pricing reply has no 'prices' list")
    prices = []
    for i, row in enumerate(rows):
        where = f"prices[{i}]"
        if not isinstance(row, Mapping) or not isinstance(row.get("endpoint_id"), str):
            raise ValueError(f"{where} has no endpoint_id")
        raw = row.get("unit_price")
        if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not raw >= 0:
            raise ValueError(f"{where}.unit_price must be a number >= 0, got {raw!r}")
        unit, currency = row.get("unit"), row.get("currency")
        if not isinstance(unit, str) or not isinstance(currency, str):
            raise ValueError(f"{where} needs a unit and a currency (strings)")
        prices.append(UnitPrice(row["endpoint_id"], Decimal(str(raw)), unit, currency, fetched_at))
    return prices


def remember(prices: Iterable[UnitPrice]) -> None:
    """Keep ``prices`` in this process and on disk (merged with what is there)."""
    prices = list(prices)
    if not prices:
        return
    with _lock:
        stored = dated.read(PRICES)
        rows: dict[str, Any] = dict(stored.data) if stored is not None and isinstance(stored.data, dict) else {}
        for price in prices:
            _memory[price.endpoint_id] = price
            when = (price.fetched_at or datetime.now(UTC)).isoformat()
            rows[price.endpoint_id] = {**price.as_json(), "unit_price": str(price.unit_price), "fetched_at": when}
        dated.write(PRICES, rows)


def price_of(endpoint_id: str) -> UnitPrice | None:
    """fal's unit price for ``endpoint_id`` if falstudio has fetched it (in this process or an earlier one)."""
    with _lock:
        if endpoint_id in _memory:
            return _memory[endpoint_id]
        stored = dated.read(PRICES)
    row = stored.data.get(endpoint_id) if stored is not None and isinstance(stored.data, dict) else None
    if not isinstance(row, dict):
        return None
    try:
        when = datetime.fromisoformat(row["fetched_at"])
        price = UnitPrice(endpoint_id, Decimal(row["unit_price"]), str(row["unit"]), str(row["currency"]), when)
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None
    with _lock:
        return _memory.setdefault(endpoint_id, price)


def forget() -> None:
    """Drop the prices held in memory (the disk copy stays)."""
    with _lock:
        _memory.clear()


def units_of(price: UnitPrice, request: Any) -> tuple[Decimal, str] | str:
    """``(units, how they were counted)`` for ``request``, or why they cannot be counted."""
    unit = " ".join(price.unit.lower().split())
    n = getattr(request, "num_images", 1)
    n = n if isinstance(n, int) and not isinstance(n, bool) and n > 0 else 1
    if unit in _PER_IMAGE:
        return Decimal(n), f"{n} image{'s' if n > 1 else ''}"
    if unit in _PER_CALL:
        return Decimal(1), f"1 {unit.rstrip('s')}"
    if unit in _MEGAPIXELS:
        value = getattr(request, "image_size", None)
        dims = sizes.dimensions(value)
        if dims is None:
            return f"its image_size ({value!r}) does not say how many pixels fal renders, so the megapixels are unknown"
        w, h = dims
        megapixels = Decimal(w * h) / Decimal(1_000_000)
        preset = isinstance(value, str) and value in sizes.PRESET_PIXELS
        how = f"{n} × {w}x{h} = {n * megapixels:f} megapixels"
        return n * megapixels, how + (f" ({value} as fal's usual pixels; {sizes.PRESETS_UNVERIFIED})" if preset else "")
    if unit in _SECONDS:
        duration = getattr(request, "duration", None)
        found = _DURATION.match(str(duration)) if duration is not None and not isinstance(duration, bool) else None
        if found is None:
            return f"fal bills it per {unit} and the request names no duration in seconds"
        return Decimal(found.group(1)), f"{found.group(1)} seconds (duration)"
    if unit in _TOKEN_BILLED:
        return (
            f"fal bills it in {price.unit!r} (token-billed: ${price.unit_price} a unit, a fractional number of units "
            "per call, known only after the call)"
        )
    return f"fal's unit {price.unit!r} is not one falstudio can count before a call"


def estimate_by_unit(endpoint_id: str, request: Any, docs_url: str = "") -> CostEstimate:
    """The estimate of ``request`` from fal's unit price for ``endpoint_id``, or "no price known" saying why."""
    see = f"; see {docs_url}" if docs_url else ""
    price = price_of(endpoint_id)
    if price is None:
        return no_price(
            f"falstudio has no price table for {endpoint_id} (typed from fal's schema), and fal's unit price for it "
            "has not been fetched: prices come from fal's Platform API, which needs a key (set FAL_KEY, then "
            f"falstudio.client.Platform().prices([{endpoint_id!r}]) fetches and keeps it){see}"
        )
    if price.currency != "USD":
        return no_price(f"fal prices {endpoint_id} in {price.currency}, and falstudio counts budgets in USD")
    counted = units_of(price, request)
    if isinstance(counted, str):
        return no_price(f"{counted}{see}")
    units, how = counted
    exact = price.unit_price * units
    amount = exact.quantize(_MICRO, rounding=ROUND_CEILING)
    day = f", fetched {price.fetched_at:%Y-%m-%d}" if price.fetched_at else ""
    explanation = (
        f"{how} × ${price.unit_price} per {price.unit} (fal's unit price for {endpoint_id}{day}) "
        f"= ${amount.normalize():f}; fal may adjust a unit price for resolution or length"
    )
    return CostEstimate(
        amount=amount,
        is_upper_bound=False,
        explanation=explanation,
        breakdown={
            "source": "fal /v1/models/pricing",
            "unit": price.unit,
            "unit_price": price.unit_price,
            "units": units,
            "fetched_at": price.fetched_at.isoformat() if price.fetched_at else None,
            "unrounded": exact,
        },
        is_approximate=True,  # fal adjusts unit prices "for resolution/length" (its spec)
    )
