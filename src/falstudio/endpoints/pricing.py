"""Price tables and per-request cost estimates, as fal's tables say (fractional cents kept).

Only the models whose fal page says "total request price rounded up to the nearest cent" (gpt-image-1 and
mini) are rounded up per request; for the others no source says so, so estimates and budgets keep fractions
of a cent (GPT Image 2 at 1024x768 low is ~$0.0101, not $0.02). :func:`usd` rounds for display only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

from . import sizes

CENT = Decimal("0.01")
TOKENS_PER_WORD = 4  # fal's own rule of thumb for prompt tokens
# Input image tokens for a ~1024px reference (fal's figures); only used to bound edit costs.
INPUT_IMAGE_TOKENS = {"low": 135, "high": 3050}
SIZES = ("1024x1024", "1024x1536", "1536x1024")


@dataclass(frozen=True)
class PriceTable:
    """Per-image list prices by quality and size, plus per-token rates for inputs (USD)."""

    model: str
    per_image: dict[str, dict[str, Decimal]]  # quality -> size -> USD
    text_per_token: Decimal
    image_in_per_token: Decimal
    source: str
    as_of: str
    billed_by: str = "fal"  # "fal" or "OpenAI" (bring-your-own-key endpoints)
    input_fidelity: str = "low"  # fidelity input images are priced at when a request does not say
    rounds_to_cent: bool = False  # fal's page says "total request price rounded up to the nearest cent"

    def image_price(self, quality: str, size: str) -> Decimal:
        return self.per_image[quality][size]


@dataclass(frozen=True)
class CostEstimate:
    """An estimate for one request (or a total). ``amount`` is what fal would bill, in USD.

    ``is_upper_bound``: an ``auto`` value was priced at its dearest; ``is_approximate``: a size off fal's table
    was priced from a nearby one (``explanation`` says how). Shown as ``≤ $0.41`` and ``~$0.12``. Requests with
    no known price (endpoints typed from fal's schema) count in ``unpriced``, not in ``amount``: a total over
    them says so instead of guessing.
    """

    amount: Decimal
    is_upper_bound: bool
    explanation: str
    breakdown: dict[str, Any] = field(default_factory=dict, compare=False)
    is_approximate: bool = False
    priced: int = 1  # requests whose price is in ``amount``
    unpriced: int = 0  # requests with no known price

    @property
    def known(self) -> bool:
        """Every request in this estimate has a price."""
        return self.unpriced == 0

    def __str__(self) -> str:
        if not self.priced and self.unpriced:
            return NO_PRICE
        text = f"{'≤ ' if self.is_upper_bound else '~' if self.is_approximate else ''}{usd(self.amount)}"
        if self.unpriced:
            text += f" + {NO_PRICE} for {self.unpriced} request{'s' if self.unpriced > 1 else ''}"
        return text

    def __float__(self) -> float:
        if self.unpriced:
            raise ValueError(f"{self}: not a number ({self.explanation})")
        return float(self.amount)


NO_PRICE = "no price known"


def no_price(reason: str) -> CostEstimate:
    """The estimate of a request whose price falstudio does not know (it never guesses one)."""
    return CostEstimate(
        amount=Decimal(0), is_upper_bound=False, explanation=f"{NO_PRICE}: {reason}", priced=0, unpriced=1
    )


def ceil_cent(amount: Decimal) -> Decimal:
    return (amount / CENT).to_integral_value(rounding=ROUND_CEILING) * CENT


def usd(amount: Decimal | float | int) -> str:
    """An amount for people: ``$0.42`` to the cent when that is exact, else to a hundredth of a cent
    (``$0.0104``, never ``$0.02`` nor ``$0.01`` for it), rounded up as the last digit."""
    value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    if not value.is_finite():
        return f"${value}"
    sign, value = ("-", -value) if value < 0 else ("", value)
    if value == value.quantize(CENT):
        return f"{sign}${value.quantize(CENT)}"
    fine = value.quantize(Decimal("0.0001"), rounding=ROUND_CEILING)
    return f"{sign}${fine.normalize():f}" if fine.quantize(CENT) != fine else f"{sign}${fine.quantize(CENT)}"


MAX_AMOUNT = Decimal(10_000)  # no one request costs this much: a bigger recorded amount is damage


def sane_amount(text: object) -> Decimal | None:
    """``text`` as a USD amount a request can cost (0 to ``MAX_AMOUNT``, finite), else None."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float, Decimal)):
        return None
    if isinstance(text, str) and len(text) > 40:
        return None
    try:
        value = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() and 0 <= value <= MAX_AMOUNT else None


def _table(
    model: str,
    rows: dict[str, tuple[str, str, str]],
    text_per_1k: str,
    image_per_1k: str,
    source: str,
    *,
    rounds_to_cent: bool = False,
) -> PriceTable:
    per_image = {q: dict(zip(SIZES, (Decimal(v) for v in row), strict=True)) for q, row in rows.items()}
    return PriceTable(
        model=model,
        per_image=per_image,
        text_per_token=Decimal(text_per_1k) / 1000,
        image_in_per_token=Decimal(image_per_1k) / 1000,
        source=source,
        as_of="2026-11-22",
        rounds_to_cent=rounds_to_cent,
    )


# Columns: 1024x1024, 1024x1536, 1536x1024.
GPT_IMAGE_1 = _table(
    "gpt-image-1",
    {"low": ("0.011", "0.016", "0.016"), "medium": ("0.042", "0.063", "0.063"), "high": ("0.167", "0.25", "0.25")},
    "0.002",
    "0.005",
    "fal.ai/models/fal-ai/gpt-image-1/text-to-image (pricing); OpenAI model page",
    rounds_to_cent=True,
)
GPT_IMAGE_1_MINI = _table(
    "gpt-image-1-mini",
    {"low": ("0.005", "0.006", "0.006"), "medium": ("0.011", "0.015", "0.015"), "high": ("0.036", "0.052", "0.052")},
    "0.002",
    "0.0025",
    "fal.ai/models/fal-ai/gpt-image-1-mini (pricing); OpenAI model page",
    rounds_to_cent=True,
)
GPT_IMAGE_15 = _table(
    "gpt-image-1.5",
    {"low": ("0.009", "0.013", "0.013"), "medium": ("0.034", "0.051", "0.050"), "high": ("0.133", "0.200", "0.199")},
    "0.005",
    "0.008",
    "fal.ai/models/fal-ai/gpt-image-1.5 (pricing); OpenAI model page",
)

# fal's per-image table for GPT Image 2 (token-billed; longer prompts and input images add tokens).
_GPT_IMAGE_2_ROWS = {  # size: (low, medium, high)
    "1024x768": ("0.01", "0.04", "0.15"),
    "1024x1024": ("0.01", "0.06", "0.22"),
    "1024x1536": ("0.01", "0.05", "0.17"),
    "1920x1080": ("0.01", "0.04", "0.16"),
    "2560x1440": ("0.01", "0.06", "0.23"),
    "3840x2160": ("0.02", "0.11", "0.41"),
}
GPT_IMAGE_2 = PriceTable(
    model="gpt-image-2",
    per_image={
        q: {size: Decimal(row[i]) for size, row in _GPT_IMAGE_2_ROWS.items()}
        for i, q in enumerate(("low", "medium", "high"))
    },
    text_per_token=Decimal("5.00") / 1_000_000,
    image_in_per_token=Decimal("8.00") / 1_000_000,
    source="fal.ai/models/openai/gpt-image-2 (pricing: per-image table by size and quality; tokens per 1M: "
    "text $5.00 in, image $8.00 in)",
    as_of="2026-12-02",
    input_fidelity="high",  # GPT Image 2 has no input_fidelity field: inputs are priced at the dearer rate
)


def estimate(table: PriceTable, request: Any) -> CostEstimate:
    """Estimate one request against ``table``; ``auto`` quality/size give an upper bound, sizes off the table
    an approximation (each says how it was made)."""
    n = int(getattr(request, "num_images", 1))
    quality = str(getattr(request, "quality", "auto"))
    assumed: list[str] = []  # these make the amount an upper bound
    approximations: list[str] = []  # these make it an approximation
    remarks: list[str] = []
    if quality == "auto":
        quality = "high"
        assumed.append("quality auto priced as high")
    size_value = getattr(request, "image_size", "auto")
    size_field = type(request).model_fields.get("image_size") if hasattr(type(request), "model_fields") else None
    rules = sizes.rules_of(size_field) if size_field is not None else None
    if (
        quality == "high"
        and "quality" not in getattr(request, "model_fields_set", {"quality"})
        and "low" in table.per_image
    ):
        low = _size_price(table, "low", size_value, rules)[1]
        remarks.append(f"quality not set, so fal's default high is priced; low would be ${_shown(low)} per image")
    size, price, size_note, bound = _size_price(table, quality, size_value, rules)
    if size_note:
        (assumed if bound else approximations).append(size_note)
    images = n * price
    words = len(str(getattr(request, "prompt", "")).split())
    text_tokens = words * TOKENS_PER_WORD
    text = text_tokens * table.text_per_token
    inputs = len(getattr(request, "image_urls", None) or [])
    fidelity = str(getattr(request, "input_fidelity", table.input_fidelity))
    image_tokens = inputs * INPUT_IMAGE_TOKENS.get(fidelity, INPUT_IMAGE_TOKENS["low"])
    image_in = image_tokens * table.image_in_per_token
    unrounded = images + text + image_in
    amount = ceil_cent(unrounded) if table.rounds_to_cent and table.billed_by == "fal" else unrounded

    parts = [f"{n} × {quality} {size} at ${_shown(price)}"]
    if text_tokens:
        parts.append(f"~{text_tokens} prompt tokens")
    if image_tokens:
        parts.append(f"~{image_tokens} input-image tokens")
    total_text = "at most " if assumed else ("about " if approximations else "")
    explanation = " + ".join(parts) + f" = {total_text}{usd(amount)}"
    if amount != unrounded:
        explanation += ", rounded up to the cent as fal's page for this model says"
    if assumed or approximations or remarks:
        explanation += f" ({'; '.join(assumed + approximations + remarks)})"
    if table.billed_by != "fal":
        explanation += f"; billed to your key by {table.billed_by}, not by fal"
    return CostEstimate(
        amount=amount,
        is_upper_bound=bool(assumed),
        explanation=explanation,
        breakdown={
            "model": table.model,
            "quality": quality,
            "size": size,
            "num_images": n,
            "images": images,
            "text_tokens": text_tokens,
            "input_image_tokens": image_tokens,
            "unrounded": unrounded,
        },
        is_approximate=bool(approximations) and not assumed,
    )


def _shown(price: Decimal) -> Decimal:
    """A list price as listed; a scaled one to a tenth of a cent."""
    return price if price == price.quantize(Decimal("0.001")) else price.quantize(Decimal("0.0001"))


def _size_price(
    table: PriceTable, quality: str, value: Any, rules: sizes.SizeRules | None = None
) -> tuple[str, Decimal, str, bool]:
    """``(size priced, price per image, how it was priced, is an upper bound)`` for an ``image_size`` value.

    A preset whose usual pixels break the model's ``rules`` (GPT Image 2's ``square`` is 512x512, under its
    pixel minimum) is priced as the nearest size the model takes: fal cannot render fewer pixels than that.
    """
    row = table.per_image[quality]
    dims = sizes.dimensions(value)
    if dims is None:  # auto, or a value only fal understands
        dearest = max(row, key=lambda s: row[s])
        return dearest, row[dearest], f"size {value} priced as {dearest}", True
    w, h = dims
    via = ""
    if isinstance(value, str) and value in sizes.PRESET_PIXELS:
        broken = rules.problems(w, h) if rules is not None else []
        if rules is not None and broken:
            usual = f"{w}x{h}"
            w, h = rules.nearest(w, h)
            via = (
                f"{value} is {usual} in fal's usual pixels, which this model cannot render ({'; '.join(broken)}): "
                f"priced as the nearest size it takes, {w}x{h}; {sizes.PRESETS_UNVERIFIED}"
            )
        else:
            via = f"{value} priced as {w}x{h}, fal's usual pixels for that preset; {sizes.PRESETS_UNVERIFIED}"
    key, turned = f"{w}x{h}", f"{h}x{w}"
    if key in row:
        return key, row[key], via, False
    if turned in row:
        return key, row[turned], _join(via, f"{key} priced as {turned}, the same size turned"), False
    pixels = w * h
    nearest = min(row, key=lambda s: abs(math.log(pixels / _pixels(s))))
    price = row[nearest] * pixels / _pixels(nearest)
    scaled = f"{key} is not on fal's table: scaled by pixel count from {nearest} (${row[nearest]})"
    return key, price, _join(via, scaled), False


def _pixels(size: str) -> int:
    w, _, h = size.partition("x")
    return int(w) * int(h)


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


def total(estimates: list[CostEstimate]) -> CostEstimate:
    """The sum of several requests' estimates."""
    amount = sum((e.amount for e in estimates), Decimal(0))
    bound = any(e.is_upper_bound for e in estimates)
    approximate = not bound and any(e.is_approximate for e in estimates)
    how = "at most " if bound else "about " if approximate else ""
    priced, unpriced = sum(e.priced for e in estimates), sum(e.unpriced for e in estimates)
    amounts = [e.amount for e in estimates if e.known]
    low, high = (min(amounts), max(amounts)) if amounts else (amount, amount)
    each = usd(low) if low == high else f"{usd(low)} to {usd(high)}"
    explanation = f"{len(estimates)} request{'' if len(estimates) == 1 else 's'}, {how}{each} each"
    if unpriced:
        explanation = f"{unpriced} of {priced + unpriced} requests have {NO_PRICE}, so the total is unknown" + (
            f"; the {priced} priced ones come to {how}{usd(amount)}" if priced else ""
        )
    return CostEstimate(
        amount=amount,
        is_upper_bound=bound,
        explanation=explanation,
        is_approximate=approximate,
        priced=priced,
        unpriced=unpriced,
    )
