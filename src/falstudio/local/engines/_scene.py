"""Composing a landscape from a prompt reading: layout, palette and painting order."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from . import _coast as coast
from . import _shapes as shapes
from ._output import LogFn
from ._prompt import GROUND_COLOURS, RGB, SKY_COLOURS, Reading, with_defaults

# Render scale by detail level: low and medium quality paint fewer pixels and are upscaled.
DOWNSCALE = {0: 4, 1: 2, 2: 1}
_SUN_COLOUR = {"sunset": (255, 176, 72), "dawn": (255, 214, 150), "storm": (230, 230, 220)}
_TREE_COLOUR = {"autumn": (196, 98, 34), "snow": (40, 84, 62), "desert": (92, 120, 60)}
_FLOWERS: list[RGB] = [(230, 60, 80), (250, 210, 60), (250, 250, 250), (170, 90, 200), (250, 140, 180)]


def _abstract_palette(rng: np.random.Generator) -> tuple[RGB, RGB]:
    hue = rng.uniform(0, 360)
    top = Image.new("HSV", (1, 1), (int(hue / 360 * 255), 150, 120)).convert("RGB").getpixel((0, 0))
    low = Image.new("HSV", (1, 1), (int((hue + 40) % 360 / 360 * 255), 110, 235)).convert("RGB").getpixel((0, 0))
    return top, low  # type: ignore[return-value]


def render(
    reading: Reading, size: tuple[int, int], detail: int, transparent: bool, seed: int, log: LogFn
) -> Image.Image:
    """Paint the scene at ``size`` (RGBA if ``transparent``, else RGB), reporting each stage through ``log``."""
    rng = np.random.default_rng(seed)
    scale = DOWNSCALE[detail]
    w, h = max(16, size[0] // scale), max(16, size[1] // scale)
    objects = with_defaults(reading)
    # Abstract shapes when nothing was understood, or when nothing would show: a transparent background has no
    # sky or ground, so a prompt that only set those ("a red apple icon") would give an empty picture.
    abstract = not reading.understood or (transparent and not objects)
    sky_top, sky_low, light = SKY_COLOURS[reading.sky]
    far, near, water_colour = GROUND_COLOURS[reading.ground]
    accent = reading.colours[0] if reading.colours else None
    if abstract:
        sky_top, sky_low = _abstract_palette(rng)
    elif accent and not objects & {"house", "boat", "flowers"}:
        sky_top, sky_low = shapes.lerp(sky_top, accent, 0.3), shapes.lerp(sky_low, accent, 0.3)

    horizon = h * rng.uniform(0.56, 0.68)
    # Ground takes some colour from the sky, more so in low light (a night meadow is blue, not grey).
    ground_light = max(light, 0.6) if reading.ground == "snow" else light
    land = tuple(shapes.lerp(shapes.shade(c, ground_light), sky_low, 0.35 * (1 - light)) for c in (far, near))
    stages: list[str] = ["sky"]
    stages += [o for o in ("sun", "moon", "stars", "clouds", "rainbow", "mountains") if o in objects]
    stages += ["shapes"] if abstract else ["ground"]
    stages += [
        o
        for o in (
            "water",
            "cliff",
            "lighthouse",
            "city",
            "trees",
            "house",
            "boat",
            "birds",
            "flowers",
            "rain",
            "snowfall",
        )
        if o in objects
    ]
    stages.append("finish")
    done = 0

    def stage(name: str, message: str) -> bool:
        nonlocal done
        if name not in stages:
            return False
        log(message, done / len(stages))
        done += 1
        return True

    stage("sky", f"Painting a {reading.sky} sky at {w}x{h} (detail level {detail})")
    if transparent:
        canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    else:
        canvas = shapes.vertical_gradient((w, h), sky_top, sky_low)
        low_band = shapes.vertical_gradient((w, h - int(horizon)), sky_low, shapes.lerp(sky_low, sky_top, 0.2))
        canvas.paste(low_band, (0, int(horizon)))

    sun_x = None
    shine: RGB = (255, 236, 170)
    if stage("sun", "Placing the sun"):
        r = w * rng.uniform(0.05, 0.08)
        low = reading.sky in ("sunset", "dawn")
        sun_x = w * rng.uniform(0.25, 0.75)
        if low:
            cy = horizon - (h * rng.uniform(0.14, 0.2) if "mountains" in objects else r * 0.4)
        else:
            cy = h * rng.uniform(0.12, 0.3)
        shine = _SUN_COLOUR.get(reading.sky, (255, 236, 150))
        shapes.sun(canvas, sun_x, cy, r, shine, detail)
    if stage("moon", "Hanging the moon"):
        x = w * rng.uniform(0.15, 0.85)
        shapes.moon(canvas, x, h * rng.uniform(0.12, 0.3), w * rng.uniform(0.04, 0.06), rng, detail)
        if sun_x is None:
            sun_x, shine = x, (220, 226, 240)
    if stage("stars", "Scattering stars"):
        shapes.stars(canvas, int((60, 160, 420)[detail] * w * h / 1024**2 * scale**2), 0, horizon * 0.85, rng, detail)
    if stage("clouds", "Drifting clouds across the sky"):
        tint = shapes.lerp((255, 255, 255), sky_low, 0.45 if reading.sky in ("sunset", "dawn", "neon") else 0.15)
        tint = shapes.shade(tint, max(light, 0.45))
        for _ in range(int(rng.integers(3, 6)) + (2 if reading.sky == "storm" else 0)):
            shapes.cloud(
                canvas,
                w * rng.uniform(0.0, 1.0),
                h * rng.uniform(0.08, 0.4),
                w * rng.uniform(0.15, 0.3),
                tint,
                rng,
                detail,
            )
    if stage("rainbow", "Arching a rainbow"):
        shapes.rainbow(canvas, w * rng.uniform(0.35, 0.65), horizon, w * rng.uniform(0.3, 0.45), detail)
    if stage("mountains", "Raising mountains"):
        haze = sky_low if not transparent else (150, 160, 180)
        layers = 2 + min(detail, 1)
        colours = [
            shapes.shade(shapes.lerp(haze, (40, 50, 70), 0.3 + 0.25 * i), max(light, 0.8)) for i in range(layers)
        ]
        shapes.mountains(
            canvas, horizon, colours, rng, detail, snow_caps=reading.ground == "snow" or "alps" in reading.words
        )

    water_top = None
    if "water" in objects:
        if reading.ground == "beach":
            water_top, land_top = horizon, horizon + (h - horizon) * 0.5
        elif objects & {"mountains", "trees", "house", "city"}:
            water_top, land_top = horizon + (h - horizon) * 0.3, horizon
        else:
            water_top, land_top = horizon, h
    else:
        land_top = horizon
    why = "Nothing recognisable to paint" if not reading.understood else "Nothing to draw on a transparent background"
    if stage("shapes", f"{why}: composing abstract shapes from the prompt"):
        _abstract(canvas, rng, list(reading.colours) or [sky_top, sky_low], detail)
    if stage("ground", f"Laying {reading.ground} ground"):
        edge = [(x, horizon + h * 0.015 * np.sin(x / w * 7 + rng.uniform(0, 6))) for x in np.linspace(0, w, 24)]
        if not transparent:
            shapes.paste_gradient(canvas, [*edge, (w, h), (0, h)], *land)
    if stage("water", "Filling the water"):
        assert water_top is not None
        shapes.water(canvas, water_top, water_colour, light, rng, detail, sun_x, shine)
        if land_top > water_top and not transparent:
            shapes.paste_gradient(canvas, [(0, land_top), (w, land_top), (w, h), (0, h)], *land)
    if water_top is not None and water_top > horizon:
        shore = (horizon, water_top)  # a lake: things stand on the far bank
    elif land_top < h:
        shore = (land_top, h)  # a beach in front of the sea
    else:
        shore = (horizon, h)
    coast_side = int(rng.integers(0, 2)) if objects & {"cliff", "lighthouse"} else 0  # the coast's side of the picture
    reach = 0.0  # how far across the picture the coast comes: boats sail beyond it
    cliff_top = cliff_x = None
    if stage("cliff", "Raising a cliff over the water"):
        cliff_top, reach = horizon - h * rng.uniform(0.05, 0.1), rng.uniform(0.26, 0.36)
        cliff_x = coast.headland(canvas, coast_side, cliff_top, reach, land[0], light, rng)
    if stage("lighthouse", "Lighting the lighthouse" if light < 0.7 else "Building a lighthouse"):
        if cliff_x is not None and cliff_top is not None:  # on the cliff
            x, base, height = cliff_x, cliff_top, h * 0.26
        elif reading.ground == "beach":  # on the sand, at the picture's side
            x, base, height = w * (0.14 if coast_side == 0 else 0.86), shore[0] + h * 0.01, h * 0.3
        else:  # on a low point of rock
            base, reach = horizon + h * 0.01, 0.24
            x, height = coast.headland(canvas, coast_side, base, reach, land[0], light, rng), h * 0.26
        coast.lighthouse(canvas, x, base + h * 0.004, height, light, detail)
    open_water = (reach + 0.05, 0.9) if coast_side == 0 else (0.1, 0.95 - reach)
    if stage("city", "Building the skyline"):
        shapes.city(canvas, horizon, rng, detail, neon=reading.sky == "neon", light=light)
    if stage("trees", "Planting trees"):
        _trees(canvas, reading, rng, detail, light, shore, many="forest" in reading.words or reading.ground == "forest")
    if stage("house", "Building a house"):
        y = shore[0] + (shore[1] - shore[0]) * 0.6
        house_size = w * 0.08 + w * 0.14 * (y - horizon) / max(h - horizon, 1)
        shapes.house(canvas, w * rng.uniform(0.2, 0.75), y, house_size, accent or (196, 150, 104), light, detail)
    if stage("boat", "Launching a boat"):
        top = water_top if water_top is not None else horizon
        y = top + (h - top) * rng.uniform(0.25, 0.5)
        left, right = max(0.2, open_water[0]), min(0.8, open_water[1])
        shapes.boat(canvas, w * rng.uniform(left, right), y, w * 0.1, accent or (246, 244, 236), light)
    if stage("birds", "Releasing birds"):
        colour = (40, 40, 52) if light > 0.5 else (200, 200, 210)
        shapes.birds(canvas, int(rng.integers(4, 10)), h * 0.08, horizon * 0.6, colour, rng)
    if stage("flowers", "Sowing flowers"):
        colours = [accent] if accent else _FLOWERS
        bottom = water_top if water_top and water_top > land_top else h
        top = max(land_top, horizon + (h - horizon) * 0.4) if bottom == h else horizon
        shapes.flowers(canvas, (40, 120, 300)[detail], top, bottom, colours, rng)
    for kind in ("rain", "snowfall"):
        if stage(kind, f"Adding {kind}"):
            shapes.precipitation(canvas, kind, rng, detail)
    stage("finish", "Finishing: texture and upscaling" if scale > 1 else "Finishing: texture")
    if detail > 1 and not transparent:
        canvas = _texture(canvas, rng)
    if not transparent:
        canvas = canvas.convert("RGB")  # opaque: same pixels, and a three-band upscale is half the work
    if scale > 1:
        canvas = canvas.resize(size, Image.Resampling.BILINEAR)  # as soft as bicubic here, and a third cheaper
    return canvas


def _trees(
    canvas: Image.Image,
    reading: Reading,
    rng: np.random.Generator,
    detail: int,
    light: float,
    band: tuple[float, float],
    many: bool,
) -> None:
    w, h = canvas.size
    top, bottom = band
    colour = _TREE_COLOUR.get(reading.ground, (46, 110, 52))
    count = int((10, 18, 30)[detail] * (1 if many else 0.35))
    bases = np.sort(rng.uniform(top, max(top + 1, bottom), count))
    draw = ImageDraw.Draw(canvas)
    pines = reading.ground in ("snow", "forest") or "pine" in reading.words or reading.sky == "night"
    for base in bases:
        depth = (base - top) / max(h - top, 1)
        height = h * (0.08 + 0.3 * depth) * rng.uniform(0.8, 1.2)
        tone = shapes.shade(colour, max(light, 0.3) * rng.uniform(0.8, 1.1))
        painter = shapes.pine if pines else shapes.round_tree
        painter(draw, float(rng.uniform(0, w)), float(base), height, tone, detail)


def _abstract(canvas: Image.Image, rng: np.random.Generator, colours: list[RGB], detail: int) -> None:
    w, h = canvas.size
    for i in range(5 + 2 * detail):
        colour = shapes.lerp(colours[i % len(colours)], (255, 255, 255), rng.uniform(0, 0.4))
        r = w * rng.uniform(0.05, 0.18)
        shapes.glow(canvas, w * rng.uniform(0, 1), h * rng.uniform(0, 1), r * 2, colour, rng.uniform(0.4, 0.9))
    draw = ImageDraw.Draw(canvas)
    for i in range(3 + detail):
        colour = colours[(i + 1) % len(colours)]
        x, y, s = w * rng.uniform(0.1, 0.9), h * rng.uniform(0.1, 0.9), w * rng.uniform(0.05, 0.15)
        if i % 2:
            draw.regular_polygon(
                (x, y, s), int(rng.integers(3, 7)), rotation=float(rng.uniform(0, 90)), fill=(*colour, 230)
            )
        else:
            draw.ellipse((x - s, y - s, x + s, y + s), outline=(*colour, 255), width=max(1, int(s / 6)))


def _texture(canvas: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Subtle two-scale brightness variation, so high quality reads as painted rather than flat.

    Blends a 10 % darker and a 10 % lighter copy through a noise mask: Pillow's C loops, not numpy floats.
    """
    noise = shapes.value_noise(rng, canvas.size, 16) * 0.6 + shapes.value_noise(rng, canvas.size, 64)
    mask = Image.fromarray((128 + noise * 110).clip(0, 255).astype(np.uint8), "L")
    rgb = canvas.convert("RGB")
    darker = rgb.point(lambda v: v * 0.9)
    lighter = rgb.point(lambda v: min(255, v * 1.1))
    return Image.composite(lighter, darker, mask)
