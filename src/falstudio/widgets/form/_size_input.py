"""``SizeInput``: a size picker for fields that take presets, ``auto`` or a custom ``{width, height}`` (GPT Image 2).

A dropdown of the presets, ``auto`` and "custom"; for custom, a width and a height box that report every
keystroke, the size rules, and a button that puts in the nearest valid size. ``value`` is the preset name,
``"auto"``, or ``{"width": W, "height": H}`` as typed (the form's model judges it and shows its error below).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w
import traitlets

from ..._internal.theme import esc, message
from ...endpoints.sizes import PRESET_PIXELS, PRESETS_UNVERIFIED, SizeRules, custom_dimensions

CUSTOM = "custom"
_DEFAULT_CUSTOM = (1024, 1024)


def option_label(value: str) -> str:
    """``landscape_4_3 (~1024×768)``: a preset with fal's usual pixels; anything else as it is."""
    size = PRESET_PIXELS.get(value)
    return f"{value} (~{size[0]}×{size[1]})" if size else value


class SizeInput(w.VBox):
    """Preset / auto / custom width and height, with the rules shown and the nearest valid size one click away."""

    value = traitlets.Any(None, help="a preset name, 'auto', or {'width': W, 'height': H} (not synced)")

    def __init__(
        self,
        label: str,
        description: str,
        options: tuple[str, ...],
        rules: SizeRules | None,
        style: dict[str, str],
        *,
        unit: str = "px",
    ) -> None:
        self.options = options
        self.rules = rules
        self._quiet = False
        self.choice = w.Dropdown(
            options=[(option_label(v), v) for v in options] + [("custom width × height", CUSTOM)],
            value=options[0] if options else CUSTOM,
            description=label,
            tooltip=description or label,
            style=style,
            layout=w.Layout(width="100%", max_width="32em"),
        )
        box = {"layout": w.Layout(width="11em"), "style": {"description_width": "3.5em"}, "continuous_update": True}
        self.width = w.IntText(value=_DEFAULT_CUSTOM[0], description="width", tooltip="Width in pixels", **box)
        self.height = w.IntText(value=_DEFAULT_CUSTOM[1], description="height", tooltip="Height in pixels", **box)
        self.nearest_button = w.Button(description="", layout=w.Layout(width="auto", display="none"))
        self.custom_row = w.HBox(
            [self.width, w.HTML("×"), self.height, w.HTML(esc(unit)), self.nearest_button],
            layout=w.Layout(align_items="center", margin=f"0 0 0 {style.get('description_width', '0')}"),
        )
        self.hint = w.HTML(layout=w.Layout(margin=f"0 0 0 {style.get('description_width', '0')}"))
        super().__init__([self.choice, self.custom_row, self.hint])
        self.choice.observe(lambda _: self._from_widgets(), "value")
        self.width.observe(lambda _: self._from_widgets(), "value")
        self.height.observe(lambda _: self._from_widgets(), "value")
        self.nearest_button.on_click(lambda _: self._use_nearest())
        self._from_widgets()

    @property
    def disabled(self) -> bool:
        return bool(self.choice.disabled)

    @disabled.setter
    def disabled(self, value: bool) -> None:
        for widget in (self.choice, self.width, self.height, self.nearest_button):
            widget.disabled = value

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` can be shown: one of the options, or a size with a positive width and height."""
        if isinstance(value, str) and value in self.options:
            return True
        size = custom_dimensions(value)
        return size is not None and min(size) > 0

    @traitlets.observe("value")
    def _to_widgets(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        value = change["new"]
        self._quiet = True
        try:
            if isinstance(value, str) and value in self.options:
                self.choice.value = value
            elif (size := custom_dimensions(value)) is not None:
                self.width.value, self.height.value = size
                self.choice.value = CUSTOM
        finally:
            self._quiet = False
        self._from_widgets()

    def _from_widgets(self) -> None:
        custom = self.choice.value == CUSTOM
        self.custom_row.layout.display = "flex" if custom else "none"
        value: Any = {"width": self.width.value, "height": self.height.value} if custom else self.choice.value
        self._show_hint(value)
        if not self._quiet:
            self._quiet = True
            try:
                self.value = value
            finally:
                self._quiet = False

    def _show_hint(self, value: Any) -> None:
        nearest = None
        if isinstance(value, dict) and self.rules is not None:
            w_, h_ = value["width"], value["height"]
            text = f"Custom sizes need {self.rules.describe()}."
            if self.rules.problems(w_, h_):
                nearest = self.rules.nearest(w_, h_)
        elif isinstance(value, str) and value in PRESET_PIXELS:
            pw, ph = PRESET_PIXELS[value]
            text = f"A preset: fal picks its pixels, usually {pw}×{ph} ({PRESETS_UNVERIFIED})."
        elif value == "auto":
            text = "auto: the model picks the size."
        else:
            text = ""
        self.hint.value = message("muted", text) if text else ""
        self.nearest_button.layout.display = "none" if nearest is None else "inline-flex"
        if nearest is not None:
            self.nearest_button.description = f"use {nearest[0]}×{nearest[1]}"
            self.nearest_button.tooltip = f"The valid size closest to {value['width']}×{value['height']}"

    def _use_nearest(self) -> None:
        if self.rules is None:
            return
        nearest = self.rules.nearest(self.width.value, self.height.value)
        self._quiet = True
        try:
            self.width.value, self.height.value = nearest
        finally:
            self._quiet = False
        self._from_widgets()
