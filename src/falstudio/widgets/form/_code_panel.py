"""The form's "Copy as code" button and the snippet panel it opens under the form."""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as w

from .._clipboard import CopyButton
from .._html import code_block
from . import _code


class CodePanel:
    """``copy`` (for the form's footer) and ``box`` (under the form); ``snippet(style)`` writes the code."""

    def __init__(self, snippet: Callable[[_code.Style], str]) -> None:
        self._snippet = snippet
        self.shown = False
        self.copy = CopyButton(
            description="Copy as code",
            tooltip="Copy a runnable snippet of this request to the clipboard (keys are read from the environment)",
            copied_label="Copied: paste it into a cell or a script",
        )
        self.hide = w.Button(description="Hide code", icon="times", tooltip="Hide the snippet")
        self.style = w.ToggleButtons(
            options=list(_code.STYLES),
            value="falstudio",
            description="Code for",
            style={"button_width": "auto"},
            layout=w.Layout(display="flex", align_items="center"),  # the label beside the buttons, not above
            tooltip="Which client the snippet uses",
            tooltips=["falstudio: fs.Client().subscribe(...)", "fal_client: fal_client.subscribe(...)"],
        )
        self.view = w.HTML()
        self.box = w.VBox(
            [w.HBox([self.style, self.hide], layout=w.Layout(align_items="center")), self.view],
            layout=w.Layout(display="none"),
        )
        self.copy.on_copy(lambda _ok: self.show(True))
        self.hide.on_click(lambda _: self.show(False))
        self.style.observe(lambda _: self.refresh(), "value")

    def show(self, shown: bool = True) -> None:
        """Show (or hide) the snippet."""
        self.shown = shown
        self.refresh()

    def refresh(self) -> None:
        """Write the snippet again: the copy button always holds the current one."""
        code = self._snippet(self.style.value)
        self.copy.text = code
        self.box.layout.display = "flex" if self.shown else "none"
        if self.shown:
            self.view.value = code_block(code)
