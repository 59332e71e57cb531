"""``RequestForm``: a form generated from an endpoint's request model, validated by that model.

Field order, defaults and constraints come from the model (see :mod:`falstudio.endpoints.fields`); every
change is validated with the real model, and its errors are shown under the fields they belong to. Only
fields the user set (plus required ones) go into the request, so ``form.value.payload()`` sends what the user chose.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import traitlets
from pydantic import BaseModel, SecretStr, ValidationError

from ..._internal.theme import COLOR, esc, message, style
from ...client import ImageSource
from ...endpoints import REDACTED, EndpointSpec, get, specs
from ...endpoints.fields import fields_of
from .._a11y import make_accessible
from .._budget_gate import Gate, budget_gate
from .._html import StaticFallback, card, table
from .._reader_view import ReaderView
from . import _code, _mask_painter
from ._code_panel import CodePanel
from ._controls import make_control
from ._field_control import FieldControl
from ._form_errors import FORM_LEVEL, errors_by_field, problems_summary
from ._values import jsonable, short_repr, value_html

if TYPE_CHECKING:
    from ...client import ClientLike


class RequestForm(ReaderView, StaticFallback, w.VBox):
    """A form for one endpoint's request (or any pydantic model).

    ``RequestForm("openai/gpt-image-2")`` or ``RequestForm(model=SomeModel)``. ``form.value`` is the
    typed request (raises pydantic's ValidationError while invalid) and ``form.value = request`` fills
    the form. ``form.on_submit(fn)`` calls ``fn(request)`` when Generate is clicked. ``offline=True``: requests
    go to the embedded offline server, which has no network, so image fields ask for uploads rather than URLs.

    A field's error shows once the user changed it, it was filled from Python, or Generate was pressed; until
    then the summary lists what is still to fill in, without alarm.
    """

    _mask: _mask_painter.Pair | None = None
    is_valid = traitlets.Bool(False, help="The current input is a valid request (observable, not synced)")
    errors = traitlets.Dict(help="field name -> error message; 'form' for problems of the whole request")

    def __init__(
        self,
        endpoint_id: str | None = None,
        *,
        model: type[BaseModel] | None = None,
        value: BaseModel | Mapping[str, Any] | None = None,
        offline: bool = False,
        **kwargs: Any,
    ) -> None:
        if endpoint_id is None and model is None:
            raise TypeError("RequestForm needs an endpoint id, e.g. RequestForm('openai/gpt-image-2'), or model=")
        if endpoint_id is not None and not isinstance(endpoint_id, str):
            raise TypeError(
                f"RequestForm takes an endpoint id string such as 'openai/gpt-image-2' (or model=...), "
                f"not {type(endpoint_id).__name__} {endpoint_id!r:.40}"
            )
        spec = get(endpoint_id) if endpoint_id is not None and model is None else _spec_for(endpoint_id, model)
        self.spec: EndpointSpec | None = spec
        self.endpoint_id: str | None = endpoint_id or (spec.id if spec else None)
        self.model: type[BaseModel] = model if model is not None else spec.input_model  # type: ignore[union-attr]
        self._explicit: set[str] = set()  # fields given by ``form.value = ...``: kept even when equal to the default
        self._quiet = True
        self._submit_handlers: list[Callable[[Any], Any]] = []
        self._touched: set[str] = set()  # fields whose errors are shown: changed by the user or set from Python
        self._show_all_errors = False  # after Generate (or submit()) every error shows
        self.controls: dict[str, FieldControl] = {
            s.name: make_control(s, functools.partial(self._field_changed, s.name), offline=offline)
            for s in fields_of(self.model).values()
        }

        note_text = spec.note_on() if spec else ""
        note = message("warn" if spec and spec.kind == "other" else "muted", note_text) if note_text else ""
        self.header = w.HTML(self._title_html() + note)
        self.summary = w.HTML()
        self.cost_label = w.HTML(tooltip="Estimated cost of this request")
        self.budget_client: ClientLike | None = None  # its budget is shown beside the estimate, and guards Generate
        self.generate_button = w.Button(
            description="Generate", icon="play", button_style="primary", tooltip="Send this request", disabled=True
        )
        panel = self._code_panel = CodePanel(self.to_code)
        self.copy_code, self.hide_code, self.code_style = panel.copy, panel.hide, panel.style
        self.code_view, self.code_box = panel.view, panel.box
        self.generate_button.on_click(lambda _: self._on_generate())
        footer = w.HBox(
            [self.generate_button, self.cost_label, self.copy_code],
            layout=w.Layout(align_items="center", flex_flow="row wrap"),
        )
        super().__init__(
            [
                self.header,
                *(c.box for c in _mask_painter.shown_order(self.controls)),
                self.summary,
                footer,
                self.code_box,
            ],
            **kwargs,
        )
        self.add_class("fs-form")
        self._mask = _mask_painter.attach_to(self.controls)
        make_accessible(self)
        self._quiet = False
        if value is not None:
            self.value = value
        else:
            self._refresh()

    # -- the request
    @property
    def value(self) -> Any:
        """The typed request; raises pydantic's ValidationError while the form is invalid."""
        return self.model.model_validate(self._data())

    @value.setter
    def value(self, request: BaseModel | Mapping[str, Any]) -> None:
        """Fill the form. Fields missing from ``request`` go back to their defaults. A secret given as
        ``"***"`` (a redacted record) keeps the key the form already holds, if any."""
        if isinstance(request, BaseModel):
            given = {n: getattr(request, n) for n in request.model_fields_set if n in type(request).model_fields}
        elif isinstance(request, Mapping):
            given = dict(request)
        else:
            raise TypeError(f"form.value takes a {self.model.__name__} or a dict, not {type(request).__name__}")
        for key in given:
            if key not in self.controls:
                close = difflib.get_close_matches(str(key), list(self.controls), n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known fields: {', '.join(self.controls)}"
                raise ValueError(f"unknown field {key!r} for {self._name()}; {hint}")
        checked, keys = {}, {}  # everything is checked before anything changes
        for name, value in given.items():
            control = self.controls[name]
            if control.spec.kind != "secret":
                checked[name] = control.check(value)
            elif (value.get_secret_value() if isinstance(value, SecretStr) else value) != REDACTED:
                keys[name] = control.check(value)  # "***" (a redacted record) keeps the key already held
        self._quiet = True
        try:
            for name, control in self.controls.items():
                if name in checked or name in keys:
                    control.apply(checked[name] if name in checked else keys[name])
                elif control.spec.kind != "secret":  # a held key outlives a refill
                    control.reset()
            self._explicit = set(checked)
            self._touched |= set(checked) | set(keys)
        finally:
            self._quiet = False
        self._refresh()

    def to_dict(self) -> dict[str, Any]:
        """What the form would send, secrets as ``"***"`` (valid or not)."""
        return {n: REDACTED if isinstance(v, SecretStr) else jsonable(v) for n, v in self._data().items()}

    def add_image(self, image: ImageSource, field: str | None = None) -> str:
        """Add an image (URL, data URI, path, bytes or PIL image) to ``field`` (default: the first image field)."""
        names = [n for n, c in self.controls.items() if c.spec.kind in ("images", "image")]
        if field is None and not names:
            raise ValueError(f"{self._name()} has no image field")
        name = field if field is not None else names[0]
        if name not in names:
            raise ValueError(f"{name!r} is not an image field of {self._name()}; image fields: {', '.join(names)}")
        return str(self.controls[name].editor.add(image))  # type: ignore[attr-defined]

    def set_secret(self, field: str, value: str | SecretStr | None) -> None:
        """Hold a key for ``field`` in Python (``None`` forgets it); it never becomes a widget trait."""
        control = self.controls.get(field)
        if control is None or control.spec.kind != "secret":
            secrets = [n for n, c in self.controls.items() if c.spec.kind == "secret"]
            raise ValueError(f"{field!r} is not a secret field of {self._name()}; secret fields: {secrets or 'none'}")
        control.secret.set(value, source="set from Python")  # type: ignore[attr-defined]
        self._touched.add(field)

    def on_submit(self, callback: Callable[[Any], Any], remove: bool = False) -> None:
        """Call ``callback(request)`` with the typed request whenever Generate is clicked."""
        if remove:
            self._submit_handlers = [c for c in self._submit_handlers if c != callback]
        elif callback not in self._submit_handlers:
            self._submit_handlers.append(callback)

    def submit(self) -> Any:
        """Do what Generate does: validate, then call the submit callbacks. Returns the request.

        A callback that raises is named in the form's summary, and the exception propagates.
        """
        if not self._show_all_errors:
            self._show_all_errors = True
            self._refresh()
        request = self.value
        if not self._submit_handlers:
            self.summary.value = message("warn", "nothing is listening: use form.on_submit(fn) or fs.Studio()")
        for callback in list(self._submit_handlers):
            try:
                callback(request)
            except Exception as exc:
                name = getattr(callback, "__qualname__", type(callback).__name__)
                self.summary.value = message(
                    "error", f"the submit callback {name} failed: {type(exc).__name__}: {exc}", role="alert"
                )
                raise
        return request

    def to_code(self, style: _code.Style = "falstudio") -> str:
        """A runnable ``subscribe`` snippet for the current input; keys come from environment variables."""
        data = self._data()
        if self.is_valid:
            arguments = self.model.model_validate(data).model_dump(mode="json", exclude_unset=True, exclude_none=True)
        else:
            arguments = {n: jsonable(v) for n, v in data.items()}
        secrets = [n for n, c in self.controls.items() if c.spec.kind == "secret"]
        for name in secrets:  # the snippet reads required keys from the environment even when none is held
            if self.controls[name].spec.required:
                arguments.setdefault(name, None)
        ordered = {n: arguments[n] for n in self.controls if n in arguments}
        return _code.to_code(self.endpoint_id, ordered, secrets=secrets, style=style, problems=dict(self.errors))

    def show_code(self, shown: bool = True) -> None:
        """Show (or hide) the runnable snippet under the form ("Copy as code" shows it as it copies)."""
        self._code_panel.show(shown)

    # -- internals
    def _field_changed(self, name: str) -> None:
        if not self._quiet:
            self._touched.add(name)
        self._refresh()

    def _data(self) -> dict[str, Any]:
        """The input to validate: required fields, fields that differ from their default, fields set by value=."""
        data: dict[str, Any] = {}
        for name, control in self.controls.items():
            spec, current = control.spec, control.get()
            if spec.kind == "secret":
                if current is not None:
                    data[name] = current
            elif spec.required or name in self._explicit or current != spec.default:
                data[name] = current
        return data

    def _refresh(self) -> None:
        if self._quiet:
            return
        try:
            request = self.model.model_validate(self._data())
            errors: dict[str, str] = {}
        except ValidationError as exc:
            request, errors = None, errors_by_field(exc, self.controls)
        shown = {n: e for n, e in errors.items() if self._show_all_errors or n in self._touched or n == FORM_LEVEL}
        for name, control in self.controls.items():
            control.show_error(shown.get(name))
        self.errors = errors
        self.is_valid = request is not None
        gate = self._gate(request)
        self.generate_button.disabled = request is None or gate.refusal is not None
        summary = problems_summary(errors, shown, self._label)
        if summary is None:
            ready = message("success", "✓ ready", role="status")
            summary = message("error", gate.refusal, role="status") if gate.refusal is not None else ready
        self.summary.value = summary
        self._show_cost(request, gate.text)
        self._code_panel.refresh()
        _mask_painter.check(self._mask)
        self._reader_changed()  # a form shown on its own: its reader view follows (coalesced, off this thread)

    def recheck(self) -> None:
        """Check the request again (the budget's room changes as jobs end)."""
        self._refresh()

    def _gate(self, request: BaseModel | None) -> Gate:
        if request is None or self.spec is None or self.budget_client is None:
            return Gate()
        return budget_gate(self.budget_client, [(self.spec.id, self.spec.estimate_cost(request))])  # type: ignore[arg-type]

    def _show_cost(self, request: BaseModel | None, budget: str | None = None) -> None:
        if self.spec is None:
            self.cost_label.layout.display = "none"
            return
        if request is None:
            self.cost_label.value = f'<span style="{style(color=COLOR["muted"])}">Estimated cost: —</span>'
            self.cost_label.tooltip = "Shown once the request is valid"
            return
        estimate = self.spec.estimate_cost(request)  # type: ignore[arg-type]
        what = "Estimated cost" if estimate.known else "Cost"  # never a guess: "no price known"
        against = f" · {esc(budget)}" if budget else ""
        self.cost_label.value = f'<span style="{style(padding="0 8px")}">{what}: <b>{esc(estimate)}</b>{against}</span>'
        self.cost_label.tooltip = estimate.explanation

    def _on_generate(self) -> None:
        self._show_all_errors = True
        self._refresh()
        if self.is_valid and not self.generate_button.disabled:  # disabled: over the budget, said in the summary
            with contextlib.suppress(Exception):  # shown in the summary: a click handler's traceback is never seen
                self.submit()

    def _name(self) -> str:
        return self.endpoint_id or self.model.__name__

    def _label(self, name: str) -> str:
        control = self.controls.get(name)
        return control.spec.label if control is not None else name

    # -- text and static views
    def __repr__(self) -> str:
        state = "valid" if not self.errors else "invalid: " + ", ".join(self.errors)
        parts = [repr(self._name()), state]
        for name, value in self._data().items():
            parts.append(f"{name}={short_repr(value)}")
        return f"RequestForm({', '.join(parts)})"

    def _static_html(self) -> str:
        rows = []
        data = self._data()
        for name, control in self.controls.items():
            value = control.get()
            rows.append((esc(control.spec.label), value_html(name, value, control.spec.kind, name in data)))
        if self.errors:
            status = message(
                "error", f"{len(self.errors)} problem(s): " + "; ".join(f"{k}: {v}" for k, v in self.errors.items())
            )
        else:
            status = message("success", "✓ valid request")
        if self.spec is not None and self.is_valid:
            estimate = self.spec.estimate_cost(self.value)
            status += message("muted", f"{'Estimated cost' if estimate.known else 'Cost'}: {estimate}")
        hint = message("muted", "Static view of a falstudio form; run the cell for the live form.")
        return card(self._title_html(), table(rows) + status + hint)

    def _title_html(self) -> str:
        title = f"<b>{esc(self.spec.title if self.spec else self.model.__name__)}</b>"
        if self.endpoint_id:
            title += f' <code style="{style(color=COLOR["muted"])}">{esc(self.endpoint_id)}</code>'
        return title


def _spec_for(endpoint_id: str | None, model: type[BaseModel] | None) -> EndpointSpec | None:
    """The spec (registered or loaded) whose request model is ``model`` (for costs), if there is one."""
    for spec in specs():
        if spec.input_model is model and (endpoint_id is None or spec.id == endpoint_id):
            return spec
    return None
