"""Edit instructions the offline engine understands, each a Pillow filter on an RGB image.

``amount`` is 1.0 for the first variation and grows for the next ones, so ``num_images`` gives
visibly different takes on the same instruction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageEnhance, ImageFilter, ImageOps

from ._shapes import radial

Filter = Callable[[Image.Image, float], Image.Image]


def _tint(image: Image.Image, mul: tuple[float, float, float], add: tuple[float, float, float]) -> Image.Image:
    lut: list[int] = []
    for m, a in zip(mul, add, strict=True):
        lut.extend(min(255, max(0, round(v * m + a))) for v in range(256))
    return image.point(lut)


def pixel_art(image: Image.Image, amount: float) -> Image.Image:
    blocks = max(16, round(64 / amount))
    scale = blocks / max(image.size)
    small = image.resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX
    )
    small = small.quantize(16, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).convert("RGB")
    return small.resize(image.size, Image.Resampling.NEAREST)


def grayscale(image: Image.Image, amount: float) -> Image.Image:
    return ImageOps.autocontrast(ImageOps.grayscale(image), cutoff=(amount - 1) * 2).convert("RGB")


def sepia(image: Image.Image, amount: float) -> Image.Image:
    gray = ImageOps.autocontrast(ImageOps.grayscale(image), cutoff=1)
    return ImageOps.colorize(gray, black=(38, 24, 12), white=(255, 244, round(200 / amount)), mid=(156, 112, 68))


def blur(image: Image.Image, amount: float) -> Image.Image:
    soft = image.filter(ImageFilter.GaussianBlur(max(image.size) / 110 * amount))
    return ImageEnhance.Brightness(soft).enhance(1.05)


def posterize(image: Image.Image, amount: float) -> Image.Image:
    poster = ImageOps.posterize(ImageOps.autocontrast(image), 2 if amount > 1.2 else 3)
    return ImageEnhance.Color(poster).enhance(1.5)


def sketch(image: Image.Image, amount: float) -> Image.Image:
    gray = ImageOps.grayscale(image)
    blurred = ImageOps.invert(gray).filter(ImageFilter.GaussianBlur(max(image.size) / 160 * amount))
    g = np.asarray(gray, np.uint16)
    b = np.asarray(blurred, np.uint16)
    dodge = np.minimum(255, (g * 256) // (256 - b))  # colour dodge: pencil lines on white
    return Image.fromarray(dodge.astype(np.uint8), "L").convert("RGB")


def invert(image: Image.Image, amount: float) -> Image.Image:
    inverted = ImageOps.invert(image)
    return inverted if amount <= 1 else ImageEnhance.Contrast(inverted).enhance(amount)


def cartoon(image: Image.Image, amount: float) -> Image.Image:
    w, h = image.size
    factor = 4 if max(w, h) >= 512 else 2
    flat = image.reduce(factor).filter(ImageFilter.SMOOTH_MORE).resize(image.size, Image.Resampling.BILINEAR)
    flat = ImageEnhance.Color(ImageOps.posterize(flat, 3)).enhance(1.3 * amount)
    edges = ImageOps.grayscale(image.reduce(2)).filter(ImageFilter.FIND_EDGES).resize(image.size)
    ink = edges.point(lambda v: 0 if v > 40 else 255).convert("RGB")
    return ImageChops.multiply(flat, ink)


def night(image: Image.Image, amount: float) -> Image.Image:
    dark = _tint(image, (0.45 / amount, 0.52 / amount, 0.85 / amount), (0, 8, 30))
    return vignette(dark, 1.0)


def warm(image: Image.Image, amount: float) -> Image.Image:
    return _tint(image, (1.1, 1.0, 0.78 / amount), (20 * amount, 8, 0))


def cool(image: Image.Image, amount: float) -> Image.Image:
    return _tint(image, (0.84 / amount, 0.96, 1.1), (0, 6, 22 * amount))


def vignette(image: Image.Image, amount: float) -> Image.Image:
    falloff = radial().resize((image.width * 3 // 2, image.height * 3 // 2), Image.Resampling.BILINEAR)
    left, top = (falloff.width - image.width) // 2, (falloff.height - image.height) // 2
    mask = falloff.crop((left, top, left + image.width, top + image.height))
    mask = mask.point(lambda v: min(255, int(v * 1.6 / amount)))
    return Image.composite(image, Image.new("RGB", image.size, (0, 0, 0)), mask)


def brighten(image: Image.Image, amount: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(1.3 * amount)


def darken(image: Image.Image, amount: float) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(0.65 / amount)


def vivid(image: Image.Image, amount: float) -> Image.Image:
    return ImageEnhance.Contrast(
        ImageEnhance.Color(ImageOps.autocontrast(image, cutoff=1)).enhance(1.6 * amount)
    ).enhance(1.1)


def emboss(image: Image.Image, amount: float) -> Image.Image:
    return image.filter(ImageFilter.EMBOSS)


def contour(image: Image.Image, amount: float) -> Image.Image:
    return image.filter(ImageFilter.CONTOUR)


def sharpen(image: Image.Image, amount: float) -> Image.Image:
    radius = max(2, max(image.size) // 400)
    return image.filter(ImageFilter.UnsharpMask(radius=radius, percent=int(250 * amount), threshold=2))


def mirror(image: Image.Image, amount: float) -> Image.Image:
    return ImageOps.mirror(image)


@dataclass(frozen=True)
class Instruction:
    name: str
    pattern: re.Pattern[str]
    apply: Filter


def _rule(name: str, words: str, apply: Filter) -> Instruction:
    return Instruction(name, re.compile(rf"\b(?:{words})", re.IGNORECASE), apply)


INSTRUCTIONS: tuple[Instruction, ...] = (
    _rule("pixel-art", r"pixel|8[- ]?bit|16[- ]?bit|retro game|sprite", pixel_art),
    _rule("grayscale", r"gr[ae]y ?scale|black[- ]and[- ]white|b&w|b/w|monochrome|desaturat|colou?rless", grayscale),
    _rule("sepia", r"sepia|vintage|old photo|antique|old-fashioned|aged", sepia),
    _rule("blur", r"blur|dream|soft focus|soften|bokeh|out of focus|hazy", blur),
    _rule("posterize", r"posteri[sz]|pop[- ]?art|warhol|screen ?print", posterize),
    _rule("sketch", r"sketch|pencil|drawing|charcoal|line art|graphite", sketch),
    _rule("invert", r"invert|negative", invert),
    _rule("cartoon", r"cartoon|comic|anime|cel[- ]shad|toon", cartoon),
    _rule("night", r"night|midnight|moonlit|nocturnal", night),
    _rule("warm", r"warm|sunset|golden|summer|cozy|cosy", warm),
    _rule("cool", r"cool|cold|winter|icy|frost", cool),
    _rule("vignette", r"vignette", vignette),
    _rule("brighten", r"bright|lighter|lighten|more light", brighten),
    _rule("darken", r"darker|darken|dim\b|moody|gloomy", darken),
    _rule("vivid", r"vivid|saturat|colou?rful|vibrant|punchy|more colou?r", vivid),
    _rule("emboss", r"emboss|relief", emboss),
    _rule("contour", r"contour|outline|edges", contour),
    _rule("sharpen", r"sharpen|crisp", sharpen),
    _rule("mirror", r"mirror|flip", mirror),
)


def understood(prompt: str) -> list[tuple[int, Instruction]]:
    """The instructions found in ``prompt``, in the order they are written."""
    found = []
    for instruction in INSTRUCTIONS:
        match = instruction.pattern.search(prompt)
        if match:
            found.append((match.start(), instruction))
    return sorted(found, key=lambda item: item[0])
