"""A comparison as one labelled picture: axis values as row and column headers, each tile's cost and request id in
small print, favourites starred and framed. The picture people paste into a chat or a paper.

Text uses Pillow's bundled font (``ImageFont.load_default(size=...)``, scalable since Pillow 10.1), never a system
font path; characters it lacks are replaced by close ASCII (``×`` -> ``x``, ``≤`` -> ``<=``) or ``?``.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from PIL import Image, ImageDraw, ImageFont

from ..._internal.version import VERSION
from ...sweep import Job, Sweep, describe
from ._layout import axis_title, cost_text, grid_layout, state_text, states_text

if TYPE_CHECKING:
    Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

TILE_PX = 320
PAD, GAP, LINE_GAP = 20, 14, 3
SIZES = {"title": 24, "header": 16, "text": 14, "small": 12}
INK, MUTED, LINE, TILE_BG, GOLD, RED = "#1f2328", "#59636e", "#d0d7de", "#f6f8fa", "#bf8700", "#cf222e"
_REPLACE = {"×": "x", "≤": "<=", "≥": ">=", "—": "-", "–": "-", "★": "*", "\u00a0": " ", "’": "'", "“": '"', "”": '"'}
_MODES = {
    "local": "offline preview server: procedural stand-ins, not GPT Image output",
    "fal": "images from fal.ai",
}
Role = Literal["title", "subtitle", "summary", "column", "row", "caption", "footer"]


@dataclass(frozen=True)
class Label:
    """One piece of text as drawn: where, how big, and what it says (after character replacement)."""

    role: Role
    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom
    font_px: int


@dataclass
class GridPicture:
    """The rendered picture and the layout it was drawn from (tests and callers can check both)."""

    image: Image.Image
    labels: list[Label] = field(default_factory=list)
    tiles: dict[int, tuple[int, int, int, int]] = field(default_factory=dict)  # variation index -> its image box

    @property
    def size(self) -> tuple[int, int]:
        return self.image.size

    def texts(self, role: Role) -> list[str]:
        return [label.text for label in self.labels if label.role == role]


@lru_cache(maxsize=8)
def font(px: int) -> Font:
    return ImageFont.load_default(size=px)


def font_px(f: Font) -> int:
    return int(f.size) if isinstance(f, ImageFont.FreeTypeFont) else 11  # Pillow's bitmap fallback (no FreeType)


def drawable(text: str, f: Font) -> str:
    """``text`` with the characters ``f`` cannot draw replaced."""
    return "".join(ch if _has_glyph(f, ch) else _REPLACE.get(ch, "?") for ch in text)


def render_grid(
    variations: Sweep,
    jobs: Sequence[Job],
    images: Mapping[int, Image.Image | None],
    *,
    favourites: Collection[int] = (),
    title: str = "falstudio comparison",
    mode: str | None = None,
    tile_px: int = TILE_PX,
    now: datetime.datetime | None = None,
) -> GridPicture:
    """Draw the grid; ``images`` maps a variation index to its (first) output image, full size."""
    if tile_px < 64:
        raise ValueError(f"tile_px must be at least 64 pixels, got {tile_px}")
    layout = grid_layout(variations)
    f_title, f_head, f_text, f_small = (font(SIZES[k]) for k in ("title", "header", "text", "small"))
    line_small = _line_height(f_small)
    caption_h = 2 * line_small + 8
    n_cols = max(len(row) for row in layout.cells)
    row_head_w = 0
    if layout.row_axes:
        widest = max(_text_width(f_head, drawable(t, f_head)) for t in layout.row_labels)
        row_head_w = min(max(widest, 60), 260) + GAP
    grid_w = row_head_w + n_cols * (tile_px + GAP) - GAP
    width = max(grid_w, 480) + 2 * PAD
    inner = width - 2 * PAD

    col_lines = [_wrap(drawable(t, f_head), f_head, tile_px, 2) for t in layout.col_labels] if layout.col_axis else []
    col_head_h = (max(len(lines) for lines in col_lines) * _line_height(f_head) + 8) if col_lines else 0
    row_lines = [_wrap(drawable(t, f_head), f_head, row_head_w - GAP, 4) for t in layout.row_labels]
    cell_h = tile_px + caption_h

    heading: list[tuple[Role, Font, str, str]] = [("title", f_title, title, INK)]
    prompt = variations.base_fields.get("prompt")
    if prompt and "prompt" not in variations.axes:
        heading.append(("subtitle", f_text, f"Prompt: {describe(prompt, 400)}", INK))
    summary = (
        f"{len(variations)} variation{'s' * (len(variations) != 1)} ({axis_title(variations)}) on "
        f"{', '.join(variations.endpoints)} · estimated {variations.cost} in all, each request rounded up to the "
        f"cent · {states_text(jobs)}"
    )
    heading.append(("summary", f_small, summary, MUTED))
    wrapped = [(role, f, _wrap(drawable(text, f), f, inner, 3), color) for role, f, text, color in heading]
    heading_h = sum(len(lines) * _line_height(f) for _, f, lines, _ in wrapped) + GAP * len(wrapped)
    footer_h = line_small + GAP
    height = PAD + heading_h + col_head_h + len(layout.cells) * (cell_h + GAP) + footer_h + PAD

    picture = GridPicture(Image.new("RGB", (width, height), "white"))
    draw = ImageDraw.Draw(picture.image)
    y = PAD
    for role, f, lines, color in wrapped:
        y = _lines(draw, picture, role, f, lines, PAD, y, color) + GAP

    grid_left = PAD + row_head_w
    for col, lines in enumerate(col_lines):
        x = grid_left + col * (tile_px + GAP)
        _lines(draw, picture, "column", f_head, lines, x, y + 2, INK, width=tile_px)
    y += col_head_h
    for row, cells in enumerate(layout.cells):
        top = y + row * (cell_h + GAP)
        if layout.row_axes:
            _lines(draw, picture, "row", f_head, row_lines[row], PAD, top + 4, INK)
        for col, index in enumerate(cells):
            left = grid_left + col * (tile_px + GAP)
            _tile(draw, picture, jobs[index], images.get(index), (left, top), tile_px, index in favourites)
    when = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    footer = f"Made with falstudio {VERSION} on {when}" + (f" · {_MODES.get(mode, mode)}" if mode else "")
    _lines(draw, picture, "footer", f_small, [drawable(footer, f_small)], PAD, height - PAD - line_small, MUTED)
    return picture


# -- drawing -----------------------------------------------------------------------------------------------------


def _tile(
    draw: ImageDraw.ImageDraw,
    picture: GridPicture,
    job: Job,
    image: Image.Image | None,
    at: tuple[int, int],
    px: int,
    favourite: bool,
) -> None:
    left, top = at
    box = (left, top, left + px, top + px)
    draw.rectangle(box, fill=TILE_BG, outline=LINE)
    if image is not None:
        shown = image.convert("RGBA") if image.mode in ("RGBA", "LA", "P") else image.convert("RGB")
        shown.thumbnail((px, px), Image.Resampling.LANCZOS)
        x, y = left + (px - shown.width) // 2, top + (px - shown.height) // 2
        picture.image.paste(shown, (x, y), shown if shown.mode == "RGBA" else None)
        picture.tiles[job.variation.index] = (x, y, x + shown.width, y + shown.height)
    else:
        f = font(SIZES["text"])
        text = drawable(state_text(job) if job.state != "done" else "no image", f)
        lines = _wrap(text, f, px - 16, 3)
        color = RED if job.state == "failed" else MUTED
        _lines(draw, picture, "caption", f, lines, left + 8, top + px // 2 - _line_height(f), color, width=px - 16)
    if favourite:
        draw.rectangle((left - 3, top - 3, left + px + 2, top + px + 2), outline=GOLD, width=4)
        _star(draw, (left + 18, top + 18), 13)
    f_small = font(SIZES["small"])
    first = (
        f"#{job.variation.index}" + ("  favourite" if favourite else "") + f" · {state_text(job)} · {cost_text(job)}"
    )
    second = f"request {job.request_id}" if job.request_id else "not sent"
    if job.request_id and _text_width(f_small, second) > px:
        second = job.request_id  # the whole id matters more than the word
    lines = [_fit(drawable(first, f_small), f_small, px), _fit(drawable(second, f_small), f_small, px)]
    _lines(draw, picture, "caption", f_small, lines, left, top + px + 5, MUTED, width=px)


def _star(draw: ImageDraw.ImageDraw, center: tuple[int, int], radius: int) -> None:
    cx, cy = center
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.45
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.ellipse((cx - radius - 3, cy - radius - 3, cx + radius + 3, cy + radius + 3), fill="white", outline=GOLD)
    draw.polygon(points, fill=GOLD)


def _lines(
    draw: ImageDraw.ImageDraw,
    picture: GridPicture,
    role: Role,
    f: Font,
    lines: Sequence[str],
    x: int,
    y: int,
    color: str,
    *,
    width: int | None = None,
) -> int:
    """Draw ``lines`` from ``(x, y)``, record each as a Label; returns the y below the last."""
    step = _line_height(f)
    for line in lines:
        if line:
            draw.text((x, y), line, font=f, fill=color)
            right = x + _text_width(f, line)
            if width is not None:
                right = min(right, x + width)
            picture.labels.append(Label(role, line, (x, y, right, y + step), font_px(f)))
        y += step
    return y


# -- measuring ---------------------------------------------------------------------------------------------------


def _line_height(f: Font) -> int:
    return font_px(f) + max(LINE_GAP, font_px(f) // 4)


def _text_width(f: Font, text: str) -> int:
    return math.ceil(f.getlength(text))


def _fit(text: str, f: Font, width: int) -> str:
    if _text_width(f, text) <= width:
        return text
    while text and _text_width(f, text + "…") > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, f: Font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels; the last allowed line ends in ``…`` when text is left over."""
    lines: list[str] = []
    current = ""
    words = text.split(" ")
    for i, word in enumerate(words):
        candidate = f"{current} {word}" if current else word
        if _text_width(f, candidate) <= width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            rest = " ".join([current, *words[i + 1 :]])
            return [*lines, _fit(rest, f, width)]
    lines.append(current)
    return [_fit(line, f, width) for line in lines]


@lru_cache(maxsize=4096)
def _has_glyph(f: Font, ch: str) -> bool:
    if ch.isspace() or ord(ch) < 128:
        return True
    return _mask(f, ch) != _mask(f, "\uffff")


def _mask(f: Font, ch: str) -> bytes:
    px = font_px(f)
    image = Image.new("L", (px * 2, px * 2))
    ImageDraw.Draw(image).text((2, 2), ch, font=f, fill=255)
    return image.tobytes()
