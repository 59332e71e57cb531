"""One control per field kind: the input widget, an optional "set" checkbox, and the error line under it."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import ipywidgets as w
from pydantic import BaseModel, SecretStr

from ..._internal.theme import COLOR, FONT_SMALL, esc, message, style
from ...endpoints.fields import Field
from .._a11y import name_by_tooltip
from ._image_list import ImageListEditor, to_image_url
from ._secret import SecretInput
from ._size_input import SizeInput

LABEL = {"description_width": "10em"}
FIELD_WIDTH = "34em"  # a field with help: its "?" sits at this width, the same for every field
SLIDER_MAX_STEPS = 50  # wider int ranges get a number box instead of a slider
TOGGLE_MAX_OPTIONS = 4  # more options get a dropdown
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


def _wide() -> w.Layout:
    return w.Layout(width="100%", max_width="48em")


class FieldControl:
    """Base: subclasses build ``input`` and convert between it and Python values."""

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


class ChoiceControl(FieldControl):
    def _build(self) -> w.Widget:
        options = list(self.spec.options)
        if len(options) <= TOGGLE_MAX_OPTIONS:
            tips = [f"{self.spec.label}: {label}" for label, _ in options]
            common = {**self._common(), "style": {**LABEL, "button_width": "auto"}}
            # ipywidgets renders ToggleButtons as a block, which puts the label above the buttons
            layout = w.Layout(display="flex", align_items="center")
            return w.ToggleButtons(options=options, tooltips=tips, value=None, layout=layout, **common)
        return w.Dropdown(options=options, value=None, **self._common())

    def _coerce(self, value: Any) -> Any:
        for _, option in self.spec.options:
            if value == option or (isinstance(option, enum.Enum) and value == option.value):
                return option
        raise self._fail(value, "one of " + ", ".join(repr(o) for _, o in self.spec.options))


class NumberControl(FieldControl):
    def _build(self) -> w.Widget:
        lo, hi = self.spec.minimum, self.spec.maximum
        common = {**self._common(), "layout": w.Layout(width="100%", max_width="32em")}
        if self.spec.kind == "int":
            if lo is not None and hi is not None:
                if hi - lo <= SLIDER_MAX_STEPS:
                    return w.IntSlider(min=int(lo), max=int(hi), value=int(lo), readout=True, **common)
                return w.BoundedIntText(min=int(lo), max=int(hi), value=int(lo), **common)
            return w.IntText(**common)
        if lo is not None and hi is not None and math.isfinite(lo) and math.isfinite(hi) and hi > lo:
            step = _float_step(lo, hi, self.spec.default)
            decimals = max(0, -math.floor(math.log10(step) + 1e-9))
            return w.FloatSlider(
                min=lo, max=hi, value=lo, step=step, readout=True, readout_format=f".{decimals}f", **common
            )
        return w.FloatText(**common)

    def _coerce(self, value: Any) -> Any:
        is_int = self.spec.kind == "int"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self._fail(value, "a whole number" if is_int else "a finite number")
        if is_int and value != int(value):
            raise self._fail(value, "a whole number")
        lo, hi = self.spec.minimum, self.spec.maximum
        bounded = isinstance(self.input, (w.IntSlider, w.BoundedIntText, w.FloatSlider))
        if bounded and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            raise self._fail(value, f"a value from {lo} to {hi}")
        return int(value) if is_int else float(value)

    def _blank(self) -> Any:
        return self.spec.minimum if self.spec.minimum is not None else 0


class BoolControl(FieldControl):
    def _build(self) -> w.Widget:
        return w.Checkbox(
            value=False, indent=False, description=self.spec.label, tooltip=self.spec.description or self.spec.label
        )

    def _coerce(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise self._fail(value, "True or False")
        return value

    def _blank(self) -> Any:
        return False


class TextControl(FieldControl):
    def _build(self) -> w.Widget:
        placeholder = f"{self.spec.label} (required)" if self.spec.required else self.spec.label
        if self.spec.kind == "long_text":
            self.count = w.HTML()
            return w.Textarea(placeholder=placeholder, rows=4, layout=_wide(), **self._common())
        return w.Text(placeholder=placeholder, layout=_wide(), **self._common())

    def _coerce(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise self._fail(value, "a string")
        return value

    def _blank(self) -> Any:
        return ""

    def _extras(self) -> list[w.Widget]:
        if self.spec.kind != "long_text":
            return []
        self._count()
        return [self.count]

    def _changed(self) -> None:
        if self.spec.kind == "long_text":
            self._count()
        super()._changed()

    def _write(self, value: Any) -> None:
        self.input.value = value
        if self.spec.kind == "long_text":
            self._count()

    def _count(self) -> None:
        n, limit = len(self.input.value), self.spec.max_length
        kind = "error" if limit is not None and n > limit else "muted"
        text = f"{n:,} / {limit:,} characters" if limit is not None else f"{n:,} characters"
        self.count.value = message(kind, text)


class JsonControl(FieldControl):
    """Anything without a dedicated control: JSON text (plain text is taken as a string)."""

    def _build(self) -> w.Widget:
        return w.Text(placeholder="JSON", layout=_wide(), **self._common())

    def _read(self) -> Any:
        text = self.input.value.strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _coerce(self, value: Any) -> Any:
        if isinstance(value, BaseModel):  # e.g. an ImageSize: shown as the JSON object fal receives
            value = value.model_dump(mode="json")
        try:
            return json.dumps(value)
        except TypeError:
            raise self._fail(value, "a JSON-compatible value") from None

    def _blank(self) -> Any:
        return ""

    def _write(self, value: Any) -> None:
        self.input.value = value if isinstance(value, str) else json.dumps(value)


class SecretControl(FieldControl):
    watch = "is_set"

    def _build(self) -> w.Widget:
        self.secret = SecretInput(self.spec.label, self.spec.description, env_var=self.spec.env_var)
        return self.secret

    def _read(self) -> Any:
        return self.secret.get()

    def _coerce(self, value: Any) -> Any:
        if not isinstance(value, (str, SecretStr)):
            raise self._fail(type(value).__name__, "a string or SecretStr")
        return value

    def _write(self, value: Any) -> None:
        self.secret.set(value, source="set from Python")

    def reset(self) -> None:  # the held key (maybe from the environment) outlives a form reset
        pass


class ImagesControl(FieldControl):
    watch = "urls"

    def _build(self) -> w.Widget:
        many = self.spec.kind == "images"
        self.editor = ImageListEditor(
            self.spec.label, self.spec.description, max_items=self.spec.max_length if many else 1, offline=self.offline
        )
        return self.editor

    def _read(self) -> Any:
        urls = list(self.editor.urls)
        return urls if self.spec.kind == "images" else (urls[0] if urls else None)

    def _coerce(self, value: Any) -> Any:
        items = list(value) if self.spec.kind == "images" and isinstance(value, (list, tuple)) else [value]
        if self.spec.kind == "images" and not isinstance(value, (list, tuple)):
            raise self._fail(value, "a list of image URLs")
        return [_image_item(v) for v in items]

    def _write(self, value: Any) -> None:
        self.editor.urls = value

    def apply(self, value: Any) -> None:
        self._write([] if value is None else value)

    def _blank(self) -> Any:
        return []


class SizeControl(FieldControl):
    """Presets, ``auto`` or a custom width and height (see :class:`SizeInput`)."""

    def _build(self) -> w.Widget:
        options = tuple(v for _, v in self.spec.options)
        self.size = SizeInput(
            self.spec.label, self.spec.description, options, self.spec.size_rules, LABEL, unit=self.spec.unit
        )
        return self.size

    def _coerce(self, value: Any) -> Any:
        if not self.size.accepts(value):
            choices = ", ".join(repr(v) for _, v in self.spec.options)
            raise self._fail(value, f"one of {choices}, a 'WxH' string or a dict with a positive width and height")
        return value

    def _blank(self) -> Any:
        return self.spec.options[0][1] if self.spec.options else {"width": 1024, "height": 1024}


def _float_step(lo: float, hi: float, default: Any) -> float:
    """A round slider step (about 1/100 of the range) that the default sits on: the browser snaps the value to
    the step grid and sends it back, so an off-grid default would become a value the user never chose."""
    step = 10.0 ** math.floor(math.log10((hi - lo) / 100))
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        while step > 1e-6 and abs((default - lo) / step - round((default - lo) / step)) > 1e-6:
            step /= 10
    return step


def _image_item(value: Any) -> str:
    """Strings are kept as given (the model judges them) unless they name a file; paths, bytes and PIL
    images become data URIs."""
    if isinstance(value, str):
        if value.startswith(("http://", "https://", "data:")):
            return value
        try:
            is_file = Path(value).expanduser().is_file()
        except OSError:
            is_file = False
        return to_image_url(value) if is_file else value
    return to_image_url(value)


CONTROLS: dict[str, type[FieldControl]] = {
    "choice": ChoiceControl,
    "int": NumberControl,
    "float": NumberControl,
    "bool": BoolControl,
    "text": TextControl,
    "long_text": TextControl,
    "json": JsonControl,
    "secret": SecretControl,
    "image": ImagesControl,
    "images": ImagesControl,
    "size": SizeControl,
}


def make_control(spec: Field, on_change: Callable[[], None], *, offline: bool = False) -> FieldControl:
    return CONTROLS[spec.kind](spec, on_change, offline=offline)
