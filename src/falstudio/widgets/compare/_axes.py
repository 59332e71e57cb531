"""The axis picker of Compare: checkboxes of every choice field's values (read from the endpoint's model).

One checked value sets that field on the base request; two or more make it an axis. Axes keep the order in
which they were made (the first gives the rows, the second the columns). A size field that takes custom sizes
(GPT Image 2) offers its presets, ``auto`` and :data:`COMMON_SIZES`; the sweep sends each in the endpoint's form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets

from ..._internal.theme import COLOR, FONT_SMALL, esc
from ...endpoints import DEFAULT_ENDPOINT, DEFAULT_PROMPT, ImageSize, RequestModel, get, specs
from ...endpoints.lifecycle import STATUSES
from ...endpoints.sizes import custom_dimensions
from ...sweep import ENDPOINT, Sweep, SweepError, sweep
from .._a11y import LABELLED_GROUP
from ..form import human_title

_LABEL_WIDTH = "9em"
# Custom sizes offered for GPT Image 2: GPT Image 1's three, then 16:9 at ~2.4 MP, 1440p and 4K (all valid there).
COMMON_SIZES = ("1024x1024", "1536x1024", "1024x1536", "2048x1152", "2560x1440", "3840x2160")


def axis_options(endpoint: str) -> dict[str, tuple[Any, ...]]:
    """The fields of ``endpoint`` with a fixed set of values (choices that cannot be left unset), with those values;
    size fields that take custom sizes get their fixed values and :data:`COMMON_SIZES`."""
    options: dict[str, tuple[Any, ...]] = {}
    for name, field in get(endpoint).fields.items():
        if field.kind == "choice" and not field.nullable:
            options[name] = field.choices
        elif field.kind == "size":
            options[name] = (*field.choices, *COMMON_SIZES)
    return options


def sibling_endpoints(endpoint: str) -> tuple[str, ...]:
    """Endpoints of the same kind (text-to-image or edit) and billing as ``endpoint``, live ones first: its
    endpoint choices (registered ones, and those loaded from fal's schema in this process)."""
    spec = get(endpoint)
    same = [s for s in specs() if s.kind == spec.kind and s.is_byok == spec.is_byok]
    return tuple(s.id for s in sorted(same, key=lambda s: STATUSES.index(s.status_on())))


def _option(value: Any) -> Any:
    """A size object as the ``"WxH"`` box that stands for it; anything else as it is."""
    size = custom_dimensions(value) if isinstance(value, (ImageSize, dict)) else None
    return f"{size[0]}x{size[1]}" if size else value


def _label(name: str, value: Any) -> str:
    if name != ENDPOINT:
        return str(value)
    status = get(value).status_on()
    return str(value) if status == "active" else f"{value} ({status})"


class AxisPicker(ipywidgets.VBox):
    """Checkbox rows for the endpoint and each choice field, starting from ``start``'s base and axes."""

    def __init__(self, start: Sweep, on_change: Callable[[], None]) -> None:
        self._start = start
        self._on_change = on_change
        base = start.base_endpoint
        fields = get(base).fields
        endpoints = tuple(dict.fromkeys([*start.axes.get(ENDPOINT, ()), *sibling_endpoints(base)]))
        options = {ENDPOINT: endpoints, **axis_options(base)}
        for name, values in options.items():  # values given in code come first, even ones not offered
            given = [_option(v) for v in (*start.axes.get(name, ()), start.base_fields.get(name, values[0]))]
            options[name] = tuple(dict.fromkeys([*given[:-1], *values, given[-1]]))
        self._boxes: dict[str, dict[Any, ipywidgets.Checkbox]] = {}
        self._notes: dict[str, ipywidgets.HTML] = {}
        self._touched: set[str] = set()  # fields the user changed here: sent as ticked, even if a default
        self.order: list[str] = [a for a in start.axes if a in options]  # fields that are axes, oldest first
        rows: list[ipywidgets.Widget] = []
        self.prompt: ipywidgets.Textarea | None = None
        if "prompt" in fields and "prompt" not in start.axes:  # the base's prompt, editable here
            self.prompt = ipywidgets.Textarea(
                value=str(start.base_fields.get("prompt", "")),
                description="Prompt",
                continuous_update=False,
                tooltip="The prompt every variation shares",
                style={"description_width": _LABEL_WIDTH},
                layout=ipywidgets.Layout(width="min(100%, 44em)"),
            )
            self.prompt.observe(lambda _change: self._on_change(), "value")
            rows.append(self.prompt)
        for name, values in options.items():
            if name in start.axes:
                checked = {_option(v) for v in start.axes[name]}
            elif name == ENDPOINT:
                checked = {base}
            else:
                checked = {_option(start.base_fields.get(name, fields[name].default))}
            boxes = {
                v: ipywidgets.Checkbox(
                    value=v in checked,
                    description=_label(name, v),
                    indent=False,
                    tooltip=f"include {name}={v}",
                    layout=ipywidgets.Layout(width="auto", margin="0 12px 0 0"),
                )
                for v in values
            }
            for box in boxes.values():
                box.observe(lambda _change, name=name: self._changed(name), "value")
            self._boxes[name] = boxes
            # right-aligned like the prompt's own ipywidgets label above, so the columns line up
            label = ipywidgets.HTML(
                f'<div style="color:{COLOR["fg"]};text-align:right;padding-right:8px">{esc(human_title(name))}</div>',
                layout=ipywidgets.Layout(width=_LABEL_WIDTH, flex="0 0 auto"),
            )
            self._notes[name] = ipywidgets.HTML()
            values_box = ipywidgets.HBox(  # wrapped lines start under the first box, not under the label
                [*boxes.values(), self._notes[name]],
                layout=ipywidgets.Layout(flex_flow="row wrap", align_items="center", flex="1 1 auto"),
            )  # no tooltip: ipywidgets 8's box views fail to render with one (updateTooltip reads a description)
            values_box.add_class(LABELLED_GROUP)
            rows.append(ipywidgets.HBox([label, values_box], layout=ipywidgets.Layout(align_items="center")))
        fixed = [a for a in start.axes if a not in options]  # e.g. several prompts, given in code
        if fixed:
            text = "; ".join(f"{a}: {len(start.axes[a])} values" for a in fixed)
            rows.append(
                ipywidgets.HTML(
                    f'<span style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">'
                    f"Also varied (set in code): {esc(text)}</span>"
                )
            )
        super().__init__(rows)
        self._show_notes()

    @property
    def disabled(self) -> bool:
        return all(box.disabled for boxes in self._boxes.values() for box in boxes.values())

    @disabled.setter
    def disabled(self, value: bool) -> None:
        for boxes in self._boxes.values():
            for box in boxes.values():
                box.disabled = value
        if self.prompt is not None:
            self.prompt.disabled = value

    def checked(self, name: str) -> list[Any]:
        return [v for v, box in self._boxes[name].items() if box.value]

    def set_checked(self, name: str, values: list[Any]) -> None:
        """Check exactly ``values`` of ``name`` (as a click on each box would)."""
        unknown = [v for v in values if v not in self._boxes[name]]
        if unknown:
            raise ValueError(f"{name} has no option {unknown[0]!r}; options: {list(self._boxes[name])}")
        for value, box in self._boxes[name].items():
            box.value = value in values

    def build(self) -> Sweep:
        """The sweep the boxes describe; raises :class:`SweepError` naming what to fix."""
        empty = [n for n in self._boxes if not self.checked(n)]
        if empty:
            raise SweepError([f"tick at least one {n}" for n in empty])
        start = self._start
        fields = dict(start.base_fields)
        if self.prompt is not None:
            fields["prompt"] = self.prompt.value
        axes: dict[str, Any] = {}
        for name in self._boxes:
            values = self.checked(name)
            if len(values) > 1:
                continue
            fields.pop(name, None)
            if name == ENDPOINT:
                axes[ENDPOINT] = values[0]
            elif not self._is_default(name):
                fields[name] = values[0]
        for name in [*self.order, *(a for a in start.axes if a not in self._boxes)]:
            axes[name] = self.checked(name) if name in self._boxes else start.axes[name]
        return sweep(fields, **axes)

    def _is_default(self, name: str) -> bool:
        """Untouched and unset on the base: each endpoint then uses its own default."""
        return (
            name != ENDPOINT
            and name not in self._touched
            and name not in self._start.base_fields
            and name not in self._start.axes
        )

    def _show_notes(self) -> None:
        for name, note in self._notes.items():
            text = self._default_text(name) if self._is_default(name) else ""
            note.value = f'<span style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">{text}</span>'

    def _default_text(self, name: str) -> str:
        """What each ticked endpoint really runs when ``name`` is left at its default, e.g. ``high on
        openai/gpt-image-2``: a default is the endpoint's own, not the first box."""
        runs = []
        for endpoint in self.checked(ENDPOINT):
            field = get(endpoint).fields.get(name)
            if field is not None:
                runs.append(f"{_option(field.default)} on {endpoint}")
        return "default of each endpoint: " + ", ".join(runs) if runs else "default of each endpoint"

    def _changed(self, name: str) -> None:
        self._touched.add(name)
        self._show_notes()
        multi = len(self.checked(name)) > 1
        if multi and name not in self.order:
            self.order.append(name)
        elif not multi and name in self.order:
            self.order.remove(name)
        self._on_change()


def as_sweep(value: Sweep | RequestModel | Mapping[str, Any] | None, endpoint: str | None) -> Sweep:
    """What ``Compare(...)`` starts from: a sweep as given, or one variation of a request (the default one)."""
    if isinstance(value, Sweep):
        return value
    if value is None:
        return sweep({"prompt": DEFAULT_PROMPT}, endpoint=endpoint or DEFAULT_ENDPOINT)
    return sweep(value, endpoint=endpoint) if endpoint else sweep(value)


def same_requests(a: Sweep, b: Sweep) -> bool:
    """Whether two sweeps send the same requests to the same endpoints, in the same order."""
    return len(a) == len(b) and all(
        x.endpoint == y.endpoint and x.request == y.request for x, y in zip(a, b, strict=True)
    )
