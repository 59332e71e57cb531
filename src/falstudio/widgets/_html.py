"""Static HTML for image tiles and grids: the Gallery's fallback, the history strip, Compare's export.

Inline styles only (no ``<style>``, ``<script>`` or ``id=``), so the markup survives an untrusted reopen
in JupyterLab, nbconvert exports and GitHub. Colours come from :mod:`._style`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .._internal import images as _images
from .._internal.theme import COLOR, FONT_SMALL, esc, style

STATIC_THUMBNAIL_PX = 160  # small enough that a few of them stay well under ~30 KB each

CHECKERBOARD = (
    "background-color:#fff;background-image:linear-gradient(45deg,#ccc 25%,transparent 25%),"
    "linear-gradient(-45deg,#ccc 25%,transparent 25%),linear-gradient(45deg,transparent 75%,#ccc 75%),"
    "linear-gradient(-45deg,transparent 75%,#ccc 75%);background-size:16px 16px;"
    "background-position:0 0,0 8px,8px -8px,-8px 0"
)


def small_thumbnail(data: bytes, max_px: int = STATIC_THUMBNAIL_PX) -> tuple[bytes, str]:
    """A preview for static HTML: ``(bytes, mime)``, JPEG or (with transparency) WebP."""
    return _images.thumbnail(data, max_px=max_px, quality=70)


def caption_html(rows: Iterable[tuple[str, str]]) -> str:
    """Caption rows as ``label: value`` lines (just ``value`` when the label is empty); plain text, escaped."""
    muted = style(color=COLOR["muted"])
    lines = []
    for label, value in rows:
        head = f'<span style="{muted}">{esc(label)}:</span> ' if label else ""
        lines.append(f'<div style="overflow-wrap:anywhere">{head}{esc(value)}</div>')
    return "".join(lines)


def tile_html(
    thumbnail: bytes | None,
    mime: str,
    alt: str,
    caption_rows: Sequence[tuple[str, str]] = (),
    *,
    title: str | None = None,
    px: int = 192,
    checkerboard: bool | None = None,
) -> str:
    """One image with its caption, as a ``<figure>``.

    ``thumbnail``: image bytes (already small; see :func:`small_thumbnail`), or None for a placeholder
    box that shows ``alt``. ``caption_rows``: ``(label, value)`` pairs in plain text. ``checkerboard``:
    draw one behind the image; by default only when the image has transparency.
    """
    box = style(
        width=f"{px}px",
        height=f"{px}px",
        display="flex",
        align_items="center",
        justify_content="center",
        border=f"1px solid {COLOR['border']}",
        border_radius="4px",
        overflow="hidden",
        background=COLOR["bg2"],
    )
    if thumbnail is None:
        picture = (
            f'<div role="img" aria-label="{esc(alt)}" style="{box};color:{COLOR["muted"]};'
            f'font-size:{FONT_SMALL};text-align:center;padding:4px;box-sizing:border-box">{esc(alt)}</div>'
        )
    else:
        if checkerboard is None:  # a JPEG has no alpha: no need to decode it to know
            checkerboard = mime != "image/jpeg" and _images.has_alpha(_images.open_image(thumbnail))
        behind = f";{CHECKERBOARD}" if checkerboard else ""
        src = _images.to_data_uri(thumbnail, mime)
        picture = (
            f'<div style="{box}"><img src="{esc(src)}" alt="{esc(alt)}" title="{esc(alt)}" '
            f'style="max-width:100%;max-height:100%;object-fit:contain{behind}"></div>'
        )
    heading = f'<div style="font-weight:600;margin-top:4px">{esc(title)}</div>' if title else ""
    caption = (
        f'<figcaption style="{style(font_size=FONT_SMALL, color=COLOR["fg"], margin_top="4px", line_height="1.35")}">'
        f"{heading}{caption_html(caption_rows)}</figcaption>"
        if caption_rows or title
        else ""
    )
    return f'<figure style="margin:0;width:{px}px;color:{COLOR["fg"]}">{picture}{caption}</figure>'


def grid_html(tiles: Iterable[str], columns: int = 3, *, gap_px: int = 10) -> str:
    """Tiles (HTML strings, e.g. from :func:`tile_html`) in a grid ``columns`` wide."""
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    css = style(
        display="grid",
        grid_template_columns=f"repeat({columns}, max-content)",
        gap=f"{gap_px}px",
        align_items="start",
        margin="4px 0",
    )
    return f'<div style="{css}">{"".join(tiles)}</div>'
