"""Offline image editing: the instruction's keywords become a chain of Pillow filters.

Several inputs are composed into one picture first; a mask confines the edit. Mask convention: where
the mask is transparent (alpha 0, OpenAI's convention) the edit applies; a mask without an alpha
channel edits where it is white. An instruction with no known keyword still gives a visible result
(auto-enhance plus a caption saying so), and the log says which words were understood.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from falstudio._internal.images import has_alpha
from falstudio.endpoints import RequestModel, sizes

from . import _filters, _prompt
from . import _shapes as shapes
from ._output import SIZES, GeneratedImage, LogFn, add_mark, encode, font, no_log
from .text_to_image import DETAIL

_DOWNSCALE = {0: 4, 1: 2, 2: 1}
# Things an edit can add on top of the picture ("add a rainbow"), with the words that ask for them.
_OVERLAY_WORDS = {n: _prompt.OBJECTS[n] for n in ("sun", "moon", "stars", "clouds", "rainbow", "birds", "rain")}
_OVERLAY_WORDS["snowfall"] = _prompt.OBJECTS["snowfall"] | {"snow", "snowy"}
_OVERLAYS = {
    name: re.compile(rf"\b(?:{'|'.join(sorted(words))})\b", re.IGNORECASE) for name, words in _OVERLAY_WORDS.items()
}

Step = Callable[[Image.Image, float, np.random.Generator, int], Image.Image]


def _field(request: RequestModel | Mapping[str, Any], name: str, default: Any) -> Any:
    value = request.get(name, default) if isinstance(request, Mapping) else getattr(request, name, default)
    return default if value is None else value


def output_size(image_size: Any, inputs: list[Image.Image], rules: sizes.SizeRules | None = None) -> tuple[int, int]:
    """The requested size, or for ``auto`` one from the inputs' shape (as GPT Image picks): one of GPT Image 1's
    three sizes, or, under ``rules`` (GPT Image 2), the valid size of about a megapixel closest to the input's."""
    given = sizes.dimensions(image_size)
    if given is not None:
        return given
    if len(inputs) == 2:
        return SIZES["1536x1024"]
    if len(inputs) > 2:
        return SIZES["1024x1024"]
    aspect = inputs[0].width / inputs[0].height
    if rules is not None:
        return rules.nearest(round(1024 * math.sqrt(aspect)), round(1024 / math.sqrt(aspect)))
    return min(SIZES.values(), key=lambda wh: abs(math.log(wh[0] / wh[1] / aspect)))


def _size_rules(request: RequestModel | Mapping[str, Any]) -> sizes.SizeRules | None:
    info = type(request).model_fields.get("image_size") if isinstance(request, RequestModel) else None
    return sizes.rules_of(info) if info is not None else None


