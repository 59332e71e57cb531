"""A comparison as one self-contained HTML file: inline styles, embedded thumbnails, the parameter table."""

from __future__ import annotations

import datetime
import os
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from ..._internal.theme import COLOR, FONT_SMALL, esc, style
from ..._internal.version import VERSION
from ...sweep import Job, Sweep, describe
from .._html import card, small_thumbnail
from ._layout import axis_title, grid_layout, states_text, tile_markup, total_text

Thumbnail = tuple[bytes, str]  # (bytes, mime)
EXPORT_PX = 224
_MODES = {
    "local": "offline — images from falstudio's local server (procedural stand-ins, not GPT Image output)",
    "fal": "online — images from fal.ai",
}
_CELL = style(padding="6px 8px", vertical_align="top", text_align="left", border=f"1px solid {COLOR['border']}")
_HEAD = style(font_weight="600", background=COLOR["bg2"])


def job_thumbnail(job: Job, px: int = EXPORT_PX) -> Thumbnail | None:
    """The first image of a finished job as a small preview, or None (no image, or it cannot be fetched)."""
    images = getattr(job.result, "images", None) or []
    if job.state != "done" or not images:
        return None
    try:
        data, mime = images[0].thumbnail(px)
    except Exception:  # an expired URL or a dead server: the tile says so instead
        return None
    return bytes(data), mime


def grid_table(
    variations: Sweep,
    jobs: Sequence[Job],
    thumbnails: Mapping[int, Thumbnail | None],
    favourites: Collection[int],
    *,
    px: int,
    full_id: bool = False,
) -> str:
    """The tiles in a table whose row and column headers are the axis values."""
    layout = grid_layout(variations)
    head = "".join(f'<th scope="col" style="{_CELL};{_HEAD}">{esc(c)}</th>' for c in layout.col_labels)
    corner = f'<th style="{_CELL};{_HEAD}"></th>' if layout.row_axes else ""
    rows = []
    for label, cells in zip(layout.row_labels, layout.cells, strict=True):
        th = f'<th scope="row" style="{_CELL};{_HEAD}">{esc(label)}</th>' if layout.row_axes else ""
        tds = "".join(
            f'<td data-variation="{i}" style="{_CELL}">'
            + tile_markup(
                jobs[i],
                jobs[0].variation,
                thumbnails.get(i),
                favourite=i in favourites,
                px=px,
                full_id=full_id,
            )
            + "</td>"
            for i in cells
        )
        rows.append(f"<tr>{th}{tds}</tr>")
    thead = f"<thead><tr>{corner}{head}</tr></thead>" if layout.col_axis else ""
    return f'<table style="border-collapse:collapse;color:{COLOR["fg"]}">{thead}<tbody>{"".join(rows)}</tbody></table>'


def parameter_table(variations: Sweep, jobs: Sequence[Job], favourites: Collection[int]) -> str:
    """Every variation's full request (secrets hidden) and outcome: what is the same in every variation once, as a
    short list, then one row per variation with only the columns that differ (so the table fits a page)."""
    records = [job.record(favourite=job.variation.index in favourites) for job in jobs]
    fields = list(dict.fromkeys(k for r in records for k in r["request"]))
    rows = []
    for r in records:
        rows.append(
            {
                "#": r["index"],
                "★": "★" if r["favourite"] else "",
                "endpoint": r["endpoint"],
                **{f: describe(r["request"].get(f, ""), 200) for f in fields},
                "state": r["state"],
                "request id": r["request_id"] or "",
                "queue s": _seconds(r["queue_seconds"]),
                "inference s": _seconds(r["inference_seconds"]),
                "cost": r["estimate"],
                "error": " ".join(x for x in (r["error_type"], r["error"]) if x),
            }
        )
    shared_candidates = ["endpoint", *fields, "state", "error"]
    same = [c for c in shared_candidates if len(rows) > 1 and len({str(row[c]) for row in rows}) == 1]
    columns = [c for c in rows[0] if c not in same and (c == "#" or any(str(row[c]) for row in rows))] if rows else []
    shared = "".join(
        f'<tr><th scope="row" style="{_CELL};{_HEAD}">{esc(c)}</th><td style="{_CELL}">{esc(rows[0][c])}</td></tr>'
        for c in same
        if str(rows[0][c]) != ""
    )
    head = "".join(f'<th scope="col" style="{_CELL};{_HEAD}">{esc(c)}</th>' for c in columns)
    body = [
        "<tr>" + "".join(f'<td style="{_CELL};{_wrap(c)}">{esc(row[c])}</td>' for c in columns) + "</tr>"
        for row in rows
    ]
    table_css = f"border-collapse:collapse;font-size:0.9em;color:{COLOR['fg']}"
    intro = (
        f'<p style="margin:0 0 6px">The same in every variation:</p><table style="{table_css};margin-bottom:12px">'
        f"<tbody>{shared}</tbody></table>"
        if shared
        else ""
    )
    return f'{intro}<table style="{table_css}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def summary_text(variations: Sweep, jobs: Sequence[Job]) -> str:
    noun = "variation" if len(variations) == 1 else "variations"
    return (
        f"{len(variations)} {noun} ({axis_title(variations)}) on {', '.join(variations.endpoints)} · "
        f"{total_text(variations.cost)} · {states_text(jobs)}"
    )


