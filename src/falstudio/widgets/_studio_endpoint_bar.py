"""The Studio's endpoint controls: the picker, catalog search, "Other endpoint…" loading and the status chip."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets

from .._internal.theme import COLOR, FONT_SMALL, esc, message, style
from ..endpoints import REGISTRY, EndpointSpec, get
from ._endpoint_choices import OTHER, picker_options
from ._endpoint_loading import EndpointLoading, short_reason
from ._endpoint_picker import EndpointSearch
from ._job_list import toggle

if TYPE_CHECKING:
    from ..client import ClientLike


def chip_css(color: str) -> str:
    """A small rounded label in ``color`` (the backend badge, an endpoint's status)."""
    return style(color=color, border=f"1px solid {color}", border_radius="9px", padding="1px 8px", font_size=FONT_SMALL)


class EndpointBar:
    """Which endpoint the form is for (``current``), and every way to pick another.

    ``on_switch(endpoint_id)`` puts up the form for a newly picked endpoint; ``current`` follows once it has.
    The Studio lays the widgets out (the picker first in its row) and shows them as its own attributes.
    """

    _quiet = False  # the picker's value is being put back: not a pick

    def __init__(
        self, endpoint_id: str, client: ClientLike, on_switch: Callable[[str], None], stream: bool | None
    ) -> None:
        self.current = endpoint_id
        self._on_switch = on_switch
        self._stream = stream
        self.picker = ipywidgets.Dropdown(
            options=picker_options(),
            value=endpoint_id,
            description="Endpoint",
            tooltip="The fal endpoint to call; the form below follows it. Other endpoint…: any fal image endpoint",
            layout=ipywidgets.Layout(flex="1 1 24em", min_width="0", max_width="40em"),  # fits 820 px windows
        )
        self.search = EndpointSearch(self.select, client=client)
        self.search.layout.display = "none"  # one click away: the form keeps its place on a laptop screen
        self.search_toggle = toggle(
            "Search endpoints…", "Find an endpoint by name or category, here or in fal's catalog", self.search
        )
        self.status_chip = ipywidgets.HTML()
        self.live_previews = ipywidgets.Checkbox(
            value=stream is not False,
            description="Live previews",
            indent=False,
            tooltip="Stream the request and show the picture as it forms (a streamed run cannot be resumed "
            "after a kernel restart; untick to use the queue)",
            layout=ipywidgets.Layout(width="auto", margin="0 0 0 12px"),
        )
        self.other_id = ipywidgets.Text(
            placeholder="owner/model or owner/model/path, e.g. fal-ai/flux/dev",
            description="Other id",
            tooltip="Any fal endpoint: falstudio types it from fal's OpenAPI schema (fetched once, then cached)",
            layout=ipywidgets.Layout(width="28em"),
        )
        self.other_button = ipywidgets.Button(
            description="Load", icon="download", tooltip="Load this endpoint's schema from fal and show its form"
        )
        self.other_status = ipywidgets.HTML()
        self.other_loading = EndpointLoading(self.other_status, self.other_button, self._other_loaded, self._back)
        self.other_button.on_click(lambda _b: self.other_loading.start(self.other_id.value))
        self.other_box = ipywidgets.HBox(
            [self.other_id, self.other_button, self.other_loading.cancel_button, self.other_status],
            layout=ipywidgets.Layout(display="none", align_items="center", flex_flow="row wrap"),
        )
        self.show_status(get(endpoint_id))
        self.picker.observe(self._on_pick, "value")

    def select(self, endpoint_id: str) -> None:
        """Pick ``endpoint_id`` as a person would; raises UnknownEndpointError (with the reason) for an id it
        cannot type."""
        spec = get(endpoint_id)
        if spec.id not in dict(self.picker.options).values():
            keep, self._quiet = self.picker.value, True
            try:  # new options reset the value to the first one: put it back before anyone hears
                self.picker.options = picker_options()
                self.picker.value = keep
            finally:
                self._quiet = False
        self.picker.value = spec.id

    def show_status(self, spec: EndpointSpec) -> None:
        """The chip beside the picker: typed from fal's schema, deprecated or retired (nothing when active)."""
        self.live_previews.layout.display = None if spec.streaming and self._stream is None else "none"
        if spec.id not in REGISTRY:  # typed from fal's schema: say so, and whether it is an image endpoint
            label, color = (
                ("not an image endpoint", COLOR["warn"]) if spec.kind == "other" else ("fal schema", COLOR["accent"])
            )
            self.status_chip.value = f'<span style="{chip_css(color)};margin-left:8px">{esc(label)}</span>'
            self.status_chip.tooltip = spec.note
            return
        status = spec.status_on()
        if status == "active":
            self.status_chip.value, self.status_chip.tooltip = "", None
            return
        color = COLOR["warn"] if status == "deprecated" else COLOR["error"]
        self.status_chip.value = f'<span style="{chip_css(color)};margin-left:8px">{esc(status)}</span>'
        self.status_chip.tooltip = spec.note_on() or status

    def _on_pick(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        if change["new"] == OTHER:  # ask for an id; the form stays on the current endpoint until one loads
            self.other_box.layout.display = "flex"
            self.other_status.value = ""
            return
        self.other_box.layout.display = "none"
        if change["new"] == self.current:
            return
        self._on_switch(change["new"])
        self.current = change["new"]
        self.show_status(get(change["new"]))

    def _other_loaded(self, endpoint_id: str) -> None:
        try:
            self.select(endpoint_id)  # typed already: the loader keeps it
        except Exception as exc:  # a click handler's traceback is never seen: say it here
            self.other_status.value = message("error", short_reason(endpoint_id, exc), role="alert")
            self._back()

    def _back(self) -> None:
        """The picker back on the form's endpoint (the row stays open, showing why)."""
        keep, self._quiet = self._quiet, True
        try:
            self.picker.value = self.current
        finally:
            self._quiet = keep
