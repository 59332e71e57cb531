"""The live compare grid: one anywidget view (``static/compare_grid.js``) drawn from a compact model.

The model holds the axes and each tile's state (:meth:`CompareTile.state`, a few hundred bytes); thumbnails
travel once each, as binary buffers of a custom message, never in the widget state. During a run changed tiles
go as small coalesced messages and the ``tiles`` state is set again at milestones (a new grid, the run's end, a
favourite), so the bytes sent grow with the tiles, not with their square. How the grid is shown (compact, columns,
filters, sort, which axes make the columns and rows) is state too, so Python and the browser agree.
"""

from __future__ import annotations

import pathlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

import anywidget
import traitlets

from ...sweep import Sweep
from .._pool import Latest
from ._layout import value_text
from ._tiles import CompareTile

_STATIC = pathlib.Path(__file__).parent.parent / "static"
COMPACT_ABOVE = 16  # larger grids start compact: thumbnails only, details on hover and focus
SORTS = ("grid", "index", "cost", "latency", "state", "favourites")
SHOWS = ("all", "favourites", "failed", "done")


class CompareGrid(anywidget.AnyWidget):
    """The tiles of one sweep; ``on_favourite(index, on)`` and ``on_enlarge(index)`` answer the browser."""

    _esm = _STATIC / "compare_grid.js"
    _css = _STATIC / "compare_grid.css"

    axes = traitlets.List(traitlets.Dict()).tag(sync=True)  # [{"name": ..., "values": [text, ...]}]
    tiles = traitlets.List(traitlets.Dict()).tag(sync=True)
    x_axis = traitlets.Unicode("").tag(sync=True)  # the columns in the "grid" layout
    y_axis = traitlets.Unicode("").tag(sync=True)  # the rows; the other axes are pages
    compact = traitlets.Bool(False).tag(sync=True)
    columns = traitlets.Int(0).tag(sync=True)  # 0: as many as fit the width
    show = traitlets.Unicode("all").tag(sync=True)
    only = traitlets.Dict().tag(sync=True)  # axis -> value text: only those tiles
    sort = traitlets.Unicode("grid").tag(sync=True)
    tile_px = traitlets.Int(208).tag(sync=True)

    def __init__(self, on_favourite: Callable[[int, bool], None], on_enlarge: Callable[[int], None]) -> None:
        super().__init__()
        self._on_favourite = on_favourite
        self._on_enlarge = on_enlarge
        self._lock = threading.Lock()
        self._cells: list[CompareTile] = []
        self._dirty: set[int] = set()
        self._sends: Latest[None] = Latest(lambda _none: self._send_changes())
        self.sent = self._sends.idle  # set while no change waits to be sent
        self.error: str = ""  # the last message from the browser that could not be answered
        self.on_msg(self._message)

    def show_tiles(self, variations: Sweep, tiles: Sequence[CompareTile]) -> None:
        """Show ``tiles`` (the variations of ``variations``) in place of what the grid showed."""
        names = list(variations.axes)
        axes = [{"name": a, "values": [value_text(v) for v in variations.axes[a]]} for a in names]
        with self._lock:
            self._cells = list(tiles)
            self._dirty.clear()
        with self.hold_sync():
            if axes != self.axes:
                self.axes = axes
                self.y_axis = names[0] if len(names) > 1 else ""
                self.x_axis = names[1] if len(names) > 1 else names[0] if names else ""
                self.only = {}
                self.compact = len(tiles) > COMPACT_ABOVE
            self.tiles = [t.state() for t in tiles]

    def changed(self, tile: CompareTile) -> None:
        """``tile``'s state changed (any thread): sent soon, with the other changes of that moment."""
        with self._lock:
            if tile.index >= len(self._cells) or self._cells[tile.index] is not tile:
                return
            self._dirty.add(tile.index)
        self._sends.push(None)

    def sync(self) -> None:
        """Set the whole ``tiles`` state (what a saved or newly opened view starts from)."""
        with self._lock:
            cells = list(self._cells)
        self.tiles = [t.state() for t in cells]

    def picture(self, tile: CompareTile, final: bool) -> None:
        """Send ``tile``'s new picture to the browser, once, as a binary buffer."""
        picture = tile.picture
        if picture is not None:
            self.send({"event": "pictures", "items": [{"i": tile.index, "mime": picture[1]}]}, [picture[0]])

    def _send_changes(self) -> None:
        with self._lock:
            dirty, self._dirty = sorted(self._dirty), set()
            cells = self._cells
        states = [cells[i].state() for i in dirty if i < len(cells)]
        if states:
            self.send({"event": "tiles", "tiles": states})

    def _send_all_pictures(self) -> None:
        """Every picture made, in one message; sent even when there is none: the view waits for an answer
        (one that gets none has no kernel behind it and shows the reader view instead)."""
        with self._lock:
            cells = list(self._cells)
        shown = [(t.index, t.picture) for t in cells]
        items = [{"i": i, "mime": p[1]} for i, p in shown if p is not None]
        self.send({"event": "pictures", "items": items}, [p[0] for _i, p in shown if p is not None])

    def _message(self, _widget: object, content: Any, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        event, index = content.get("event"), content.get("i")
        try:
            if event == "hello":  # a view was just drawn: it has the state, not the pictures
                self._send_all_pictures()
            elif event == "favourite" and isinstance(index, int):
                self._on_favourite(index, bool(content.get("on")))
            elif event == "enlarge" and isinstance(index, int):
                self._on_enlarge(index)
        except Exception as exc:  # a comm handler's traceback is never seen: the grid says it
            self.error = f"{type(exc).__name__}: {exc}"
            self.send({"event": "error", "text": self.error})
