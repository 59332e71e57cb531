"""The Studio's "Recent history" strip: the newest run records as small tiles (picture, prompt, state, endpoint),
each with "Run again" (named, for screen readers, by its run)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import ipywidgets

from .._internal.theme import message
from ..endpoints import find
from ._a11y import name_by_tooltip
from ._html import close_tree, short_prompt, tile_html
from .gallery import alt_text

if TYPE_CHECKING:
    from ..history import RunRecord

SHOWN = 6
TILE_PX = 112


class RecentRuns(ipywidgets.HBox):
    """The newest ``SHOWN`` records of the run history; ``on_again(record)`` runs one again."""

    def __init__(self, on_again: Callable[[RunRecord], None]) -> None:
        super().__init__(layout=ipywidgets.Layout(flex_flow="row wrap", grid_gap="8px"))
        self._on_again = on_again
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Re-read the newest run records (a broken history folder is said, never raised)."""
        from ..history import history

        try:
            records = list(history(limit=SHOWN))
        except Exception as exc:  # a broken history folder must not break the Studio
            self.children = [ipywidgets.HTML(message("warn", f"history unavailable: {exc}"))]
            return
        rows = [self._item(r) for r in records] or [
            ipywidgets.HTML(message("muted", "No runs yet: they appear here, and can be run again."))
        ]
        with self._lock:
            old, self.children = self.children, rows
        for widget in old:
            close_tree(widget)

    def _item(self, record: RunRecord) -> ipywidgets.Widget:
        try:
            thumb = record.thumbnail(0, TILE_PX)
        except (OSError, ValueError):
            thumb = None
        data, mime = thumb if thumb else (None, "image/png")
        endpoint = record.endpoint.removeprefix("fal-ai/")
        rows = [("", short_prompt(record.prompt, 48)), ("", record.state), ("", endpoint)]  # whole: the image's title
        tile = ipywidgets.HTML(tile_html(data, mime, alt_text(record.prompt), rows, px=TILE_PX))
        known = find(record.endpoint) is not None  # registered, or its fal schema is cached
        again = ipywidgets.Button(
            description="Run again",
            icon="redo",
            disabled=not known,
            tooltip=f"Run again: {short_prompt(record.prompt)} · {endpoint}"
            if known
            else f"{record.endpoint} is not registered and its fal schema is not cached: load it with Other endpoint…",
            layout=ipywidgets.Layout(width="auto"),
        )
        name_by_tooltip(again)
        again.on_click(lambda _b: self._on_again(record))
        return ipywidgets.VBox([tile, again])
