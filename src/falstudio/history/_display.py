"""A small HTML gallery of run records: inline styles, thumbnails as data URIs, no JavaScript.

Colours and fonts are falstudio's one theme (:mod:`falstudio._internal.theme`, JupyterLab's variables with
fallbacks), the same as the widgets', so it reads in light and dark themes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from falstudio._internal import images as _images
from falstudio._internal.theme import COLOR, FONT_SMALL, FONT_UI, STATE_COLOR, esc

from ._record import RunRecord

SHOWN = 24
THUMB_PX = 144
_MUTED = f"color:{COLOR['muted']}"


def records_html(records: Sequence[RunRecord], total: int, folder: str = "") -> str:
    """A header line and up to :data:`SHOWN` cards, newest first."""
    in_flight = sum(r.in_flight for r in records)
    noun = "record" if total == 1 else "records"
    header = f"Run history — {total} {noun}" + (f", {in_flight} in flight" if in_flight else "")
    if folder:
        header += f" · <code>{esc(folder)}</code>"
    cards = "".join(_card(r) for r in records[:SHOWN])
    more = ""
    if total > SHOWN:
        hidden = total - SHOWN
        more = f'<div style="font-size:12px;{_MUTED}">… and {hidden} more (slice or .filter() to see them)</div>'
    if not records:
        cards = f'<div style="font-size:12px;{_MUTED}">No run records yet.</div>'
    return (
        f'<div style="font-family:{FONT_UI};color:{COLOR["fg"]}">'
        f'<div style="font-size:{FONT_SMALL};margin:0 0 6px;{_MUTED}">{header}</div>'
        f'<div style="display:flex;flex-wrap:wrap;gap:8px">{cards}</div>{more}</div>'
    )


def _card(record: RunRecord) -> str:
    color = STATE_COLOR.get(record.state, COLOR["muted"])
    badge = (
        f'<span style="border:1px solid {color};color:{color};border-radius:3px;padding:0 4px">{record.state}</span>'
    )
    count = f' <span style="{_MUTED}">×{len(record.images)}</span>' if len(record.images) > 1 else ""
    prompt = record.prompt or "(no prompt)"
    short = prompt if len(prompt) <= 60 else prompt[:59] + "…"
    details = [record.endpoint.removeprefix("fal-ai/")]
    if record.cost_estimate:
        details.append(record.cost_estimate)
    if record.submitted_at is not None:
        details.append(dt.datetime.fromtimestamp(record.submitted_at).strftime("%Y-%m-%d %H:%M"))
    note = ""
    if record.error:
        note = (
            f'<div style="font-size:10px;color:{color}" title="{esc(record.error)}">'
            f"{esc(record.error_type or record.error[:40])}</div>"
        )
    elif record.in_flight and record.unconfirmed:
        note = f'<div style="font-size:10px;color:{STATE_COLOR["lost"]}">being sent: no request id yet</div>'
    elif record.in_flight and record.sync_mode:
        note = f'<div style="font-size:10px;color:{STATE_COLOR["lost"]}">sync_mode: cannot be fetched again</div>'
    return (
        f'<div style="width:{THUMB_PX + 8}px;border:1px solid {COLOR["border"]};border-radius:6px;'
        f'padding:4px;box-sizing:border-box;background:{COLOR["bg"]}" '
        f'title="{esc(record.request_id or "no request id: the reply was never recorded")}">'
        f"{_preview(record)}"
        f'<div style="margin-top:3px;font-size:10px;line-height:16px">{badge}{count}</div>'
        f'<div style="font-size:11px;line-height:1.25;overflow-wrap:anywhere" title="{esc(prompt)}">'
        f"{esc(short)}</div>"
        f'<div style="font-size:10px;{_MUTED}">{" · ".join(esc(d) for d in details)}</div>'
        f"{note}</div>"
    )


def _preview(record: RunRecord) -> str:
    box = (
        f"width:{THUMB_PX}px;height:{THUMB_PX}px;display:flex;align-items:center;justify-content:center;"
        f"background:{COLOR['bg2']};border-radius:4px;overflow:hidden"
    )
    thumb = None
    try:
        thumb = record.thumbnail(0, THUMB_PX)
    except (OSError, ValueError):
        thumb = None  # an image file that is not an image any more: show the card without it
    if thumb is None:
        label = "in flight…" if record.in_flight else "no image"
        return f'<div style="{box};font-size:11px;{_MUTED}">{label}</div>'
    src = _images.to_data_uri(*thumb)
    alt = esc(" ".join(record.prompt.split())[:200] or "generated image")
    return f'<div style="{box}"><img src="{src}" alt="{alt}" style="max-width:100%;max-height:100%"></div>'


def records_text(records: Sequence[RunRecord], total: int) -> str:
    """The plain-text form: a count and the newest few records, nothing that changes between runs."""
    in_flight = sum(r.in_flight for r in records)
    noun = "record" if total == 1 else "records"
    lines = [f"History: {total} {noun}" + (f", {in_flight} in flight" if in_flight else "")]
    for record in records[:5]:
        prompt = record.prompt if len(record.prompt) <= 40 else record.prompt[:39] + "…"
        lines.append(f"  {record.state:<10}  {record.endpoint}  {prompt!r}")
    if total > 5:
        lines.append(f"  … {total - 5} more")
    return "\n".join(lines)
