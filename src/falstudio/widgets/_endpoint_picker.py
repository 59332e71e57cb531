"""A searchable endpoint picker: type a name or a category, pick from the matches (live first, deprecated
marked); "Search fal's catalog" adds fal's endpoints for the same words (their schemas arrive with them).

The Studio puts it beside its endpoint dropdown; picking calls ``on_pick(endpoint_id)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import ipywidgets

from .._internal.theme import message
from ..endpoints import EndpointSpec, specs
from ..endpoints.catalog import CatalogEntry, ordered

if TYPE_CHECKING:
    from ..client import Platform

_CATEGORY = {"text-to-image": "text-to-image", "image-edit": "image-to-image"}
MAX_SHOWN = 50


def _entry_of(spec: EndpointSpec) -> CatalogEntry:
    category = spec.category or _CATEGORY.get(spec.kind, "")
    return CatalogEntry(spec.id, spec.title, category, spec.status_on(), (), "", spec=spec)


def matches(text: str, entries: Iterable[CatalogEntry]) -> list[CatalogEntry]:
    """The entries whose name, id or category hold every word of ``text``, live first (deprecated after)."""
    words = text.lower().split()
    found = [e for e in entries if all(w in f"{e.display_name} {e.id} {e.category}".lower() for w in words)]
    return ordered(found)


class EndpointSearch(ipywidgets.VBox):
    """``EndpointSearch(on_pick, client=None)``: a search box and its matches. With a ``client`` (or
    ``platform``, a callable returning a :class:`~falstudio.client.Platform`) the catalog button asks fal's
    catalog where that client works (fal, or its offline server)."""

    def __init__(
        self,
        on_pick: Callable[[str], None],
        *,
        client: object | None = None,
        platform: Callable[[], Platform] | None = None,
    ) -> None:
        if platform is None and client is not None:
            from ..client import Platform

            platform = lambda: Platform.of(client)  # noqa: E731 - made when first asked, on the client's server
        self._on_pick = on_pick
        self._platform = platform
        self._catalog: dict[str, CatalogEntry] = {}
        self.query = ipywidgets.Text(
            placeholder="name or category, e.g. flux, image-to-image",
            description="Find",
            tooltip="Search the endpoints by name, id or category; live ones are listed first",
            continuous_update=True,
            layout=ipywidgets.Layout(flex="1 1 18em", min_width="0", max_width="28em"),
        )
        self.catalog_button = ipywidgets.Button(
            description="Search the catalog",
            icon="search",
            tooltip="Ask fal's model catalog for these words (the offline server's own when offline); schemas come "
            "with the results, which are kept for a day",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.results = ipywidgets.Select(
            options=[],
            value=None,
            rows=6,
            description="Matches",
            layout=ipywidgets.Layout(display="none", width="100%", max_width="52em"),
        )
        self.status = ipywidgets.HTML()
        self.query.observe(lambda _c: self.refresh(), "value")
        self.results.observe(self._picked, "value")
        self.catalog_button.on_click(lambda _b: self.search_catalog())
        self.catalog_button.layout.display = None if platform is not None else "none"
        row = ipywidgets.HBox(
            [self.query, self.catalog_button, self.status],
            layout=ipywidgets.Layout(align_items="center", flex_flow="row wrap", grid_gap="8px"),
        )
        super().__init__([row, self.results])
        self.add_class("fs-endpoint-search")

    def entries(self) -> list[CatalogEntry]:
        """What can be picked: the endpoints falstudio has (registered and loaded), then catalog results."""
        known = {s.id: _entry_of(s) for s in specs()}
        return [*known.values(), *(e for i, e in self._catalog.items() if i not in known)]

    def refresh(self) -> None:
        """Show the matches of the search box (nothing while it is empty)."""
        text = self.query.value.strip()
        found = matches(text, self.entries())[:MAX_SHOWN] if text else []
        self.results.unobserve(self._picked, "value")
        try:
            self.results.options = [(e.label() + (" (no schema)" if e.spec is None else ""), e.id) for e in found]
            self.results.value = None
            self.results.rows = min(max(len(found), 2), 8)
        finally:
            self.results.observe(self._picked, "value")
        self.results.layout.display = None if found else "none"
        if text and not found:
            self.status.value = message("muted", "no endpoint matches; try fal's catalog" if self._platform else "")
        else:
            self.status.value = ""

    def search_catalog(self) -> list[CatalogEntry]:
        """Ask fal's catalog for the search box's words; its results join the matches."""
        if self._platform is None:
            return []
        self.status.value = message("muted", "searching the catalog…")
        try:
            platform = self._platform()
            found = platform.search(self.query.value.strip() or None)
        except Exception as exc:  # a network or API failure is shown where the user looked, not raised in a callback
            self.status.value = message("error", f"the catalog: {exc}".splitlines()[0])
            return []
        self._catalog.update((e.id, e) for e in found)
        self.refresh()
        where = urlsplit(platform.base_url).netloc  # api.fal.ai, or the offline server's address
        self.status.value = message("success", f"{len(found)} found in the catalog at {where}")
        return found

    def _picked(self, change: dict[str, object]) -> None:
        endpoint_id = change["new"]
        if not isinstance(endpoint_id, str):
            return
        entry = next((e for e in self.entries() if e.id == endpoint_id), None)
        if entry is not None and entry.spec is None:
            self.status.value = message("warn", f"{endpoint_id}: {entry.problem or 'no schema'}")
            return
        try:
            self._on_pick(endpoint_id)
        except Exception as exc:  # e.g. a schema that cannot be typed: say so here
            self.status.value = message("error", str(exc).splitlines()[0])
            return
        self.status.value = message("success", f"now on {endpoint_id}")
