"""The live grid of Compare: one tile per variation (image, what differs, state, latency, cost, id, star).

A tile's picture and caption are the shared static tile markup (:func:`._compare_layout.tile_markup`, on
:func:`._html.tile_html`) in an HTML widget: the live grid, the static fallback and the export look alike.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable

import ipywidgets

from ..._internal.theme import COLOR, FONT_SMALL, esc, style
from ...client import Image
from ...sweep import Job, Sweep
from .._pool import Latest, fetched_then
from ._layout import grid_layout, tile_markup

TILE_PX = 208  # the narrowest a column gets (and the width of the static copy's tiles)
TILE_MAX_PX = 384  # the widest: columns share the output's width up to this
# Decoding a full-size PNG for a thumbnail is CPU work. When a whole sweep ends at once, a core is left to the
# client's loop that brings the other results in (bench/compare_sweep.py: with every core decoding, the last
# result arrived ~8 % later), and tiles fill in one after another instead of all crawling to the end together.
_DECODING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))
_STAR = {False: "☆ Favourite", True: "★ Favourite"}


class CompareTile(ipywidgets.VBox):
    """One variation: its state and caption at once, its picture (partial images as they form, then the
    result's thumbnail) made on the widgets' worker pool; updated from the client's loop."""

    def __init__(
        self,
        job: Job,
        baseline: Job,
        *,
        thumbnail_px: int,
        on_star: Callable[[int, bool], None],
        on_enlarge: Callable[[int], None],
        on_picture: Callable[[], None] | None = None,
    ) -> None:
        self.index = job.variation.index
        self.job = job
        self.thumbnail: tuple[bytes, str] | None = None  # the result's
        self.forming: tuple[bytes, str] | None = None  # the newest partial image's, while it runs
        self.lock = threading.Lock()  # held while the tile changes (the loop and a worker both update it)
        self._generation = 0  # a reset makes pictures still being made for the old job stale
        self._baseline = baseline.variation
        self._on_picture = on_picture  # called once a result's picture is shown (the reader view follows)
        self._thumbnail_px = thumbnail_px
        self._pictures: Latest[tuple[int, str, Image]] = Latest(self._make_picture)
        self.settled = self._pictures.idle  # set while no picture is being made
        self._view = ipywidgets.HTML()
        self.enlarge = ipywidgets.Button(
            description="Enlarge",
            disabled=True,
            tooltip=f"Show variation #{self.index} at full size, over the grid",
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
        super().__init__([self._view, buttons], layout=ipywidgets.Layout(width="100%", min_width="0"))
        self.add_class("fs-compare-tile")
        self.update(job)

    def update(self, job: Job) -> None:
        """Show ``job``'s state now; its picture follows from a worker (call with ``lock`` held)."""
        self.job = job
        images = getattr(job.result, "images", None) or []
        if job.state == "done" and images and self.thumbnail is None:
            self._want(("final", images[0]))
        elif not job.done and job.partial is not None:
            self._want(("partial", job.partial))
        self._view.value = self.html(fluid=True)
        self.enlarge.disabled = self.thumbnail is None

    def reset(self, job: Job) -> None:
        """Start over with ``job`` (a new run of the same variation): no picture, not a favourite."""
        with self.lock:
            self._generation += 1
            self.thumbnail = self.forming = None
            self.star.value = False
            self.update(job)

    def html(self, px: int = TILE_PX - 10, thumbnail: tuple[bytes, str] | None = None, *, fluid: bool = False) -> str:
        """The tile as static markup (``thumbnail`` replaces the live one, e.g. with a smaller copy); ``fluid``:
        as wide as its column (the live grid).

        The box is a little narrower than the column so that its border is not clipped, and the line
        height is set because the HTML widget's own (one control tall) would space the caption rows apart.
        """
        picture = thumbnail or self.thumbnail or (self.forming if not self.job.done else None)
        markup = tile_markup(self.job, self._baseline, picture, favourite=self.star.value, px=px, fluid=fluid)
        return f'<div style="line-height:1.4">{markup}</div>'

    def _want(self, picture: tuple[str, Image]) -> None:
        item = (self._generation, *picture)
        if picture[0] == "final":  # its download starts at once; the decode waits for a worker
            self._pictures.idle.clear()
            fetched_then(picture[1], lambda: self._pictures.push(item))
        else:
            self._pictures.push(item)

    def _make_picture(self, item: tuple[int, str, Image]) -> None:
        generation, kind, image = item
        try:
            with _DECODING:
                data, mime = image.thumbnail(self._thumbnail_px)
            with self.lock:
                if generation != self._generation:
                    return
                if kind == "final":
                    self.thumbnail = (bytes(data), mime)
                elif self.thumbnail is None and not self.job.done:
                    self.forming = (bytes(data), mime)
                self._view.value = self.html(fluid=True)
                self.enlarge.disabled = self.thumbnail is None
            if kind == "final" and self._on_picture is not None:
                self._on_picture()
        except Exception as exc:  # e.g. the image could not be fetched or shown: say so in the tile
            with self.lock:
                if generation == self._generation and kind == "final":
                    self.thumbnail = None
                    shown = self.job
                    self.job = dataclasses.replace(
                        shown, state="failed", result=None, error=f"could not show the image: {exc}"
                    )
                    self._view.value = self.html(fluid=True)
                    self.job = shown

    def _starred(self, on: bool, on_star: Callable[[int, bool], None]) -> None:
        self.star.description = _STAR[on]
        on_star(self.index, on)
        self._view.value = self.html(fluid=True)


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
    columns = f"repeat({len(layout.col_labels)}, minmax({TILE_PX}px, {TILE_MAX_PX}px))"
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
