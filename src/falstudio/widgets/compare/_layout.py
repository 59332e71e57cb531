"""Where each variation goes in the compare grid, and what its tile says: shared by the live grid and exports.

Rows come from the first axis, columns from the second; a third or later axis multiplies the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..._internal.theme import message
from ...endpoints import CostEstimate
from ...sweep import Job, Sweep, Variation, describe
from .._html import tile_html

BASELINE = "baseline"
_PLACEHOLDER = {
    "failed": "No image: the request failed",
    "cancelled": "Cancelled",
    "done": "No image returned",
    "pending": "Waiting to start",
}


@dataclass(frozen=True)
class GridLayout:
    """``cells[r][c]`` is the index of the variation shown in row ``r``, column ``c``."""

    row_axes: tuple[str, ...]
    col_axis: str | None
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    cells: tuple[tuple[int, ...], ...]


def grid_layout(variations: Sweep) -> GridLayout:
    axes = list(variations.axes)
    if len(axes) <= 1:  # one row: the single axis (or the lone base request) across
        col = axes[0] if axes else None
        labels = tuple(_header(col, v) for v in variations.axes[col]) if col else ("",)
        return GridLayout((), col, ("",), labels, (tuple(v.index for v in variations),))
    col = axes[1]
    row_axes = (axes[0], *axes[2:])
    col_values = variations.axes[col]
    rows: dict[tuple[int, ...], list[int]] = {}
    for v in variations:
        key = tuple(variations.axes[a].index(v.params[a]) for a in row_axes)
        rows.setdefault(key, [0] * len(col_values))[col_values.index(v.params[col])] = v.index
    ordered = sorted(rows)
    row_labels = tuple(
        " · ".join(_header(a, variations.axes[a][i]) for a, i in zip(row_axes, key, strict=True)) for key in ordered
    )
    return GridLayout(
        row_axes,
        col,
        row_labels,
        tuple(_header(col, v) for v in col_values),
        tuple(tuple(rows[key]) for key in ordered),
    )


def _header(axis: str | None, value: object) -> str:
    return f"{axis}: {value_text(value)}" if axis else ""


def value_text(value: object, width: int = 40) -> str:
    """An axis value in words: a size object as ``1536x1024``, anything else as :func:`describe` says it."""
    if isinstance(value, Mapping) and set(value) == {"width", "height"}:
        return f"{value['width']}x{value['height']}"
    dump = getattr(value, "model_dump", None)
    if callable(dump) and {"width", "height"} <= set(getattr(value, "model_fields", {})):
        return value_text(dump(), width)
    return describe(value, width)


def differs_text(variation: Variation, baseline: Variation) -> str:
    """What this variation changes against the baseline, e.g. ``quality: high · image_size: 1536x1024``."""
    changed = variation.differences(baseline)
    return " · ".join(f"{k}: {value_text(v)}" for k, v in changed.items()) or BASELINE


def latency_text(job: Job) -> str:
    result = job.result
    queue, inference = getattr(result, "queue_seconds", None), getattr(result, "inference_seconds", None)
    if queue is None and inference is None:
        return f"{job.elapsed:.1f}\u00a0s in all" if job.done and job.elapsed is not None else ""
    parts = [
        f"queue {queue:.1f}\u00a0s" if queue is not None else "",
        f"inference {inference:.1f}\u00a0s" if inference is not None else "",
    ]
    return " · ".join(p for p in parts if p)


def cost_text(job: Job) -> str:
    cost = job.variation.cost
    if job.state in ("failed", "cancelled"):
        return f"not billed ({job.state}; estimate was {cost})" if cost.known else f"not billed ({job.state})"
    return str(cost) if job.state == "done" or not cost.known else f"{cost} estimated"


def total_text(cost: CostEstimate) -> str:
    """A sweep's total in words: never a guess when some prices are unknown."""
    if cost.known:
        return f"estimated {cost} in all"
    if not cost.priced:
        return f"{cost} (falstudio has no price table for these endpoints)"
    return f"estimated {cost}: the total is unknown"


