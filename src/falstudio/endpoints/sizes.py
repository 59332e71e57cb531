"""Image sizes as fal sends them: a preset name, ``auto``, or an ``ImageSize`` object ``{width, height}``.

Two size models live side by side: GPT Image 1/1.5 take a fixed list of ``"WxH"`` strings, GPT Image 2 takes
preset names, ``auto`` or any ``ImageSize`` within its :class:`SizeRules`. :func:`fit_size` translates a value
from one to the other; :func:`dimensions` gives the pixels a value stands for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from .._internal.errors import FalstudioError

AUTO = "auto"
# fal's usual pixel sizes for its preset names (the FLUX convention). How fal sizes a preset for a given model
# is fal's business (UNVERIFIED for GPT Image 2): use these for previews and estimates, and say so.
PRESET_PIXELS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
PRESETS_UNVERIFIED = "how fal sizes presets for this model is unverified"
_WXH = re.compile(r"^\s*(\d{1,6})\s*[x×X]\s*(\d{1,6})\s*$")
_SIGNED_WXH = re.compile(r"^\s*[-+]?[\d.]+\s*[x×X]\s*[-+]?[\d.]+\s*$")


class ImageSize(BaseModel):
    """A custom output size in pixels (fal's ``ImageSize`` object). Endpoint models add their own rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(gt=0, description="Width of the output in pixels.")
    height: int = Field(gt=0, description="Height of the output in pixels.")

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


def parse_wxh(text: str) -> tuple[int, int] | None:
    """``"1536x864"`` (or ``1536×864``) as ``(1536, 864)``; None for anything else."""
    match = _WXH.match(text)
    return (int(match[1]), int(match[2])) if match else None


def custom_dimensions(value: Any) -> tuple[int, int] | None:
    """Pixels of an explicit size: ``"WxH"``, an :class:`ImageSize` or ``{"width": W, "height": H}``."""
    if isinstance(value, ImageSize):
        return value.width, value.height
    if isinstance(value, str):
        return parse_wxh(value)
    if isinstance(value, Mapping) and set(value) == {"width", "height"}:
        w, h = value["width"], value["height"]
        if isinstance(w, int) and isinstance(h, int) and not isinstance(w, bool) and not isinstance(h, bool):
            return w, h
    return None


def dimensions(value: Any) -> tuple[int, int] | None:
    """Pixels ``value`` stands for: explicit sizes as given, presets as fal's usual pixels, ``auto`` None."""
    if isinstance(value, str) and value in PRESET_PIXELS:
        return PRESET_PIXELS[value]
    return custom_dimensions(value)


def _round_to(value: float, step: int) -> int:
    return round(value / step) * step


@dataclass(frozen=True)
class SizeRules:
    """The sizes an endpoint takes: preset names, maybe ``auto``, and custom sizes within these limits.

    Used as a field validator (``BeforeValidator(rules.validate)``) and kept in the field's metadata so forms,
    sweeps, estimates and the offline engines can read it.
    """

    presets: tuple[str, ...]
    multiple: int
    max_side: int
    max_ratio: float
    min_pixels: int
    max_pixels: int
    allows_auto: bool = True

    def problems(self, width: int, height: int) -> list[str]:
        """Each rule ``width`` x ``height`` breaks, in words (empty when it is valid)."""
        if min(width, height) <= 0:
            return [f"width and height must be positive, got {width}x{height}"]
        found = []
        odd = [f"{name} {v}" for name, v in (("width", width), ("height", height)) if v % self.multiple]
        if odd:
            found.append(f"{' and '.join(odd)} {'is' if len(odd) == 1 else 'are'} not a multiple of {self.multiple}")
        if max(width, height) > self.max_side:
            found.append(f"the longest side {max(width, height)} is over {self.max_side}")
        ratio = max(width, height) / min(width, height)
        if ratio > self.max_ratio:
            shown = f"{ratio:.2f}" if round(ratio, 2) > self.max_ratio else f"{ratio:.4f}"
            found.append(f"the ratio {shown}:1 is over {self.max_ratio:g}:1")
        pixels = width * height
        if pixels < self.min_pixels:
            found.append(f"{pixels:,} pixels is under the minimum of {self.min_pixels:,}")
        if pixels > self.max_pixels:
            found.append(f"{pixels:,} pixels is over the maximum of {self.max_pixels:,}")
        return found

    def nearest(self, width: int, height: int) -> tuple[int, int]:
        """The valid size closest to ``width`` x ``height`` (straight-line distance in pixels)."""
        m = self.multiple
        best: tuple[float, int, int] | None = None
        for w in range(m, self.max_side + 1, m):
            lo = max(math.ceil(self.min_pixels / w), math.ceil(w / self.max_ratio))
            hi = min(self.max_pixels // w, math.floor(w * self.max_ratio), self.max_side)
            lo, hi = math.ceil(lo / m) * m, hi // m * m
            if lo > hi:
                continue
            h = min(max(_round_to(height, m), lo), hi)
            distance = (w - width) ** 2 + (h - height) ** 2
            if best is None or distance < best[0]:
                best = (distance, w, h)
        if best is None:  # pragma: no cover - rules that admit no size at all
            raise ValueError(f"no size satisfies {self}")
        return best[1], best[2]

    def describe(self) -> str:
        return (
            f"both sides multiples of {self.multiple}, the longest side at most {self.max_side}, "
            f"a ratio of at most {self.max_ratio:g}:1, and {self.min_pixels:,} to {self.max_pixels:,} pixels"
        )

    def validate(self, value: Any) -> Any:
        """A field value: a preset name, ``auto``, or an :class:`ImageSize` that keeps these rules."""
        if isinstance(value, str) and (value in self.presets or (value == AUTO and self.allows_auto)):
            return value
        size = custom_dimensions(value)
        if size is None:
            raise PydanticCustomError(
                "image_size",
                "{got} is not a size this endpoint takes{why}: use {choices}, a 'WxH' string such as '1536x864', "
                "or a dict with width and height",
                {
                    "got": repr(value)[:60],
                    "why": f" ({why})" if (why := _why_not_a_size(value)) else "",
                    "choices": ", ".join(repr(p) for p in self._choices()),
                },
            )
        width, height = size
        broken = self.problems(width, height)
        if broken:
            w, h = self.nearest(width, height)
            raise PydanticCustomError(
                "image_size",
                "{size} breaks fal's size rules: {broken}; the nearest valid size is {nearest}",
                {"size": f"{width}x{height}", "broken": "; ".join(broken), "nearest": f"{w}x{h}"},
            )
        return ImageSize(width=width, height=height)

    def _choices(self) -> tuple[str, ...]:
        return (*self.presets, AUTO) if self.allows_auto else self.presets


def _why_not_a_size(value: Any) -> str:
    """What is wrong with a value that looks like a custom size but is not one ("" when it does not look like one)."""
    if isinstance(value, Mapping):
        extra = sorted(str(k) for k in value if k not in ("width", "height"))
        if extra:
            return (
                f"unknown key{'s' if len(extra) > 1 else ''} {', '.join(map(repr, extra))}: give only width and height"
            )
        missing = [k for k in ("width", "height") if k not in value]
        if missing:
            return f"{' and '.join(missing)} missing"
        wrong = [f"{k} {value[k]!r}" for k in ("width", "height") if type(value[k]) is not int]
        return f"{' and '.join(wrong)}: width and height are whole numbers of pixels, such as 1536"
    if isinstance(value, str) and _SIGNED_WXH.match(value):
        return "width and height must be positive whole numbers"
    return ""


def rules_of(info: FieldInfo) -> SizeRules | None:
    """The :class:`SizeRules` a field carries in its metadata, if any."""
    return next((item for item in info.metadata if isinstance(item, SizeRules)), None)


class SizeNotAccepted(FalstudioError, ValueError):
    """A size value a field cannot take: ``why`` in words, ``nearest`` the closest value it takes (or None)."""

    def __init__(self, value: Any, nearest: Any, why: str) -> None:
        self.value, self.nearest, self.why = value, nearest, why
        hint = f"; the nearest it takes is {show(nearest)}" if nearest is not None else ""
        super().__init__(f"{show(value)} is not a size it takes ({why}){hint}")


def show(value: Any) -> str:
    """A size value as a person reads it: ``'1536x1024'``, ``'auto'``, ``{"width": 1536, "height": 864}``."""
    if isinstance(value, ImageSize):
        return f'{{"width": {value.width}, "height": {value.height}}}'
    return repr(value)


def fit_size(model: type[BaseModel], name: str, value: Any) -> Any:
    """``value`` in the form ``model``'s size field ``name`` takes; raises :class:`SizeNotAccepted` otherwise.

    ``"1024x1024"`` becomes ``ImageSize(1024, 1024)`` for GPT Image 2, and an ``ImageSize`` (or dict) becomes
    ``"1024x1024"`` for GPT Image 1. Preset names are fal's own and are never turned into pixels here.
    """
    from .fields import literal_sizes, takes_custom_sizes  # fields builds on this module

    info = model.model_fields[name]
    fixed = literal_sizes(info)
    if isinstance(value, str) and value in fixed:
        return value
    rules = rules_of(info)
    size = custom_dimensions(value)
    if takes_custom_sizes(info):
        if size is None:
            why = _not_taken(fixed, custom=True)
            raise SizeNotAccepted(value, info.default if info.default in fixed else None, why)
        if rules is not None and rules.problems(*size):
            nearest = ImageSize(width=(n := rules.nearest(*size))[0], height=n[1])
            raise SizeNotAccepted(value, nearest, "; ".join(rules.problems(*size)))
        return ImageSize(width=size[0], height=size[1])
    if size is not None and f"{size[0]}x{size[1]}" in fixed:
        return f"{size[0]}x{size[1]}"
    raise SizeNotAccepted(
        value, _nearest_fixed(dimensions(value), fixed, info.default), _not_taken(fixed, custom=False)
    )


def _not_taken(fixed: tuple[str, ...], *, custom: bool) -> str:
    return f"its sizes are {', '.join(fixed)}" + (" or a custom width and height" if custom else "")


def _nearest_fixed(size: tuple[int, int] | None, fixed: tuple[str, ...], default: Any) -> Any:
    """The fixed ``"WxH"`` value closest in shape, then in pixel count, to ``size`` (else the default)."""
    options = [(v, d) for v in fixed if (d := parse_wxh(v)) is not None]
    if size is None or not options or min(size) <= 0:
        return default if default in fixed else None

    def distance(option: tuple[str, tuple[int, int]]) -> tuple[float, float]:
        w, h = option[1]
        return abs(math.log(w / h) - math.log(size[0] / size[1])), abs(math.log(w * h / (size[0] * size[1])))

    return min(options, key=distance)[0]
