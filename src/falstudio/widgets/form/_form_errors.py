"""Pydantic's errors for a request as the form shows them: one message per field, and the summary line."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pydantic import ValidationError

from ..._internal.theme import message
from ._field_control import FieldControl

FORM_LEVEL = "form"  # key in ``errors`` for problems that belong to no single field
_EMPTY_ERRORS = ("missing", "string_too_short", "too_short")  # on an empty field these just mean "required"


def errors_by_field(exc: ValidationError, controls: Mapping[str, FieldControl]) -> dict[str, str]:
    """field name (or :data:`FORM_LEVEL`) -> its problems in words, items named by position."""
    found: dict[str, list[str]] = {}
    for error in exc.errors(include_input=False, include_url=False):
        loc = error["loc"]
        name = str(loc[0]) if loc and str(loc[0]) in controls else FORM_LEVEL
        text = error["msg"]
        control = controls.get(name)
        if control is not None and error["type"] in _EMPTY_ERRORS and control.get() in (None, "", []):
            text = _required(control)
        elif name != FORM_LEVEL and len(loc) > 1:
            noun = "image" if control is not None and control.spec.kind == "images" else "item"
            where = f"{noun} {loc[1] + 1}" if isinstance(loc[1], int) else ".".join(map(str, loc[1:]))
            text = f"{where}: {text}"
        found.setdefault(name, []).append(text)
    return {name: "; ".join(texts) for name, texts in found.items()}


def problems_summary(errors: Mapping[str, str], shown: Mapping[str, str], label: Callable[[str], str]) -> str | None:
    """The summary line while there are ``errors`` (``shown``: those shown under their fields); None when none."""
    if shown:
        n = len(shown)
        text = f"{n} problem{'s' if n > 1 else ''}: {', '.join(label(k) for k in shown)}"
        if FORM_LEVEL in shown:  # no field shows it, so the summary does
            text += f" ({FORM_LEVEL}: {shown[FORM_LEVEL]})"
        others = [label(k) for k in errors if k not in shown]
        if others:
            text += f"; still needed: {', '.join(others)}"
        return message("error", text, role="status")
    if errors:  # nothing touched yet: what to fill in, without alarm
        return message("muted", f"To fill in: {', '.join(label(k) for k in errors)}", role="status")
    return None


def _required(control: FieldControl) -> str:
    spec = control.spec
    if spec.kind == "secret":
        return f"required: paste the key above, or set ${spec.env_var} before creating the form"
    if spec.kind == "images":
        n = spec.min_length or 1
        return f"required: add at least {n} image{'s' if n > 1 else ''}"
    return "required"