def state_text(job: Job) -> str:
    if job.state == "queued" and job.queue_position is not None:
        return f"queued (position {job.queue_position + 1})"
    if job.state == "failed":  # the reason itself follows the caption (see tile_markup)
        return f"failed ({job.error_type})" if job.error_type else "failed"
    if job.state == "done":
        count = len(getattr(job.result, "images", None) or ())
        return "done" if count == 1 else f"done, {count} images" if count else "done, no image returned"
    if job.state == "running" and job.partials:
        return f"forming… (partial image {job.partials})"
    return {"pending": "waiting to start", "submitting": "submitting…", "running": "running…"}.get(job.state, job.state)


def caption_rows(job: Job, baseline: Variation, *, full_id: bool = False) -> list[tuple[str, str]]:
    """Plain-text ``(label, value)`` rows of a tile."""
    rows = [("Differs", differs_text(job.variation, baseline))]
    differs = job.variation.differences(baseline)
    translated = {k: v for k, v in job.variation.translated().items() if k not in differs}
    if translated:  # an axis value this endpoint takes in another form, e.g. a size sent as {width, height}
        rows.append(("Sent", " · ".join(f"{k}: {_sent_text(v)}" for k, v in translated.items())))
    rows.append(("State", state_text(job)))
    latency = latency_text(job)
    if latency:
        rows.append(("Latency", latency))
    rows.append(("Cost", cost_text(job)))
    if job.request_id:
        rows.append(("Request", job.request_id if full_id else short_id(job.request_id)))
    return rows


def _sent_text(value: object) -> str:
    text = value_text(value, 60)
    return f"{text} as {{{', '.join(value)}}}" if isinstance(value, Mapping) else text


def short_id(request_id: str) -> str:
    return request_id if len(request_id) <= 13 else request_id[:8] + "…"


def alt_text(variation: Variation) -> str:
    prompt = " ".join(str(getattr(variation.request, "prompt", "")).split()) or "generated image"
    prompt = prompt if len(prompt) <= 160 else prompt[:159] + "…"
    return f"{prompt} ({variation.label()})" if variation.params else prompt


def states_text(jobs: Iterable[Job]) -> str:
    """``3 done, 1 failed``, ``2 done, 4 waiting``; ``not run`` while every job is pending."""
    counts: dict[str, int] = {}
    for job in jobs:
        state = "waiting" if job.state == "pending" else job.state
        counts[state] = counts.get(state, 0) + 1
    return "not run" if set(counts) <= {"waiting"} else ", ".join(f"{n} {s}" for s, n in counts.items())


def axis_title(variations: Sweep) -> str:
    return " × ".join(variations.axes) or "one request"


def tile_markup(
    job: Job,
    baseline: Variation,
    thumbnail: tuple[bytes, str] | None,
    *,
    favourite: bool,
    px: int,
    full_id: bool = False,
    fluid: bool = False,
) -> str:
    """One variation's tile as static HTML: the live grid, the notebook fallback and the export all use it."""
    title = f"#{job.variation.index}" + (" ★ favourite" if favourite else "")
    rows = caption_rows(job, baseline, full_id=full_id)
    if thumbnail is None:
        if job.state == "done" and getattr(job.result, "images", None):
            text = "Loading the image…"  # the result is in; its thumbnail is being made
        elif job.state in ("submitting", "queued", "running"):
            text = "…"
        else:
            text = _PLACEHOLDER.get(job.state, job.state)
        html = tile_html(None, "", text, rows, title=title, px=px, fluid=fluid)
    else:
        alt = alt_text(job.variation) + ("" if job.done else " (forming)")
        html = tile_html(thumbnail[0], thumbnail[1], alt, rows, title=title, px=px, fluid=fluid)
    if job.state == "failed":  # the reason in words, not only a colour
        html += message("error", job.error or "no reason given")
    width = "100%" if fluid else f"{px}px"
    return f'<div style="width:{width};overflow-wrap:anywhere">{html}</div>'
