"""The widgets' HTML helpers, on falstudio's theme: the static fallback every widget adds, cards, tables,
code blocks, image tiles and grids (the Gallery's fallback, the Studio's history strip, Compare's export).

Inline styles only (no ``<style>``, ``<script>`` or ``id=``), so the markup survives an untrusted reopen
in JupyterLab, nbconvert exports and GitHub. Colours come from :mod:`falstudio._internal.theme`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import ipywidgets

from .._internal import images as _images
from .._internal.theme import COLOR, FONT_CODE, FONT_SMALL, esc, style

PROMPT_CHARS = 60  # a prompt shown next to a picture or a job is cut here (whole on hover)
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


def short_prompt(prompt: str, chars: int = PROMPT_CHARS) -> str:
    """A prompt on one short line (whitespace folded, cut with "…"), to tell runs apart at a glance."""
    text = " ".join(prompt.split())
    return text if len(text) <= chars else text[: chars - 1].rstrip() + "…"


def tile_html(
    thumbnail: bytes | None,
    mime: str,
    alt: str,
    caption_rows: Sequence[tuple[str, str]] = (),
    *,
    title: str | None = None,
    px: int = 192,
    checkerboard: bool | None = None,
    fluid: bool = False,
) -> str:
    """One image with its caption, as a ``<figure>``.

    ``thumbnail``: image bytes (already small; see :func:`small_thumbnail`), or None for a placeholder
    box that shows ``alt``. ``caption_rows``: ``(label, value)`` pairs in plain text. ``checkerboard``:
    draw one behind the image; by default only when the image has transparency. ``fluid``: as wide as its
    container (a square picture box) instead of ``px`` (the live Compare grid, whose columns follow the output).
    """
    box = style(
        width="100%" if fluid else f"{px}px",
        height="auto" if fluid else f"{px}px",
        **({"aspect_ratio": "1 / 1"} if fluid else {}),
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
    width = "100%" if fluid else f"{px}px"
    return f'<figure style="margin:0;width:{width};color:{COLOR["fg"]}">{picture}{caption}</figure>'


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


def code_block(text: str) -> str:
    """Escaped text in a scrollable ``<pre>``."""
    css = style(
        font_family=FONT_CODE,
        font_size="0.85em",
        background=COLOR["bg2"],
        color=COLOR["fg"],
        border=f"1px solid {COLOR['border']}",
        border_radius="4px",
        padding="6px 8px",
        margin="4px 0",
        overflow_x="auto",
        white_space="pre",
        max_height="24em",
    )
    return f'<pre style="{css}">{esc(text)}</pre>'


def table(rows: Iterable[tuple[str, str]], *, caption: str | None = None) -> str:
    """A two-column table; both cells are already HTML (escape plain text with :func:`esc`)."""
    cell = style(padding="2px 10px 2px 0", vertical_align="baseline", text_align="left", border="none")
    head = style(font_weight="normal", color=COLOR["muted"], font_family=FONT_CODE, font_size="0.9em")
    body = "".join(
        f'<tr><th scope="row" style="{cell};{head}">{k}</th><td style="{cell};color:{COLOR["fg"]}">{v}</td></tr>'
        for k, v in rows
    )
    cap = f'<caption style="text-align:left;color:{COLOR["muted"]}">{esc(caption)}</caption>' if caption else ""
    return f'<table style="border-collapse:collapse;margin:4px 0;background:transparent">{cap}{body}</table>'


def card(title_html: str, body_html: str) -> str:
    """The frame of a static fallback: a bordered box with a title line, transparent background."""
    box = style(
        border=f"1px solid {COLOR['border']}",
        border_radius="6px",
        padding="8px 12px",
        margin="2px 0",
        color=COLOR["fg"],
        background=COLOR["bg"],
        font_family="var(--jp-ui-font-family, inherit)",
        max_width="56em",
    )
    return f'<div style="{box}"><div style="margin-bottom:4px">{title_html}</div>{body_html}</div>'


class StaticFallback:
    """Mixin for ipywidgets: adds a static ``text/html`` view next to the live widget view.

    JupyterLab shows it when the widget model is gone (a reopened or exported notebook); nbval keeps
    comparing the deterministic ``text/plain`` repr. Put it first in the bases
    (``class JobView(StaticFallback, VBox)``) and implement :meth:`_static_html` with inline styles only.
    """

    def _static_html(self) -> str:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self._static_html()

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle: dict[str, Any] = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        bundle["text/html"] = self._static_html()
        return bundle


def close_tree(widget: ipywidgets.Widget) -> None:
    """Close a widget and everything inside it (their comms, their layout and style models too), e.g. rows
    being replaced."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
        if isinstance(part, ipywidgets.Widget):
            part.close()
    widget.close()


def prompt_of(request: Any) -> str:
    """The prompt of a request (a model or a dict), or ""."""
    prompt = request.get("prompt") if isinstance(request, Mapping) else getattr(request, "prompt", None)
    return prompt if isinstance(prompt, str) else ""
