"""Compare outside the live widget: an HTML page, a labelled PNG, a folder of full images, the static copy, repr."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..._internal.theme import message
from .._html import card
from . import _export, _files
from ._layout import axis_title, states_text

if TYPE_CHECKING:
    from ...client import ClientLike
    from ...sweep import Job, Sweep, SweepRun
    from .._reader_view import StaticThumbnails
    from ._tiles import CompareTile

STATIC_PX = 128  # the static copy's thumbnails


class _Shown(Protocol):
    """What the exports read of a :class:`~falstudio.widgets.compare.Compare`."""

    client: ClientLike | None
    favourites: set[int]
    _sweep: Sweep | None
    _run: SweepRun | None
    _problem: str | None
    _tiles: list[CompareTile]
    _static_thumbnails: StaticThumbnails

    @property
    def jobs(self) -> tuple[Job, ...]: ...
    def _shown_sweep(self) -> Sweep: ...
    def _mode(self) -> str | None: ...


class CompareExports:
    """Compare's exports and text forms: each shows what the grid shows (the last run, else the form's variations)."""

    def export_html(self: _Shown, path: str | os.PathLike[str], *, title: str = "falstudio comparison") -> Path:
        """Write the grid, every tile's parameters and the full parameter table to one HTML file."""
        thumbnails = {t.index: t.thumbnail for t in self._tiles}
        return _export.export_html(
            path,
            self._shown_sweep(),
            self.jobs,
            favourites=self.favourites,
            thumbnails=thumbnails,
            mode=self._mode(),
            title=title,
        )

    def export_png(
        self: _Shown, path: str | os.PathLike[str], *, title: str = "falstudio comparison", tile_px: int = 320
    ) -> Path:
        """Write the grid as one labelled PNG picture: axis values as row and column headers, each tile's cost
        and request id in small print, favourites starred. Images are drawn from the full-size outputs."""
        return _files.export_png(
            path,
            self._shown_sweep(),
            self.jobs,
            favourites=self.favourites,
            mode=self._mode(),
            title=title,
            tile_px=tile_px,
        )

    def export_folder(self: _Shown, path: str | os.PathLike[str]) -> Path:
        """Write every variation's full images (each saying how it was made) and ``manifest.json`` /
        ``manifest.csv`` of the parameters (secrets redacted) into the folder ``path``; returns the folder."""
        return _files.export_folder(path, self._shown_sweep(), self.jobs, favourites=self.favourites, mode=self._mode())

    def __repr__(self: _Shown) -> str:
        if self._sweep is None and self._run is None:
            return f"Compare(invalid: {self._problem})"
        variations = self._shown_sweep()
        n = len(variations)
        return (
            f"Compare({n} variation{'s' * (n != 1)}: {axis_title(variations)}; "
            f"{'estimated ' if variations.cost.known else ''}{variations.cost}; "
            f"{states_text(self.jobs)})"
        )

    def _static_html(self: _Shown) -> str:
        if self._sweep is None and self._run is None:
            return card("<b>Compare variations</b>", message("error", self._problem or "no variations"))
        thumbnails = {t.index: self._static_thumbnails.get(t.index, t.thumbnail[0]) for t in self._tiles if t.thumbnail}
        jobs = [t.shown_job() for t in self._tiles] if len(self._tiles) == len(self.jobs) else list(self.jobs)
        return _export.static_card(self._shown_sweep(), jobs, thumbnails, self.favourites, px=STATIC_PX)

    def _mode(self: _Shown) -> str | None:
        return self.client.mode if self.client is not None else None
