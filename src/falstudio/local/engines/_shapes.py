"""Things the offline engines can paint onto an RGBA canvas, with Pillow and numpy only.

Each painter takes the canvas, where to paint, colours, a numpy ``Generator`` for its jitter and a
``detail`` level (0 low, 1 medium, 2 high) that decides how much finish it gets. Semi-transparent
parts are built on a small layer and composited only over their own box, which keeps 1024px fast.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

RGB = tuple[int, int, int]


def lerp(a: RGB, b: RGB, t: float) -> RGB:
    t = min(max(t, 0.0), 1.0)
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def shade(colour: RGB, light: float) -> RGB:
    return (min(255, round(colour[0] * light)), min(255, round(colour[1] * light)), min(255, round(colour[2] * light)))


def vertical_gradient(size: tuple[int, int], top: RGB, bottom: RGB, alpha: int = 255) -> Image.Image:
    width, height = size
    t = np.linspace(0.0, 1.0, max(height, 1), dtype=np.float32)[:, None]
    rows = np.asarray(top, np.float32) + (np.asarray(bottom, np.float32) - np.asarray(top, np.float32)) * t
    rgba = np.empty((height, 4), np.uint8)
    rgba[:, :3] = rows.round().astype(np.uint8)
    rgba[:, 3] = alpha
    return Image.fromarray(np.ascontiguousarray(np.broadcast_to(rgba[:, None, :], (height, width, 4))), "RGBA")


def value_noise(rng: np.random.Generator, size: tuple[int, int], cell: int) -> np.ndarray:
    """Smooth noise in [-0.5, 0.5], shape (height, width): random cells upscaled bicubically."""
    width, height = size
    grid = rng.integers(0, 256, (height // cell + 2, width // cell + 2), dtype=np.uint8)
    smooth = Image.fromarray(grid, "L").resize((width + 2 * cell, height + 2 * cell), Image.Resampling.BICUBIC)
    return np.asarray(smooth, np.float32)[cell : cell + height, cell : cell + width] / 255.0 - 0.5


def paste_gradient(canvas: Image.Image, polygon: list[tuple[float, float]], top: RGB, bottom: RGB) -> None:
    """Fill ``polygon`` with a vertical gradient running from its top edge to its bottom edge."""
    ys = [p[1] for p in polygon]
    y0, y1 = max(0, int(min(ys))), min(canvas.height, math.ceil(max(ys)) + 1)
    if y1 <= y0:
        return
    mask = Image.new("L", (canvas.width, y1 - y0), 0)
    ImageDraw.Draw(mask).polygon([(x, y - y0) for x, y in polygon], fill=255)
    canvas.paste(vertical_gradient((canvas.width, y1 - y0), top, bottom), (0, y0), mask)


def _composite(canvas: Image.Image, layer: Image.Image, x: int, y: int) -> None:
    """Alpha-composite a small layer at (x, y), clipped to the canvas."""
    left, top = max(0, x), max(0, y)
    right, bottom = min(canvas.width, x + layer.width), min(canvas.height, y + layer.height)
    if right <= left or bottom <= top:
        return
    canvas.alpha_composite(layer, (left, top), (left - x, top - y, right - x, bottom - y))


@lru_cache(maxsize=1)
def radial() -> Image.Image:
    """A 256px radial falloff, (1 - d)^2; resized for every glow instead of recomputed."""
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    d = np.hypot(xx - 127.5, yy - 127.5) / 128.0
    return Image.fromarray((np.clip(1.0 - d, 0.0, 1.0) ** 2 * 255).astype(np.uint8), "L")


def glow(canvas: Image.Image, cx: float, cy: float, radius: float, colour: RGB, strength: float) -> None:
    size = max(2, int(radius * 2))
    alpha = radial().resize((size, size), Image.Resampling.BILINEAR)
    if strength < 1:
        alpha = alpha.point(lambda v: int(v * strength))
    layer = Image.new("RGBA", (size, size), (*colour, 0))
    layer.putalpha(alpha)
    _composite(canvas, layer, int(cx - size / 2), int(cy - size / 2))


def sun(canvas: Image.Image, cx: float, cy: float, r: float, colour: RGB, detail: int) -> None:
    if detail:
        glow(canvas, cx, cy, r * (3.2 if detail > 1 else 2.4), colour, 0.55)
    ImageDraw.Draw(canvas).ellipse((cx - r, cy - r, cx + r, cy + r), fill=(*colour, 255))
    if detail > 1:
        glow(canvas, cx - r * 0.25, cy - r * 0.25, r * 1.1, (255, 255, 240), 0.35)


def moon(canvas: Image.Image, cx: float, cy: float, r: float, rng: np.random.Generator, detail: int) -> None:
    if detail:
        glow(canvas, cx, cy, r * 2.6, (200, 210, 255), 0.25)
    size = int(r * 2) + 2
    lit = Image.new("L", (size, size), 0)
    ImageDraw.Draw(lit).ellipse((1, 1, size - 2, size - 2), fill=255)
    shadow = Image.new("L", (size, size), 0)
    off = r * 0.55
    ImageDraw.Draw(shadow).ellipse((1 + off, 1 - off * 0.4, size - 2 + off, size - 2 - off * 0.4), fill=255)
    mask = ImageChops.subtract(lit, shadow)
    body = Image.new("RGBA", (size, size), (244, 238, 214, 255))
    if detail > 1:
        draw = ImageDraw.Draw(body)
        for _ in range(6):
            cr = r * rng.uniform(0.06, 0.16)
            x, y = rng.uniform(0.15, 0.6) * size, rng.uniform(0.2, 0.8) * size
            draw.ellipse((x - cr, y - cr, x + cr, y + cr), fill=(214, 206, 184, 255))
    body.putalpha(mask)
    _composite(canvas, body, int(cx - size / 2), int(cy - size / 2))


def stars(canvas: Image.Image, count: int, top: float, bottom: float, rng: np.random.Generator, detail: int) -> None:
    draw = ImageDraw.Draw(canvas)
    xs = rng.uniform(0, canvas.width, count)
    ys = top + (bottom - top) * rng.power(0.6, count)
    levels = rng.uniform(150, 255, count)
    for x, y, level in zip(xs, ys, levels, strict=True):
        v = int(level)
        draw.point((float(x), float(y)), fill=(v, v, min(255, v + 20), 255))
    if detail > 1:
        s = max(2.0, canvas.width / 300)
        for x, y in zip(xs[: count // 25], ys[: count // 25], strict=True):
            draw.line((x - 2 * s, y, x + 2 * s, y), fill=(255, 255, 255, 255))
            draw.line((x, y - 2 * s, x, y + 2 * s), fill=(255, 255, 255, 255))


def cloud(
    canvas: Image.Image,
    cx: float,
    cy: float,
    width: float,
    colour: RGB,
    rng: np.random.Generator,
    detail: int,
    opacity: float = 0.9,
) -> None:
    w, h = int(width * 1.3), int(width * 0.7)
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    for _ in range(int(rng.integers(5, 10))):
        pw, ph = width * rng.uniform(0.25, 0.5), width * rng.uniform(0.18, 0.32)
        px = w / 2 + rng.uniform(-0.35, 0.35) * width
        py = h * 0.6 + rng.uniform(-0.12, 0.05) * width
        draw.ellipse((px - pw / 2, py - ph / 2, px + pw / 2, py + ph / 2), fill=int(255 * opacity))
    draw.rectangle((w / 2 - width * 0.4, h * 0.6, w / 2 + width * 0.4, h * 0.6 + width * 0.08), fill=int(255 * opacity))
    if detail:
        mask = mask.filter(ImageFilter.GaussianBlur(width / (14 if detail > 1 else 24)))
    layer = Image.new("RGBA", (w, h), (*colour, 0))
    layer.putalpha(mask)
    _composite(canvas, layer, int(cx - w / 2), int(cy - h * 0.6))


def rainbow(canvas: Image.Image, cx: float, base: float, radius: float, detail: int) -> None:
    """The upper half of a rainbow whose arcs stand on the line ``y = base``."""
    bands = (
        (228, 40, 40),
        (240, 140, 30),
        (245, 220, 40),
        (60, 180, 70),
        (40, 110, 220),
        (80, 50, 170),
        (140, 60, 190),
    )
    band = max(2.0, radius / 22)
    width, height = int(2 * radius + 4), int(radius + 4)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    c = width / 2
    for i, colour in enumerate(bands):
        r = radius - i * band
        draw.arc((c - r, height - r, c + r, height + r), 180, 360, fill=(*colour, 120), width=math.ceil(band))
    if detail:
        layer = layer.filter(ImageFilter.GaussianBlur(band / 3))
    _composite(canvas, layer, int(cx - c), int(base - height))


def mountains(
    canvas: Image.Image, horizon: float, colours: list[RGB], rng: np.random.Generator, detail: int, snow_caps: bool
) -> None:
    """Ridges from far (first colour) to near (last colour)."""
    w, h = canvas.size
    step = max(2, w // (48 * (detail + 1)))
    xs = np.arange(0, w + step, step, dtype=np.float32)
    for i, colour in enumerate(colours):
        amp = h * (0.22 - 0.05 * i) * rng.uniform(0.8, 1.2)
        ridge = np.zeros_like(xs)
        for octave in range(2 + detail):
            freq = (1.5 + i) * (2**octave) * rng.uniform(0.8, 1.2) / w * math.tau
            ridge += np.sin(xs * freq + rng.uniform(0, math.tau)) / (2**octave)
        if detail:
            ridge += rng.normal(0, 0.04 * detail, xs.size)
        ridge = (ridge - ridge.min()) / max(float(np.ptp(ridge)), 1e-6)
        ys = horizon + h * 0.01 - amp * (0.35 + 0.65 * ridge)
        poly = [(float(x), float(y)) for x, y in zip(xs, ys, strict=True)]
        outline = [*poly, (float(w), horizon + h * 0.05), (0.0, horizon + h * 0.05)]
        top = lerp(colour, (255, 255, 255), 0.08 * detail)
        paste_gradient(canvas, outline, top, colour)
        if snow_caps and i == 0:
            line = int(float(ys.min()) + amp * 0.3)
            body = Image.new("L", (w, line + 1), 0)
            ImageDraw.Draw(body).polygon([*poly, (float(w), float(line + 1)), (0.0, float(line + 1))], fill=255)
            canvas.paste((240, 244, 250, 255), (0, 0), body.crop((0, 0, w, line)))


def water(
    canvas: Image.Image,
    top: float,
    colour: RGB,
    light: float,
    rng: np.random.Generator,
    detail: int,
    shine_x: float | None,
    shine: RGB,
) -> None:
    w, h = canvas.size
    near = shade(colour, 0.6 * light + 0.1)
    far = lerp(shade(colour, light), (255, 255, 255), 0.15)
    paste_gradient(canvas, [(0, top), (w, top), (w, h), (0, h)], far, near)
    if not detail:
        return
    draw = ImageDraw.Draw(canvas)
    ripples = 30 * detail * detail
    for _ in range(ripples):
        y = top + (h - top) * rng.power(1.5)
        x = rng.uniform(0, w)
        length = w * rng.uniform(0.02, 0.08) * (0.3 + (y - top) / max(h - top, 1))
        draw.line((x, y, x + length, y), fill=(*lerp(far, (255, 255, 255), 0.3), 255), width=1)
    if shine_x is not None:
        for _ in range(14 * detail):
            y = top + (h - top) * rng.uniform(0.0, 0.9)
            spread = w * 0.02 + (y - top) * 0.25
            x = shine_x + rng.normal(0, spread / 3)
            length = spread * rng.uniform(0.2, 0.6)
            draw.line((x - length / 2, y, x + length / 2, y), fill=(*shine, 255), width=max(1, h // 300))


def pine(draw: ImageDraw.ImageDraw, x: float, base: float, height: float, colour: RGB, detail: int) -> None:
    trunk = shade(colour, 0.5)
    draw.rectangle((x - height * 0.04, base - height * 0.15, x + height * 0.04, base), fill=(*trunk, 255))
    tiers = 2 + detail
    for t in range(tiers):
        y_top = base - height * (1.0 - t * 0.22)
        y_low = base - height * (0.1 + (tiers - 1 - t) * 0.22 * 0.7)
        half = height * (0.18 + t * 0.07)
        draw.polygon([(x, y_top), (x + half, y_low), (x - half, y_low)], fill=(*shade(colour, 0.9 + 0.1 * t), 255))


def round_tree(draw: ImageDraw.ImageDraw, x: float, base: float, height: float, colour: RGB, detail: int) -> None:
    draw.rectangle((x - height * 0.05, base - height * 0.45, x + height * 0.05, base), fill=(92, 62, 38, 255))
    r = height * 0.32
    cy = base - height * 0.65
    draw.ellipse((x - r, cy - r, x + r, cy + r), fill=(*colour, 255))
    if detail > 1:
        hr = r * 0.45
        draw.ellipse(
            (x - r * 0.5 - hr, cy - r * 0.45 - hr, x - r * 0.5 + hr, cy - r * 0.45 + hr),
            fill=(*lerp(colour, (255, 255, 200), 0.25), 255),
        )


def house(canvas: Image.Image, x: float, base: float, size: float, wall: RGB, light: float, detail: int) -> None:
    draw = ImageDraw.Draw(canvas)
    lit = light < 0.7
    body = (x - size / 2, base - size * 0.6, x + size / 2, base)
    draw.rectangle(body, fill=(*shade(wall, max(light, 0.35)), 255))
    roof = shade((128, 42, 38), max(light, 0.35))
    draw.polygon([(x - size * 0.62, body[1]), (x, base - size * 1.05), (x + size * 0.62, body[1])], fill=(*roof, 255))
    if detail:
        draw.rectangle((x + size * 0.22, base - size * 1.0, x + size * 0.34, base - size * 0.78), fill=(*roof, 255))
    window = (255, 212, 110) if lit else (176, 208, 232)
    door = shade((86, 52, 30), max(light, 0.4))
    draw.rectangle((x - size * 0.08, base - size * 0.32, x + size * 0.08, base), fill=(*door, 255))
    for wx in (x - size * 0.32, x + size * 0.16):
        win = (wx, base - size * 0.45, wx + size * 0.16, base - size * 0.29)
        draw.rectangle(win, fill=(*window, 255))
        if detail > 1:
            draw.line((win[0], (win[1] + win[3]) / 2, win[2], (win[1] + win[3]) / 2), fill=(60, 40, 30, 255))
            draw.line(((win[0] + win[2]) / 2, win[1], (win[0] + win[2]) / 2, win[3]), fill=(60, 40, 30, 255))
    if lit and detail:
        glow(canvas, x, base - size * 0.37, size * 0.9, (255, 200, 100), 0.18)


def city(canvas: Image.Image, horizon: float, rng: np.random.Generator, detail: int, neon: bool, light: float) -> None:
    w, h = canvas.size
    draw = ImageDraw.Draw(canvas)
    x = -rng.uniform(0, w * 0.05)
    lit = light < 0.7
    neon_colours = ((0, 240, 255), (255, 40, 200), (255, 230, 60), (120, 80, 255))
    while x < w:
        bw = w * rng.uniform(0.05, 0.11)
        bh = h * rng.uniform(0.1, 0.4)
        top = horizon - bh
        base_colour = (26, 16, 48) if neon else shade((96, 106, 128), max(light, 0.3))
        draw.rectangle((x, top, x + bw, horizon + h * 0.02), fill=(*base_colour, 255))
        if detail:
            step = max(3.0, bw / (3 + 2 * detail))
            for wy in np.arange(top + step, horizon - step, step * 1.6):
                for wx in np.arange(x + step * 0.5, x + bw - step, step):
                    if rng.random() < (0.55 if lit else 0.8):
                        colour = (
                            neon_colours[int(rng.integers(0, 4))]
                            if neon
                            else ((255, 214, 120) if lit else (190, 214, 236))
                        )
                        draw.rectangle((wx, wy, wx + step * 0.5, wy + step * 0.6), fill=(*colour, 255))
        if neon and detail and rng.random() < 0.5:
            colour = neon_colours[int(rng.integers(0, 4))]
            draw.line((x, top, x + bw, top), fill=(*colour, 255), width=max(1, int(w / 400)))
        x += bw + w * rng.uniform(0.0, 0.02)


def birds(canvas: Image.Image, count: int, top: float, bottom: float, colour: RGB, rng: np.random.Generator) -> None:
    draw = ImageDraw.Draw(canvas)
    cx, cy = rng.uniform(0.2, 0.8) * canvas.width, rng.uniform(top, bottom)
    for _ in range(count):
        x = cx + rng.normal(0, canvas.width * 0.08)
        y = cy + rng.normal(0, canvas.height * 0.04)
        s = canvas.width * rng.uniform(0.008, 0.018)
        width = max(1, int(s / 4))
        draw.line([(x - s, y - s * 0.5), (x, y), (x + s, y - s * 0.5)], fill=(*colour, 255), width=width)


def boat(canvas: Image.Image, x: float, waterline: float, size: float, sail: RGB, light: float) -> None:
    draw = ImageDraw.Draw(canvas)
    hull = shade((96, 56, 34), max(light, 0.35))
    draw.polygon(
        [
            (x - size / 2, waterline - size * 0.18),
            (x + size / 2, waterline - size * 0.18),
            (x + size * 0.35, waterline),
            (x - size * 0.35, waterline),
        ],
        fill=(*hull, 255),
    )
    draw.line((x, waterline - size * 0.18, x, waterline - size * 1.0), fill=(*hull, 255), width=max(1, int(size / 30)))
    draw.polygon(
        [
            (x + size * 0.03, waterline - size * 0.98),
            (x + size * 0.42, waterline - size * 0.24),
            (x + size * 0.03, waterline - size * 0.24),
        ],
        fill=(*shade(sail, max(light, 0.5)), 255),
    )


def flowers(
    canvas: Image.Image, count: int, top: float, bottom: float, colours: list[RGB], rng: np.random.Generator
) -> None:
    draw = ImageDraw.Draw(canvas)
    for _ in range(count):
        y = rng.uniform(top, bottom)
        x = rng.uniform(0, canvas.width)
        r = max(1.0, canvas.width * 0.006 * (0.4 + (y - top) / max(bottom - top, 1)))
        colour = colours[int(rng.integers(0, len(colours)))]
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, 255))


def precipitation(canvas: Image.Image, kind: str, rng: np.random.Generator, detail: int) -> None:
    """Rain streaks or snowflakes over the whole picture."""
    w, h = canvas.size
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    count = (150, 400, 900)[detail]
    xs, ys = rng.uniform(0, w, count), rng.uniform(0, h, count)
    for x, y in zip(xs, ys, strict=True):
        if kind == "rain":
            length = h * 0.03
            draw.line((x, y, x - length * 0.25, y + length), fill=(200, 210, 230, 110), width=max(1, w // 700))
        else:
            r = max(1.0, w * rng.uniform(0.002, 0.005))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, 200))
    canvas.alpha_composite(layer)
