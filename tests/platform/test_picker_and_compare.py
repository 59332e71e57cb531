"""Catalog picks in what people use: the Studio's searchable picker (name, category; live first, deprecated
marked; fal's catalog on demand) and Compare's endpoint axis."""

from __future__ import annotations

import falstudio as fs
from falstudio.client import Client, Platform, RetryPolicy
from falstudio.local import LocalServer
from falstudio.widgets._endpoint_picker import EndpointSearch, matches
from falstudio.widgets.compare._axes import sibling_endpoints
from falstudio.widgets.studio import Studio

from ._fal_platform import FLARE, FLUX, KEY, OLD, FalPlatform


def _platform() -> Platform:
    return Platform(key=KEY, retry=RetryPolicy(max_attempts=1))


def test_the_search_matches_name_id_and_category_live_first() -> None:
    picker = EndpointSearch(lambda _id: None)
    found = matches("image-to-image", picker.entries())
    assert found and all(e.category == "image-to-image" for e in found)
    assert found[0].id == "openai/gpt-image-2/edit"  # live first
    assert all("(retired)" in e.label() or "(deprecated)" in e.label() for e in found[1:])
    picker.query.value = "mini"
    labels = [label for label, _ in picker.results.options]
    assert labels and all("Mini" in label for label in labels) and picker.results.layout.display is None
    picker.query.value = ""
    assert picker.results.options == () and picker.results.layout.display == "none"


def test_the_studio_picks_from_its_search_and_from_fals_catalog(fal_platform: FalPlatform, server: LocalServer) -> None:
    studio = Studio(Client(base_url=server.url, key=server.key), history=False)  # type: ignore[arg-type]
    try:
        studio.search._platform = _platform  # fal's catalog, fal-shaped on loopback
        assert studio.search.layout.display == "none"  # one click away
        studio.search_toggle.value = True
        assert studio.search.layout.display == "flex"
        studio.search.query.value = "gpt image 1.5 edit"
        studio.search.results.value = "fal-ai/gpt-image-1.5/edit"
        assert studio.endpoint == "fal-ai/gpt-image-1.5/edit" and "now on" in studio.search.status.value
        studio.search.query.value = "text-to-image"
        found = studio.search.search_catalog()
        assert {FLUX, OLD, FLARE} <= {e.id for e in found} and fal_platform.url.split("/")[
            2
        ] in studio.search.status.value
        ids = [value for _, value in studio.search.results.options]
        assert ids.index(FLUX) < ids.index(OLD)  # live before deprecated
        assert any(label.endswith("(deprecated)") for label, value in studio.search.results.options if value == OLD)
        studio.search.results.value = FLUX
        assert studio.endpoint == FLUX and studio.form.endpoint_id == FLUX
        assert FLUX in [value for _, value in studio.picker.options]  # the dropdown offers it from now on
    finally:
        studio.close()


def test_the_catalog_button_asks_the_offline_server_when_the_studio_is_offline(server: LocalServer) -> None:
    studio = Studio(Client(base_url=server.url, key=server.key), history=False)  # type: ignore[arg-type]
    try:
        studio.search.query.value = "GPT Image 2"
        found = studio.search.search_catalog()  # the local server's /v1/models
        assert "openai/gpt-image-2" in {e.id for e in found} and server.url.split("/")[2] in studio.search.status.value
    finally:
        studio.close()


def test_compares_endpoint_axis_takes_catalog_picks(fal_platform: FalPlatform) -> None:
    entries = {e.id: e for e in _platform().search("flux")}
    flux = entries[FLUX]
    sweep = fs.sweep({"prompt": "a fox"}, endpoint=[flux, "openai/gpt-image-2"], image_size=["1024x1024"])
    assert [v.endpoint for v in sweep] == [FLUX, "openai/gpt-image-2"]
    assert FLUX in sibling_endpoints("openai/gpt-image-2")  # Compare's endpoint checkboxes offer it
    compare = fs.Compare({"prompt": "a fox"}, endpoint=flux)  # type: ignore[arg-type]
    try:
        assert compare.sweep is not None and compare.sweep.endpoints == (FLUX,)
    finally:
        compare.close()
