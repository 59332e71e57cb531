"""The live grid of Compare: one tile per variation (image, what differs, state, latency, cost, id, star).

A tile's picture and caption are the shared static tile markup (:func:`._compare_layout.tile_markup`, on
:func:`._html.tile_html`) in an HTML widget: the live grid, the static fallback and the export look alike.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

import ipywidgets

from ..._internal.theme import COLOR, FONT_SMALL, esc, style
from ...sweep import Job, Sweep
from ._layout import grid_layout, tile_markup

TILE_PX = 208
# Decoding a full-size PNG for a thumbnail is CPU work. When a whole sweep ends at once, a core is left to the
# client's loop that brings the other results in (bench/compare_sweep.py: with every core decoding, the last
# result arrived ~8 % later), and tiles fill in one after another instead of all crawling to the end together.
_DECODING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
_STAR = {False: "☆ Favourite", True: "★ Favourite"}


class CompareTile(ipywidgets.VBox):  # type: ignore[misc]
    """One variation; its thumbnail is made (image fetched and shrunk) when its job is first done."""

    def __init__(
        self,
        job: Job,
        baseline: Job,
        *,
        thumbnail_px: int,
        on_star: Callable[[int, bool], None],
        on_enlarge: Callable[[int], None],
    ) -> None:
        self.index = job.variation.index
        self.job = job
        self.thumbnail: tuple[bytes, str] | None = None
        self.lock = threading.Lock()  # held by whoever updates the tile from a run's thread
        self._baseline = baseline.variation
        self._thumbnail_px = thumbnail_px
        self._view = ipywidgets.HTML()
        self.enlarge = ipywidgets.Button(
            description="Enlarge",
            disabled=True,
            tooltip=f"Show variation #{self.index} at full size below the grid",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.star = ipywidgets.ToggleButton(
            value=False,
            description=_STAR[False],
            tooltip=f"Mark variation #{self.index} as a favourite",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.enlarge.on_click(lambda _b: on_enlarge(self.index))
        self.star.observe(lambda change: self._starred(bool(change["new"]), on_star), "value")
        buttons = ipywidgets.HBox([self.enlarge, self.star], layout=ipywidgets.Layout(flex_flow="row wrap"))
        super().__init__([self._view, buttons], layout=ipywidgets.Layout(width=f"{TILE_PX}px"))
        self.add_class("fs-compare-tile")
        self.update(job)

    def update(self, job: Job) -> None:
        """Show ``job``'s state (called from the run's threads)."""
        self.job = job
        images = getattr(job.result, "images", None) or []
        if job.state == "done" and images and self.thumbnail is None:
            self._view.value = self.html()  # the caption (latency, cost, id) at once; the picture follows
            images[0].bytes()  # the download first, outside the decoding slots
            with _DECODING:
                data, mime = images[0].thumbnail(self._thumbnail_px)
            self.thumbnail = (bytes(data), mime)
        self._view.value = self.html()
        self.enlarge.disabled = self.thumbnail is None

    def reset(self, job: Job) -> None:
        """Start over with ``job`` (a new run of the same variation): no picture, not a favourite."""
        with self.lock:
            self.thumbnail = None
            self.star.value = False
            self.update(job)

    def html(self, px: int = TILE_PX - 10, thumbnail: tuple[bytes, str] | None = None) -> str:
        """The tile as static markup (``thumbnail`` replaces the live one, e.g. with a smaller copy).

        The box is a little narrower than the column so that its border is not clipped, and the line
        height is set because the HTML widget's own (one control tall) would space the caption rows apart.
        """
        markup = tile_markup(self.job, self._baseline, thumbnail or self.thumbnail, favourite=self.star.value, px=px)
        return f'<div style="line-height:1.4">{markup}</div>'

    def _starred(self, on: bool, on_star: Callable[[int, bool], None]) -> None:
        self.star.description = _STAR[on]
        on_star(self.index, on)
        self._view.value = self.html()


def grid_box(variations: Sweep, tiles: list[CompareTile]) -> ipywidgets.GridBox:
    """The tiles under column headers and beside row headers taken from the axes."""
    layout = grid_layout(variations)
    header = style(font_weight="600", color=COLOR["fg"], font_size=FONT_SMALL, padding="2px 0")

    def cell(text: str) -> ipywidgets.HTML:
        return ipywidgets.HTML(f'<div style="{header};line-height:1.4">{esc(text)}</div>')

    children: list[ipywidgets.Widget] = []
    if layout.col_axis:
        children += ([cell("")] if layout.row_axes else []) + [cell(c) for c in layout.col_labels]
    for label, row in zip(layout.row_labels, layout.cells, strict=True):
        children += ([cell(label)] if layout.row_axes else []) + [tiles[i] for i in row]
    columns = f"repeat({len(layout.col_labels)}, {TILE_PX}px)"
    grid = ipywidgets.GridBox(
        children,
        layout=ipywidgets.Layout(
            grid_template_columns=f"minmax(6em, max-content) {columns}" if layout.row_axes else columns,
            grid_gap="10px 14px",
            align_items="flex-start",
            overflow="auto",
        ),
    )
    grid.add_class("fs-compare-grid")
    return grid
