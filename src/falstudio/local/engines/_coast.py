"""The coast: a rocky headland over the water, and a lighthouse (on the headland, or at the shore)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ._shapes import RGB, glow, lerp, paste_gradient, shade

_ROCK = (104, 94, 86)
_WHITE = (242, 240, 232)
_RED = (176, 38, 34)


def headland(
    canvas: Image.Image, side: int, top: float, reach: float, grass: RGB, light: float, rng: np.random.Generator
) -> float:
    """A headland from the left (``side`` 0) or right (1) edge: a flat top at ``top`` over ``reach`` of the width,
    then a rough face down to the bottom of the picture. Returns the x of the middle of its top."""
    w, h = canvas.size
    edge, toward = (0.0, 1.0) if side == 0 else (float(w), -1.0)
    brow = edge + toward * w * reach * 0.7  # where the top ends and the face begins
    foot = edge + toward * w * reach
    face = [
        (brow + toward * (foot - brow) * t + toward * w * 0.012 * rng.uniform(-1, 1), top + (h - top) * t)
        for t in np.linspace(0.08, 1.0, 7)
    ]
    outline = [(edge, top - h * 0.01), (brow, top), *face, (edge, float(h))]
    paste_gradient(canvas, outline, shade(_ROCK, max(light, 0.35)), shade(_ROCK, max(light, 0.35) * 0.55))
    cap = [(edge, top - h * 0.018), (brow + toward * w * 0.01, top - h * 0.004), (brow, top + h * 0.012)]
    ImageDraw.Draw(canvas).polygon([*cap, (edge, top + h * 0.02)], fill=(*shade(grass, max(light, 0.4)), 255))
    return (edge + brow) / 2


def lighthouse(canvas: Image.Image, x: float, base: float, height: float, light: float, detail: int) -> None:
    """A tapering white tower with red bands, its gallery, lantern and cap; lit (with a halo) in low light."""
    draw = ImageDraw.Draw(canvas)
    lit = light < 0.7
    bottom, top_width = height * 0.11, height * 0.075  # half widths
    top = base - height
    bands = 4 + 2 * min(detail, 1)
    for i in range(bands):
        y0, y1 = base - height * i / bands, base - height * (i + 1) / bands
        w0 = bottom + (top_width - bottom) * i / bands
        w1 = bottom + (top_width - bottom) * (i + 1) / bands
        colour = shade(_RED if i % 2 else _WHITE, max(light, 0.45))
        draw.polygon([(x - w0, y0), (x + w0, y0), (x + w1, y1), (x - w1, y1)], fill=(*colour, 255))
    dark = shade((46, 44, 50), max(light, 0.5))
    draw.rectangle((x - top_width * 1.35, top - height * 0.03, x + top_width * 1.35, top), fill=(*dark, 255))
    lantern = (255, 222, 130) if lit else lerp((200, 222, 232), _WHITE, 0.3)
    draw.rectangle(
        (x - top_width * 0.8, top - height * 0.13, x + top_width * 0.8, top - height * 0.03), fill=(*lantern, 255)
    )
    cap = shade(_RED, max(light, 0.45) * 0.8)
    draw.polygon(
        [
            (x - top_width * 1.1, top - height * 0.13),
            (x, top - height * 0.22),
            (x + top_width * 1.1, top - height * 0.13),
        ],
        fill=(*cap, 255),
    )
    if lit:
        glow(canvas, x, top - height * 0.08, height * 0.45, (255, 226, 150), 0.55)
        if detail:
            glow(canvas, x, top - height * 0.08, height * 1.2, (255, 214, 140), 0.2)
