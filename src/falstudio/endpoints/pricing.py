"""Price tables and per-request cost estimates, billed the way fal bills: rounded up to the cent."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

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

    def image_price(self, quality: str, size: str) -> Decimal:
        return self.per_image[quality][size]


@dataclass(frozen=True)
class CostEstimate:
    """An estimate for one request (or a total). ``amount`` is what fal would bill, in USD.

    Requests with no known price (endpoints typed from fal's schema) count in ``unpriced``, not in
    ``amount``: a total over them says so instead of guessing.
    """

    amount: Decimal
    is_upper_bound: bool
    explanation: str
    breakdown: dict[str, Any] = field(default_factory=dict, compare=False)
    priced: int = 1  # requests whose price is in ``amount``
    unpriced: int = 0  # requests with no known price

    @property
    def known(self) -> bool:
        """Every request in this estimate has a price."""
        return self.unpriced == 0

    def __str__(self) -> str:
        if not self.priced and self.unpriced:
            return NO_PRICE
        text = f"{'≤ ' if self.is_upper_bound else ''}${self.amount:.2f}"
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


def _table(
    model: str, rows: dict[str, tuple[str, str, str]], text_per_1k: str, image_per_1k: str, source: str
) -> PriceTable:
    per_image = {q: dict(zip(SIZES, (Decimal(v) for v in row), strict=True)) for q, row in rows.items()}
    return PriceTable(
        model=model,
        per_image=per_image,
        text_per_token=Decimal(text_per_1k) / 1000,
        image_in_per_token=Decimal(image_per_1k) / 1000,
        source=source,
        as_of="2026-11-22",
    )


# Columns: 1024x1024, 1024x1536, 1536x1024.
GPT_IMAGE_1 = _table(
    "gpt-image-1",
    {"low": ("0.011", "0.016", "0.016"), "medium": ("0.042", "0.063", "0.063"), "high": ("0.167", "0.25", "0.25")},
    "0.002",
    "0.005",
    "fal.ai/models/fal-ai/gpt-image-1/text-to-image (pricing); OpenAI model page",
)
GPT_IMAGE_1_MINI = _table(
    "gpt-image-1-mini",
    {"low": ("0.005", "0.006", "0.006"), "medium": ("0.011", "0.015", "0.015"), "high": ("0.036", "0.052", "0.052")},
    "0.002",
    "0.0025",
    "fal.ai/models/fal-ai/gpt-image-1-mini (pricing); OpenAI model page",
)
GPT_IMAGE_15 = _table(
    "gpt-image-1.5",
    {"low": ("0.009", "0.013", "0.013"), "medium": ("0.034", "0.051", "0.050"), "high": ("0.133", "0.200", "0.199")},
    "0.005",
    "0.008",
    "fal.ai/models/fal-ai/gpt-image-1.5 (pricing); OpenAI model page",
)


def estimate(table: PriceTable, request: Any) -> CostEstimate:
    """Estimate one request against ``table``; ``auto`` quality/size give an upper bound."""
    n = int(getattr(request, "num_images", 1))
    quality = str(getattr(request, "quality", "auto"))
    size = str(getattr(request, "image_size", "auto"))
    assumed: list[str] = []
    if quality == "auto":
        quality = "high"
        assumed.append("quality auto priced as high")
    if size == "auto":
        size = max(SIZES, key=lambda s: table.image_price(quality, s))
        assumed.append(f"size auto priced as {size}")
    images = n * table.image_price(quality, size)
    words = len(str(getattr(request, "prompt", "")).split())
    text_tokens = words * TOKENS_PER_WORD
    text = text_tokens * table.text_per_token
    inputs = len(getattr(request, "image_urls", None) or [])
    fidelity = str(getattr(request, "input_fidelity", "low"))
    image_tokens = inputs * INPUT_IMAGE_TOKENS.get(fidelity, INPUT_IMAGE_TOKENS["low"])
    image_in = image_tokens * table.image_in_per_token
    amount = ceil_cent(images + text + image_in)

    parts = [f"{n} × {quality} {size} at ${table.image_price(quality, size)}"]
    if text_tokens:
        parts.append(f"~{text_tokens} prompt tokens")
    if image_tokens:
        parts.append(f"~{image_tokens} input-image tokens")
    explanation = " + ".join(parts) + f" = {'at most ' if assumed else ''}${amount:.2f}, rounded up to the cent"
    if assumed:
        explanation += f" ({'; '.join(assumed)})"
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
            "unrounded": images + text + image_in,
        },
    )


def total(estimates: list[CostEstimate]) -> CostEstimate:
    """The sum of several requests' estimates (each already rounded up to the cent, as billed)."""
    amount = sum((e.amount for e in estimates), Decimal(0))
    bound = any(e.is_upper_bound for e in estimates)
    priced, unpriced = sum(e.priced for e in estimates), sum(e.unpriced for e in estimates)
    explanation = f"{len(estimates)} requests, each rounded up to the cent: {'at most ' if bound else ''}${amount:.2f}"
    if unpriced:
        explanation = f"{unpriced} of {priced + unpriced} requests have {NO_PRICE}, so the total is unknown" + (
            f"; the {priced} priced ones come to {'at most ' if bound else ''}${amount:.2f}" if priced else ""
        )
    return CostEstimate(amount=amount, is_upper_bound=bound, explanation=explanation, priced=priced, unpriced=unpriced)
