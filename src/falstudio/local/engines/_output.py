"""What an engine returns, and how a rendered picture becomes file bytes: the offline mark and metadata."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from falstudio._internal.images import image_bytes

from . import _png

MARK = "offline preview"
SOFTWARE = "falstudio offline engine (procedural, no model)"
_EXIF_DESCRIPTION = 0x010E
_EXIF_SOFTWARE = 0x0131
# Speed over size: level 1 encodes a 1024x1024 scene several times faster than the default 6.
_SAVE_ARGS: dict[str, dict[str, object]] = {
    "png": {"compress_level": 1},
    "jpeg": {"quality": 90},
    "webp": {"quality": 85, "method": 0},
}
SIZES: dict[str, tuple[int, int]] = {"1024x1024": (1024, 1024), "1536x1024": (1536, 1024), "1024x1536": (1024, 1536)}


class LogFn(Protocol):
    """Receives an engine's progress lines; ``progress`` is the share of the work done (0 to 1)."""

    def __call__(self, message: str, progress: float, /) -> None: ...


def no_log(message: str, progress: float, /) -> None:
    """The default log callback: discard."""


def scaled_log(log: LogFn, start: float, span: float) -> LogFn:
    """A log callback for a sub-task that covers ``[start, start + span]`` of the parent's progress."""

    def sub(message: str, progress: float, /) -> None:
        log(message, start + span * min(max(progress, 0.0), 1.0))

    return sub


@dataclass(frozen=True)
class GeneratedImage:
    """One output file: its bytes and what they are."""

    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return self.content_type.removeprefix("image/").replace("jpeg", "jpg")


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def add_mark(image: Image.Image) -> Image.Image:
    """Stamp a small, semi-transparent "offline preview" label in the bottom-right corner (in place)."""
    width, height = image.size
    label_font = font(max(10, min(width, height) // 64))
    left, top, right, bottom = label_font.getbbox(MARK)
    pad = int(max(4, label_font.size // 2)) if isinstance(label_font, ImageFont.FreeTypeFont) else 4
    x = int(width - (right - left) - 2 * pad)
    y = int(height - (bottom - top) - 2 * pad)
    ox, oy = x - pad, y - pad  # only the corner is composited: a full-size layer costs more than the label
    layer = Image.new("RGBA", (width - ox, height - oy), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.rounded_rectangle(
        (0, pad - pad // 2, width - pad - ox, height - pad // 2 - oy), radius=pad, fill=(0, 0, 0, 70)
    )
    draw.text((x - ox, y - top - oy), MARK, font=label_font, fill=(255, 255, 255, 150))
    region = image.crop((ox, oy, width, height)).convert("RGBA")
    region.alpha_composite(layer)
    image.paste(region.convert(image.mode), (ox, oy))
    return image


def encode(image: Image.Image, output_format: str, description: str) -> GeneratedImage:
    """File bytes for ``image`` with the offline mark recorded in the metadata as well."""
    fmt = output_format.lower().replace("jpg", "jpeg")
    text = f"{MARK}: {description}"
    if fmt == "png" and _png.can_write(image):
        data = _png.png_bytes(image, {"Software": SOFTWARE, "Comment": MARK}, {"Description": text})
        return GeneratedImage(data, "image/png", image.width, image.height)
    args = dict(_SAVE_ARGS.get(fmt, {}))
    if fmt == "png":
        info = PngInfo()
        info.add_text("Software", SOFTWARE)
        info.add_text("Comment", MARK)
        info.add_itxt("Description", text)
        args["pnginfo"] = info
    else:
        exif = Image.Exif()
        exif[_EXIF_DESCRIPTION] = text.encode("ascii", "replace").decode("ascii")
        exif[_EXIF_SOFTWARE] = SOFTWARE
        args["exif"] = exif
    data = image_bytes(image, fmt, **args)
    return GeneratedImage(data, f"image/{fmt}", image.width, image.height)
