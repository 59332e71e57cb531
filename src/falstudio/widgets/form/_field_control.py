"""A field's control as every kind has it: the input, an optional "set" checkbox, its help mark and error line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import ipywidgets as w

from ..._internal.theme import COLOR, FONT_SMALL, esc, message, style
from ...endpoints.fields import Field
from .._a11y import name_by_tooltip

LABEL = {"description_width": "10em"}
FIELD_WIDTH = "34em"  # a field with help: its "?" sits at this width, the same for every field
_UNSET_WHEN_EMPTY = ("image", "images", "secret")  # no "set" checkbox: empty already means unset
_OWN_HELP = ("image", "images", "secret")  # editors that show their description themselves


def help_html(label: str, description: str) -> str:
    """A small "?" that shows ``description`` on hover and on keyboard focus (a toggletip drawn by a11y.css;
    Escape hides it), and gives it to screen readers as the mark's description."""
    css = style(
        display="inline-block",
        width="1.3em",
        height="1.3em",
        line_height="1.3em",
        text_align="center",
        border_radius="50%",
        border=f"1px solid {COLOR['muted']}",
        color=COLOR["muted"],
        font_size=FONT_SMALL,
        cursor="help",
        margin="0 0 0 6px",
    )
    text = esc(description)
    tip = '<span class="fs-help-text" role="tooltip" style="display:none">' + text + "</span>"
    return (
        f'<span class="fs-help" tabindex="0" role="button" aria-label="Help for {esc(label)}" '
        f'aria-description="{text}" style="{css};position:relative"><span aria-hidden="true">?</span>{tip}</span>'
    )


def _nothing() -> None:
    pass


class FieldControl:
    """Base: subclasses (one per kind, in ``_controls``) build ``input`` and convert between it and Python values."""

    watch: ClassVar[str] = "value"  # the trait of ``input`` that changes with the field

    def __init__(self, spec: Field, on_change: Callable[[], None], *, offline: bool = False) -> None:
        self.spec = spec
        self.offline = offline  # requests go to the embedded offline server (no network)
        self._on_change: Callable[[], None] = _nothing  # quiet while the control sets itself up
        self.input = self._build()
        self.error = w.HTML()
        self.use: w.Checkbox | None = None
        parts: list[w.Widget] = [self.input]
        if spec.nullable and spec.kind not in _UNSET_WHEN_EMPTY:
            self.use = w.Checkbox(
                value=spec.default is not None,
                description="set",
                indent=False,
                layout=w.Layout(width="4.5em"),
                tooltip=f"Send {spec.label}; leave unchecked to leave it unset",
            )
            name_by_tooltip(self.use)
            self.use.observe(self._on_use, "value")
            self.input.disabled = not self.use.value
            parts.insert(0, self.use)
        self.unit: w.HTML | None = None
        if spec.unit and spec.kind != "size":  # a size shows its unit by its custom width and height
            self.unit = w.HTML(layout=w.Layout(margin="0 0 0 4px"))
            parts.append(self.unit)
        row: w.Widget = parts[0] if len(parts) == 1 else w.HBox(parts, layout=w.Layout(align_items="center"))
        if spec.description and spec.kind not in _OWN_HELP:  # the help marks line up in one column
            row.layout.flex, row.layout.min_width = f"0 1 {FIELD_WIDTH}", "0"
            if row is self.input:
                row.layout.width = FIELD_WIDTH
            mark = w.HTML(help_html(spec.label, spec.description), layout=w.Layout(flex="0 0 auto"))
            row = w.HBox([row, mark], layout=w.Layout(align_items="center"))
        self.box = w.VBox([row, *self._extras(), self.error], layout=w.Layout(margin="0 0 2px 0"))
        self.reset()
        self._show_unit()
        self.input.observe(lambda _: self._changed(), self.watch)
        if self.use is not None:
            self.use.observe(lambda _: self._changed(), "value")
        self._on_change = on_change

    # -- what subclasses provide
    def _build(self) -> w.Widget:
        raise NotImplementedError

    def _read(self) -> Any:
        return self.input.value

    def _write(self, value: Any) -> None:
        self.input.value = value

    def _coerce(self, value: Any) -> Any:
        """The value in the form ``_write`` takes; ValueError naming the field when it cannot be shown."""
        return value

    def _blank(self) -> Any:
        """What a required field starts with."""
        return None

    def _extras(self) -> list[w.Widget]:
        return []

    def _changed(self) -> None:
        self._show_unit()
        self._on_change()

    def _show_unit(self) -> None:
        """The unit next to the value, singular for one ("1 image", "2 images")."""
        if self.unit is None:
            return
        unit = self.spec.unit
        if unit.endswith("s") and len(unit) > 2 and self.get() == 1:
            unit = unit[:-1]
        self.unit.value = message("muted", unit)

    # -- the same for every kind
    def get(self) -> Any:
        """The field's Python value; ``None`` when unset."""
        if self.use is not None and not self.use.value:
            return None
        return self._read()

    def check(self, value: Any) -> Any:
        if value is None:
            if self.spec.nullable or self.spec.kind in _UNSET_WHEN_EMPTY:
                return None
            raise ValueError(f"{self.spec.name} cannot be None; it is not optional")
        return self._coerce(value)

    def apply(self, value: Any) -> None:
        """Show a value that :meth:`check` returned."""
        if self.use is not None:
            self.use.value = value is not None
            if value is None:
                return
        self._write(value)

    def set(self, value: Any) -> None:
        self.apply(self.check(value))

    def reset(self) -> None:
        self.apply(self._blank() if self.spec.required else self.spec.fresh_default())

    def show_error(self, text: str | None) -> None:
        self.error.value = message("error", text) if text else ""

    def _on_use(self, change: dict[str, Any]) -> None:
        self.input.disabled = not change["new"]

    def _fail(self, value: Any, expected: str) -> ValueError:
        return ValueError(f"{self.spec.name}: cannot show {value!r}; expected {expected}")

    def _common(self) -> dict[str, Any]:
        return {"description": self.spec.label, "tooltip": self.spec.description or self.spec.label, "style": LABEL}