def compose(inputs: list[Image.Image], size: tuple[int, int]) -> Image.Image:
    """One picture from the inputs: the only one fitted to ``size``, or a collage led by the first.

    RGBA when any input has transparency, else RGB (cheaper for every later step).
    """
    mode = "RGBA" if any(has_alpha(im) for im in inputs) else "RGB"
    if len(inputs) == 1:
        image = inputs[0] if inputs[0].mode == mode else inputs[0].convert(mode)
        return image.copy() if image.size == size else ImageOps.fit(image, size, Image.Resampling.BICUBIC)
    w, h = size
    gap = max(2, w // 160)
    canvas = Image.new(mode, size, (250, 250, 248, 255) if mode == "RGBA" else (250, 250, 248))
    if len(inputs) == 2:
        cells = [(0, 0, w // 2, h), (w // 2, 0, w, h)]
    elif len(inputs) == 3:
        cells = [(0, 0, w * 3 // 5, h), (w * 3 // 5, 0, w, h // 2), (w * 3 // 5, h // 2, w, h)]
    else:
        cols = math.ceil(math.sqrt(len(inputs)))
        rows = math.ceil(len(inputs) / cols)
        cells = [
            (c * w // cols, r * h // rows, (c + 1) * w // cols, (r + 1) * h // rows)
            for r in range(rows)
            for c in range(cols)
        ][: len(inputs)]
    for image, (x0, y0, x1, y1) in zip(inputs, cells, strict=True):
        tile = ImageOps.fit(image.convert("RGBA"), (x1 - x0 - gap, y1 - y0 - gap), Image.Resampling.BICUBIC)
        if mode == "RGBA":
            canvas.alpha_composite(tile, (x0 + gap // 2, y0 + gap // 2))
        else:
            canvas.paste(tile.convert("RGB"), (x0 + gap // 2, y0 + gap // 2))
    return canvas


def edit_weights(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An L image, 255 where the edit applies: transparent mask pixels, or white ones if it has no alpha."""
    alpha = has_alpha(mask)
    weights = ImageOps.invert(mask.convert("RGBA").getchannel("A")) if alpha else mask.convert("L")
    return weights if weights.size == size else ImageOps.fit(weights, size, Image.Resampling.BILINEAR)


def _filter_step(apply: _filters.Filter) -> Step:
    def step(image: Image.Image, amount: float, rng: np.random.Generator, detail: int) -> Image.Image:
        return apply(image, amount)

    return step


def _overlay_step(name: str) -> Step:
    def step(image: Image.Image, amount: float, rng: np.random.Generator, detail: int) -> Image.Image:
        return _with_overlay(image, name, rng, detail)

    return step


def plan(prompt: str) -> list[tuple[str, Step]]:
    """The steps ``prompt`` asks for, in the order it mentions them: filters and things to add."""
    found = [(pos, ins.name, _filter_step(ins.apply)) for pos, ins in _filters.understood(prompt)]
    for name, pattern in _OVERLAYS.items():
        match = pattern.search(prompt)
        if match:
            found.append((match.start(), f"add {name}", _overlay_step(name)))
    return [(name, step) for _, name, step in sorted(found, key=lambda item: item[0])]


def _paint_overlay(name: str, canvas: Image.Image, rng: np.random.Generator, detail: int) -> None:
    w, h = canvas.size
    if name == "sun":
        shapes.sun(
            canvas, w * rng.uniform(0.6, 0.85), h * rng.uniform(0.12, 0.25), w * 0.07, (255, 226, 120), max(detail, 1)
        )
    elif name == "moon":
        shapes.moon(canvas, w * rng.uniform(0.15, 0.4), h * rng.uniform(0.1, 0.22), w * 0.05, rng, max(detail, 1))
    elif name == "stars":
        shapes.stars(canvas, int(250 * w * h / 1024**2), 0, h * 0.45, rng, detail)
    elif name == "clouds":
        for _ in range(3):
            shapes.cloud(
                canvas,
                w * rng.uniform(0.1, 0.9),
                h * rng.uniform(0.08, 0.3),
                w * 0.22,
                (250, 250, 252),
                rng,
                max(detail, 1),
                opacity=0.85,
            )
    elif name == "rainbow":
        shapes.rainbow(canvas, w * 0.5, h * 0.75, w * 0.42, max(detail, 1))
    elif name == "birds":
        shapes.birds(canvas, 7, h * 0.08, h * 0.3, (30, 30, 40), rng)
    else:
        shapes.precipitation(canvas, "rain" if name == "rain" else "snow", rng, detail)


def _caption(image: Image.Image, text: str) -> None:
    """A band along the bottom saying the instruction was not followed (honest, not silent)."""
    draw = ImageDraw.Draw(image, "RGBA")
    caption_font = font(max(12, image.width // 48))
    band = int(caption_font.size * 2.2) if hasattr(caption_font, "size") else 30
    draw.rectangle((0, image.height - band, image.width, image.height), fill=(20, 20, 24, 170))
    draw.text((band // 3, image.height - band * 0.78), text, font=caption_font, fill=(255, 255, 255, 235))


def _apply(
    base: Image.Image,
    steps: list[tuple[str, Step]],
    amount: float,
    rng: np.random.Generator,
    detail: int,
    log: Callable[[str, float], None],
) -> Image.Image:
    """Run the steps on an RGB working copy at the quality's resolution, then restore size and alpha."""
    factor = _DOWNSCALE[detail] if min(base.size) // _DOWNSCALE[detail] >= 16 else 1
    work = base.reduce(factor) if factor > 1 else base
    alpha = work.getchannel("A") if work.mode == "RGBA" else None
    rgb = work.convert("RGB") if alpha is not None else work
    for i, (name, step) in enumerate(steps):
        log(f"Applying {name}", i / len(steps))
        rgb = step(rgb, amount, rng, detail)
    if alpha is not None:
        rgb = rgb.convert("RGBA")
        rgb.putalpha(alpha)
    return rgb.resize(base.size, Image.Resampling.BILINEAR) if rgb.size != base.size else rgb


def edit(
    request: RequestModel | Mapping[str, Any],
    inputs: list[Image.Image],
    mask: Image.Image | None = None,
    *,
    log: LogFn = no_log,
) -> list[GeneratedImage]:
    """Edit ``inputs`` following ``request.prompt``: ``request.num_images`` variations, deterministic."""
    if not inputs:
        raise ValueError("edit needs at least one input image")
    prompt = _field(request, "prompt", "")
    if not isinstance(prompt, str):
        raise TypeError(f"the prompt must be a string, got {type(prompt).__name__}")
    quality = str(_field(request, "quality", "auto"))
    detail = DETAIL.get(quality, 1)
    count = int(_field(request, "num_images", 1))
    background = str(_field(request, "background", "auto"))
    output_format = str(_field(request, "output_format", "png"))
    size = output_size(_field(request, "image_size", "auto"), inputs, _size_rules(request))

    steps = plan(prompt)
    if steps:
        log(f"Understood: {', '.join(name for name, _ in steps)}", 0.0)
    else:
        log(
            f"No known edit instruction in {prompt[:80]!r}: applying auto-enhance and a caption instead "
            f"(offline filters: {', '.join(i.name for i in _filters.INSTRUCTIONS)})",
            0.0,
        )
    log(f"Composing {len(inputs)} input image{'s' if len(inputs) > 1 else ''} into {size[0]}x{size[1]}", 0.05)
    original = compose(inputs, size)
    weights = edit_weights(mask, size) if mask is not None else None
    if weights is not None:
        share = float(np.asarray(weights, np.float32).mean() / 255)
        log(f"Mask: the edit is confined to {share:.0%} of the picture", 0.1)
    keep_alpha = original.mode == "RGBA" and background != "opaque"
    seed = int.from_bytes(hashlib.sha256(f"{prompt}|{size}|{quality}".encode()).digest()[:8], "big")

    results = []
    for i in range(count):
        label = f"image {i + 1}/{count}: " if count > 1 else ""
        start, span = 0.15 + 0.8 * i / count, 0.8 / count

        def step_log(
            message: str, progress: float, label: str = label, start: float = start, span: float = span
        ) -> None:
            log(label + message, start + span * 0.9 * progress)

        edited = _apply(
            original,
            steps or [("auto-enhance", _filter_step(_filters.vivid))],
            1.0 + 0.25 * i,
            np.random.default_rng(seed + i),
            detail,
            step_log,
        )
        if weights is not None:
            edited = Image.composite(edited, original, weights)
        if not steps:
            _caption(edited, f"offline preview: instruction not understood: {prompt[:60]}")
        picture = edited if keep_alpha else _flatten(edited)
        add_mark(picture)
        log(f"{label}Encoding {output_format} ({size[0]}x{size[1]})", start + span * 0.95)
        results.append(encode(picture, output_format, f"edit: {prompt[:200]} (quality {quality})"))
    log(f"Done: {count} image{'s' if count > 1 else ''}", 1.0)
    return results


def _with_overlay(image: Image.Image, name: str, rng: np.random.Generator, detail: int) -> Image.Image:
    canvas = image.convert("RGBA")
    _paint_overlay(name, canvas, rng, detail)
    return canvas.convert("RGB")


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.getchannel("A").getextrema()[0] == 255:
        return image.convert("RGB")
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    white.alpha_composite(image)
    return white.convert("RGB")
