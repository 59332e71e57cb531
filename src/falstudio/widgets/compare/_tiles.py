"""One variation of the compare grid, kept in Python: its newest job snapshot, its picture and its compact state.

The live grid draws tiles in the browser (``_grid.py``, ``static/compare_grid.js``) from :meth:`CompareTile.state`
(a few hundred bytes) and the thumbnail, sent once as a binary buffer. :meth:`CompareTile.html` is the tile as
static markup (:func:`._layout.tile_markup`), which the reader view and the exports use.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from typing import Any

from ...client import Image
from ...client.errors import FalError
from ...sweep import Job
from .._pool import Latest, fetched_then
from ._layout import alt_text, caption_rows, state_text, tile_markup, value_text

TILE_PX = 208  # the width of the static copy's tiles, and the narrowest a live column gets
# Decoding a full-size PNG for a thumbnail is CPU work. When a whole sweep ends at once, a core is left to the
# client's loop that brings the other results in (bench/compare_sweep.py: with every core decoding, the last
# result arrived ~8 % later), and tiles fill in one after another instead of all crawling to the end together.
_DECODING = threading.BoundedSemaphore(max(1, (os.cpu_count() or 2) - 1))

Picture = tuple[bytes, str]  # (bytes, mime)


class CompareTile:
    """One variation: its state at once, its picture (partial images as they form, then the result's
    thumbnail) made on the widgets' worker pool; updated from the client's loop.

    ``on_change(tile)`` is called whenever :meth:`state` changed, ``on_picture(tile, final)`` once a new
    picture is ready.
    """

    def __init__(
        self,
        job: Job,
        baseline: Job,
        *,
        thumbnail_px: int,
        on_change: Callable[[CompareTile], None],
        on_picture: Callable[[CompareTile, bool], None],
    ) -> None:
        self.index = job.variation.index
        self.job = job
        self.thumbnail: Picture | None = None  # the result's
        self.forming: Picture | None = None  # the newest partial image's, while it runs
        self.favourite = False
        self.problem: str | None = None  # why the result's picture cannot be shown
        self.lock = threading.Lock()  # held while the tile changes (the loop and a worker both update it)
        self._generation = 0  # a reset makes pictures still being made for the old job stale
        self._baseline = baseline.variation
        self._on_change = on_change
        self._on_picture = on_picture
        self._thumbnail_px = thumbnail_px
        self._pictures: Latest[tuple[int, str, Image]] = Latest(self._make_picture)
        self.settled = self._pictures.idle  # set while no picture is being made
        self.update(job)

    @property
    def picture(self) -> Picture | None:
        """What the tile shows: the result's thumbnail, else the newest partial image while it runs."""
        return self.thumbnail or (self.forming if not self.job.done else None)

    def update(self, job: Job) -> None:
        """Show ``job``'s state now; its picture follows from a worker (call with ``lock`` held)."""
        self.job = job
        images = getattr(job.result, "images", None) or []
        if job.state == "done" and images and self.thumbnail is None and self.problem is None:
            self._want(("final", images[0]))
        elif not job.done and job.partial is not None:
            self._want(("partial", job.partial))
        self._on_change(self)

    def reset(self, job: Job) -> None:
        """Start over with ``job`` (a new run of the same variation): no picture, not a favourite."""
        with self.lock:
            self._generation += 1
            self.thumbnail = self.forming = None
            self.favourite, self.problem = False, None
            self.update(job)

    def shown_job(self) -> Job:
        """The job as the tile shows it: failed when its image could not be shown."""
        latest = self.job.latest
        if self.problem is None or latest is None:
            return self.job
        failed = dataclasses.replace(latest, phase="failed", result=None, error=FalError(self.problem))
        return Job(self.job.variation, failed)

    def state(self) -> dict[str, Any]:
        """The compact state the browser draws the tile from (no picture: that travels as a buffer)."""
        job = self.shown_job()
        result = job.result
        latency = None
        if job.done and job.elapsed is not None:
            latency = round(job.elapsed, 2)
        inference = getattr(result, "inference_seconds", None)
        cost = job.variation.cost
        return {
            "i": self.index,
            "v": [value_text(job.variation.params[a]) for a in job.variation.params],
            "s": job.state,
            "st": state_text(job),
            "cap": [list(row) for row in caption_rows(job, self._baseline)],
            "err": job.error or "" if job.state == "failed" else "",
            "fav": self.favourite,
            "pic": 2 if self.thumbnail else 1 if self.picture else 0,
            "alt": alt_text(job.variation),
            "cost": float(cost.amount) if cost.known else None,
            "lat": round(inference, 2) if inference is not None else latency,
        }

    def html(self, px: int = TILE_PX, picture: Picture | None = None) -> str:
        """The tile as static markup (``picture`` replaces the live one, e.g. with a smaller copy)."""
        shown = picture or self.picture
        markup = tile_markup(self.shown_job(), self._baseline, shown, favourite=self.favourite, px=px)
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
                else:
                    return
            self._on_picture(self, kind == "final")
            self._on_change(self)
        except Exception as exc:  # e.g. the image could not be fetched or shown: say so in the tile
            with self.lock:
                if generation != self._generation or kind != "final":
                    return
                self.thumbnail, self.problem = None, f"could not show the image: {exc}"
            self._on_change(self)
