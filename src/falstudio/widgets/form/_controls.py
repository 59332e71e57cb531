"""One control per field kind (choice, number, text, JSON, secret, images, size) and ``make_control`` to pick it."""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w
from pydantic import BaseModel, SecretStr

from ..._internal.theme import message
from ...endpoints.fields import Field
from ._field_control import LABEL, FieldControl
from ._image_list import ImageListEditor, to_image_url
from ._secret import SecretInput
from ._size_input import SizeInput

SLIDER_MAX_STEPS = 50  # wider int ranges get a number box instead of a slider
TOGGLE_MAX_OPTIONS = 4  # more options get a dropdown


def _wide() -> w.Layout:
    return w.Layout(width="100%", max_width="48em")


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