def static_card(
    variations: Sweep,
    jobs: Sequence[Job],
    thumbnails: Mapping[int, Thumbnail | None],
    favourites: Collection[int],
    *,
    px: int,
) -> str:
    """The grid as a card of plain HTML (what a notebook keeps for readers): summary line, then the table."""
    summary = (
        f'<div style="color:{COLOR["muted"]};font-size:{FONT_SMALL};margin-bottom:6px">'
        f"{esc(summary_text(variations, jobs))}</div>"
    )
    grid = grid_table(variations, jobs, thumbnails, favourites, px=px)
    return card("<b>Compare variations</b>", summary + f'<div style="overflow-x:auto">{grid}</div>')


def export_html(
    path: str | os.PathLike[str],
    variations: Sweep,
    jobs: Sequence[Job],
    *,
    favourites: Collection[int] = (),
    thumbnails: Mapping[int, Thumbnail | None] | None = None,
    mode: str | None = None,
    title: str = "falstudio comparison",
    px: int = EXPORT_PX,
) -> Path:
    """Write the comparison to ``path`` (``.html`` added when it has no suffix) and return the path."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".html")
    given = thumbnails or {}
    thumbs = {j.variation.index: _shrink(given.get(j.variation.index) or job_thumbnail(j, px), px) for j in jobs}
    prompt = variations.base_fields.get("prompt")
    prompt_line = (
        f'<p style="margin:0 0 12px"><b>Prompt:</b> {esc(prompt)}</p>'
        if prompt and "prompt" not in variations.axes
        else ""
    )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    where = f" · {_MODES.get(mode, mode)}" if mode else ""
    muted = style(color="#59636e", margin="0 0 12px")
    body = (
        f'<h1 style="font-size:1.4em;margin:0 0 4px">{esc(title)}</h1>'
        f'<p style="{muted}">{esc(summary_text(variations, jobs))}</p>{prompt_line}'
        f'<div style="overflow-x:auto">{grid_table(variations, jobs, thumbs, favourites, px=px, full_id=True)}</div>'
        f'<h2 style="font-size:1.15em;margin:24px 0 8px">Parameters</h2>'
        f'<div style="overflow-x:auto">{parameter_table(variations, jobs, favourites)}</div>'
        f'<footer style="{muted};margin-top:24px">Generated by falstudio {esc(VERSION)} on {stamp}'
        f"{esc(where)}</footer>"
    )
    page_style = style(
        margin="24px",
        font_family="system-ui, -apple-system, 'Segoe UI', sans-serif",
        font_size="14px",
        color="#1f2328",
        background="#ffffff",
    )
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{esc(title)}</title></head>\n<body style="{page_style}"><main>{body}</main></body></html>\n'
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(document, encoding="utf-8")
    return target


def _shrink(thumbnail: Thumbnail | None, px: int) -> Thumbnail | None:
    return None if thumbnail is None else small_thumbnail(thumbnail[0], px)


def _wrap(column: str) -> str:
    """Text columns wrap in a readable width; ids, enums and numbers stay on one line."""
    if column in ("prompt", "error", "image_urls", "mask_image_url"):
        return "min-width:14em"
    return "overflow-wrap:anywhere" if column == "request id" else "white-space:nowrap"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"
