"""``CopyButton``: a button that copies text to the clipboard in the browser and says so (``static/copy_button.js``).

Only text meant to be copied is synced (a snippet that reads keys from the environment, never a key).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

_STATIC = pathlib.Path(__file__).parent / "static"


class CopyButton(anywidget.AnyWidget):
    """``CopyButton(text=..., description="Copy as code")``; ``on_copy(fn)`` calls ``fn(ok)`` after each copy."""

    _esm = _STATIC / "copy_button.js"
    _css = _STATIC / "a11y.css"

    text = traitlets.Unicode("").tag(sync=True)
    description = traitlets.Unicode("Copy").tag(sync=True)
    tooltip = traitlets.Unicode("").tag(sync=True)
    copied_label = traitlets.Unicode("Copied").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._handlers: list[Callable[[bool], None]] = []
        self.copies = 0  # how many times the browser copied (tests and the Studio read it)
        self.on_msg(self._on_message)

    def on_copy(self, callback: Callable[[bool], None]) -> None:
        self._handlers.append(callback)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "copied":
            ok = bool(content.get("ok"))
            self.copies += ok
            for callback in self._handlers:
                callback(ok)
