"""A place to put image files: a button that opens the file picker, and drag-and-drop or paste (Ctrl/Cmd+V) onto
it or onto the field around it (``static/drop_zone.js``).

Unlike ipywidgets' ``FileUpload`` nothing is kept in widget state: the browser sends the files' bytes in one
message, Python hands them to the callbacks, and they are gone from the comm.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence
from typing import Any

import anywidget
import traitlets

_STATIC = pathlib.Path(__file__).parent / "static"
MAX_BYTES = 10 * 1024 * 1024  # a Jupyter server takes websocket messages up to about 10 MB: said, not lost

Files = list[tuple[str, bytes]]


class DropZone(anywidget.AnyWidget):
    """``DropZone(label, hint=..., target="fs-image-field")``; ``on_files(fn)`` calls ``fn([(name, bytes), ...])``.

    ``target``: the class of an element around the zone that takes drops and pastes as well (the whole field).
    """

    _esm = _STATIC / "drop_zone.js"
    _css = _STATIC / "drop_zone.css"

    label = traitlets.Unicode("Upload…").tag(sync=True)
    button_tooltip = traitlets.Unicode("").tag(sync=True)  # (not `tooltip`: the view's own title)
    hint = traitlets.Unicode("or drop or paste an image here").tag(sync=True)
    accept = traitlets.Unicode("image/png,image/jpeg,image/webp,image/gif").tag(sync=True)
    multiple = traitlets.Bool(True).tag(sync=True)
    target = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    max_bytes = traitlets.Int(MAX_BYTES).tag(sync=True)

    def __init__(self, label: str = "Upload…", **kwargs: Any) -> None:
        super().__init__(label=label, **kwargs)
        self._callbacks: list[Callable[[Files], None]] = []
        self.on_msg(self._on_message)

    def on_files(self, callback: Callable[[Files], None]) -> None:
        """Call ``callback([(file name, bytes), ...])`` with the files picked, dropped or pasted."""
        self._callbacks.append(callback)

    def receive(self, files: Sequence[tuple[str, bytes]]) -> None:
        """What the browser's message does (tests and Python callers): hand ``files`` to the callbacks."""
        if self.disabled:
            return
        received = [(name, bytes(data)) for name, data in files]
        for callback in list(self._callbacks):
            callback(received)

    def _on_message(self, _widget: object, content: Any, buffers: Sequence[Any]) -> None:
        if not isinstance(content, dict) or content.get("event") != "files":
            return
        names = content.get("names")
        names = [str(n) for n in names] if isinstance(names, list) else []
        names += [f"pasted image {i + 1}" for i in range(len(names), len(buffers))]
        self.receive([(name or "pasted image", bytes(data)) for name, data in zip(names, buffers, strict=False)])
