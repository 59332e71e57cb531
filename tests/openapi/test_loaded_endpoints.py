"""Endpoints typed from fal's schema, end to end offline: the client (validation, the validate=False escape hatch),
the local server (fal-shaped 422s, the common fields on the offline engines), history, the form, the Studio,
sweeps and Compare, copy-as-code."""

from __future__ import annotations

import asyncio
import io
import math
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

import falstudio as fs
from falstudio.client import Client, errors
from falstudio.endpoints import loader
from falstudio.local import LocalServer
from falstudio.testing import OpenAPIServer
from falstudio.widgets import Compare, RequestForm, Studio

from ._documents import CLIP_FLOW, PIXEL_FLOW, PIXEL_FLOW_EDIT

MINI = "fal-ai/gpt-image-1-mini"


@pytest.fixture
def client(server: LocalServer, openapi: OpenAPIServer) -> Iterator[Client]:
    with Client(server.key, base_url=server.url) as c:
        yield c


def _png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 60, 40)).save(out, "PNG")
    return out.getvalue()


# ---- client and local server ------------------------------------------------------------------------------------


def test_a_loaded_endpoint_runs_offline_with_its_common_fields(client: Client) -> None:
    result = client.subscribe(
        PIXEL_FLOW,
        {
            "prompt": "a lighthouse at sunset",
            "image_size": "square_hd",
            "num_images": 2,
            "output_format": "png",
            "seed": 42,
            "guidance_scale": 7.0,
        },
        with_logs=True,
    )
    assert [(i.width, i.height, i.content_type) for i in result.images] == [(1024, 1024, "image/png")] * 2
    assert str(result.cost) == "no price known"
    ignored = [line.message for line in result.logs if line.message.startswith("Ignored offline")]
    assert ignored == ["Ignored offline (the engine cannot act on them): guidance_scale, seed"]  # said once
    record = fs.history(limit=1)[0]
    assert record.endpoint == PIXEL_FLOW and record.state == "done" and record.request["seed"] == 42
    assert record.cost_estimate == "no price known" and record.cost_amount is None


def test_sizes_as_objects_and_the_default_preset(client: Client) -> None:
    custom = client.subscribe(PIXEL_FLOW, {"prompt": "a fox", "image_size": {"width": 1536, "height": 1024}})
    assert (custom.images[0].width, custom.images[0].height) == (1536, 1024)
    assert custom.images[0].content_type == "image/jpeg"  # the schema's default output_format
    plain = client.subscribe(PIXEL_FLOW, {"prompt": "a fox"}, with_logs=True)  # default landscape_4_3: 1024x768
    drawn = (plain.images[0].width, plain.images[0].height)
    if drawn != (1024, 768):  # engines that draw only GPT Image sizes say what they drew instead
        assert any("requested 1024x768" in line.message for line in plain.logs)


def test_an_edit_endpoint_with_one_image_and_a_mask(client: Client) -> None:
    mask = io.BytesIO()
    Image.new("L", (64, 48), 255).save(mask, "PNG")
    result = client.subscribe(
        PIXEL_FLOW_EDIT,
        {"prompt": "make it black and white", "image_url": _png(), "mask_url": mask.getvalue(), "strength": 0.5},
        with_logs=True,
    )
    assert len(result.images) == 1
    messages = [line.message for line in result.logs]
    assert any(m.startswith("Loaded input image 1/1") for m in messages) and any("Loaded mask" in m for m in messages)
    assert "Ignored offline (the engine cannot act on them): strength" in messages


def test_unknown_fields_suggest_a_name_and_the_escape_hatch(client: Client) -> None:
    with pytest.raises(errors.InvalidRequestError) as info:
        client.submit(PIXEL_FLOW, {"prompt": "a fox", "num_inference_step": 4})
    error = info.value
    assert error.status_code is None  # checked locally, nothing sent
    assert "did you mean 'num_inference_steps'" in str(error)
    assert "validate=False" in error.hint and f"refresh('{PIXEL_FLOW}')" in error.hint


def test_validate_false_sends_the_arguments_as_given(client: Client, server: LocalServer) -> None:
    with pytest.raises(errors.InvalidRequestError) as info:  # the local server checks with fal's schema too
        client.submit(PIXEL_FLOW, {"prompt": "a fox", "brand_new_field": 1}, validate=False)
    assert info.value.status_code == 422 and info.value.fields() == ["brand_new_field"]  # so it was sent
    with pytest.raises(errors.InvalidRequestError, match="not JSON") as local:
        client.submit(PIXEL_FLOW, {"prompt": "a fox", "ratio": math.nan}, validate=False)
    assert local.value.status_code is None
    result = client.run(PIXEL_FLOW, {"prompt": "a fox", "image_size": "square"}, validate=False)
    assert result.images and str(result.cost) == "no price known"  # the cached schema still prices it


def test_the_server_answers_fal_shaped_422s_from_the_derived_model(server: LocalServer, openapi: OpenAPIServer) -> None:
    fs.endpoints.get(PIXEL_FLOW)
    headers = {"Authorization": f"Key {server.key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
        reply = http.post(f"/{PIXEL_FLOW}", json={"prompt": "x", "num_inference_steps": 99, "acceleration": "warp"})
        assert reply.status_code == 422
        detail = {tuple(d["loc"]): d["type"] for d in reply.json()["detail"]}
        assert detail == {("body", "num_inference_steps"): "less_than_equal", ("body", "acceleration"): "literal_error"}
        video = http.post(f"/{CLIP_FLOW}", json={"prompt": "x"})
        assert video.status_code == 404 and "draws images only" in video.json()["detail"]


def test_the_server_learns_endpoints_from_the_cache_with_fal_unreachable(
    server: LocalServer, openapi: OpenAPIServer
) -> None:
    fs.endpoints.get(PIXEL_FLOW)  # cached on disk by this process
    openapi.stop()
    loader.forget()  # as if the server ran in another process: it has only the disk cache
    with Client(server.key, base_url=server.url) as client:
        assert client.subscribe(PIXEL_FLOW, {"prompt": "a fox", "image_size": "square_hd"}).images


def test_fal_client_can_call_a_loaded_endpoint(
    server: LocalServer, openapi: OpenAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The official client, pointed at the local server (as in tests/local), on an endpoint the server loads."""
    fal_module = pytest.importorskip("fal_client.client")
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", server.url + "/")
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", server.url + "/run/")
    official = fal_module.SyncClient(key=server.key)
    try:
        out = official.run(PIXEL_FLOW, {"prompt": "a fox", "image_size": "square_hd"})
    finally:
        official._client.close()
    assert out["images"][0]["width"] == 1024


def test_an_id_fal_does_not_know_stops_before_sending(client: Client) -> None:
    with pytest.raises(errors.EndpointNotFoundError) as info:
        client.submit("test-org/no-such-model", {"prompt": "x"})
    assert "fal does not know it" in str(info.value) and "validate=False" in str(info.value)


# ---- widgets, sweeps, Compare ------------------------------------------------------------------------------------


def test_the_form_follows_fals_schema(openapi: OpenAPIServer) -> None:
    form = RequestForm(PIXEL_FLOW)
    assert list(form.controls)[:4] == ["prompt", "image_size", "num_inference_steps", "seed"]
    steps = form.controls["num_inference_steps"].spec
    assert (steps.label, steps.minimum, steps.maximum, steps.default) == ("Number of inference steps", 1, 50, 28)
    assert form.controls["acceleration"].spec.options == (("none", "none"), ("regular", "regular"), ("high", "high"))
    assert form.controls["seed"].spec.nullable and "same seed" in form.controls["seed"].spec.description
    cfg = form.controls["guidance_scale"].input  # the browser snaps to the step grid: the default must sit on it
    assert (cfg.min, cfg.max, cfg.value, cfg.step) == (1, 20, 3.5, 0.1)
    assert form.controls["style"].spec.kind == "json" and form.controls["loras"].get() == []
    form.value = {"prompt": "a fox", "image_size": {"width": 640, "height": 480}, "seed": 3}
    assert form.is_valid and form.value.payload()["image_size"] == {"width": 640, "height": 480}
    assert "Cost: <b>no price known</b>" in form.cost_label.value
    assert "OpenAPI schema (category text-to-image); no price known" in form.header.value
    code = form.to_code()
    assert f'"{PIXEL_FLOW}"' in code and '"seed": 3' in code and '"width": 640' in code
    assert "made for images" in RequestForm(CLIP_FLOW).header.value


def test_studio_loads_other_endpoints_and_shows_errors(server: LocalServer, openapi: OpenAPIServer) -> None:
    studio = Studio(Client(server.key, base_url=server.url), endpoint=MINI)
    try:
        other = [v for _, v in studio.picker.options if v not in fs.endpoints.REGISTRY]
        assert len(other) == 1
        studio.picker.value = other[0]
        assert studio.other_box.layout.display == "flex" and studio.endpoint == MINI  # the form stays until one loads
        studio.other_id.value = "test-org/nope"
        studio.other_button.click()
        assert studio.other_loading.wait(60)  # loaded off the kernel's thread
        assert "fal does not know it" in studio.other_status.value and studio.endpoint == MINI
        assert studio.picker.value == MINI  # the picker is back on the form's endpoint
        studio.other_id.value = f" {PIXEL_FLOW} "
        studio.other_button.click()
        assert studio.other_loading.wait(60)
        assert studio.endpoint == PIXEL_FLOW and studio.form.endpoint_id == PIXEL_FLOW
        assert studio.other_box.layout.display == "none" and "fal schema" in studio.status_chip.value
        assert studio.form.controls["prompt"].get() == "a lighthouse on a cliff at sunset"  # carried over
        assert PIXEL_FLOW in dict(studio.picker.options).values()
        job = studio.click_generate()
        assert job is not None
        job.wait(60)
        assert job.state == "done" and len(studio.gallery) == 1
        studio.refresh_history()
        again = studio._history_box.children[0].children[1]
        assert not again.disabled  # a loaded endpoint can be run again
        studio.endpoint = MINI
        again.click()
        assert studio.endpoint == PIXEL_FLOW
    finally:
        studio.close()


def test_use_as_input_finds_the_loaded_edit_endpoint(openapi: OpenAPIServer) -> None:
    from falstudio.widgets.studio import edit_endpoint_for

    base = fs.endpoints.get(PIXEL_FLOW)
    assert edit_endpoint_for(base) is None  # no edit endpoint of that app loaded yet
    edit = fs.endpoints.get(PIXEL_FLOW_EDIT)
    assert edit_endpoint_for(base) is edit
    assert edit_endpoint_for(fs.endpoints.get(MINI)).id == "fal-ai/gpt-image-1-mini/edit"


def test_a_sweep_across_a_registered_and_a_loaded_endpoint_runs_offline_in_compare(
    server: LocalServer, openapi: OpenAPIServer, tmp_path: object
) -> None:
    variations = fs.sweep({"prompt": "a red fox in the snow"}, endpoint=[MINI, PIXEL_FLOW], num_images=[1, 2])
    assert len(variations) == 4
    cost = variations.cost
    assert not cost.known and cost.priced == 2 and cost.unpriced == 2
    assert str(cost).endswith("+ no price known for 2 requests") and "total is unknown" in cost.explanation
    with Client(server.key, base_url=server.url) as client:
        compare = Compare(variations, client=client)
        try:
            assert "the total is unknown" in compare.summary.value
            with pytest.raises(Exception, match="no price known"):
                compare.run()  # confirm_above cannot be checked against unknown prices
            compare.run(confirm=True)
            records = compare.wait(120)
            assert [r["state"] for r in records] == ["done"] * 4
            assert [len(r["image_urls"]) for r in records] == [1, 2, 1, 2]
            assert [r["estimate"] == "no price known" for r in records] == [False, False, True, True]
            assert records[2]["cost_usd"] is None and records[0]["cost_usd"] > 0
            assert "no price known" in repr(compare)
            path = compare.export_html(tmp_path / "compare.html")  # type: ignore[operator]
            assert "the total is unknown" in path.read_text()
        finally:
            compare.close()
    assert {r.endpoint for r in fs.history(limit=4)} == {MINI, PIXEL_FLOW}


def test_compare_offers_loaded_endpoints_of_the_same_kind(openapi: OpenAPIServer) -> None:
    fs.endpoints.get(PIXEL_FLOW)
    fs.endpoints.get(PIXEL_FLOW_EDIT)
    compare = Compare({"prompt": "a fox"}, endpoint=MINI)
    try:
        endpoints = list(compare.picker._boxes["endpoint"])
        assert PIXEL_FLOW in endpoints and PIXEL_FLOW_EDIT not in endpoints
        compare.picker.set_checked("endpoint", [MINI, PIXEL_FLOW])
        assert compare.sweep.endpoints == (PIXEL_FLOW, MINI)  # live endpoints first
    finally:
        compare.close()


def test_the_async_client_validates_too_and_has_the_escape_hatch(server: LocalServer, openapi: OpenAPIServer) -> None:
    async def main() -> tuple[str, int]:
        async with fs.AsyncClient(server.key, base_url=server.url) as client:
            with pytest.raises(errors.InvalidRequestError, match="did you mean 'seed'"):
                await client.submit(PIXEL_FLOW, {"prompt": "a fox", "sed": 1})
            with pytest.raises(errors.InvalidRequestError) as sent:
                await client.run(PIXEL_FLOW, {"prompt": "a fox", "sed": 1}, validate=False)
            result = await client.subscribe(PIXEL_FLOW, {"prompt": "a fox", "image_size": "square"}, validate=False)
            return result.endpoint, sent.value.status_code or 0

    endpoint, status = asyncio.run(main())
    assert (endpoint, status) == (PIXEL_FLOW, 422)


def test_an_endpoint_that_returns_one_image(client: Client, openapi: OpenAPIServer) -> None:
    document = openapi.documents[PIXEL_FLOW_EDIT]
    document["components"]["schemas"]["PixelFlowEditOutput"] = {
        "type": "object",
        "properties": {"image": {"$ref": "#/components/schemas/ImageFile"}},
        "required": ["image"],
    }
    result = client.subscribe(PIXEL_FLOW_EDIT, {"prompt": "make it sepia", "image_url": _png()})
    assert set(result.data) == {"image"} and result.images[0].url == result.data["image"]["url"]


def test_under_a_budget_a_loaded_endpoint_counts_as_unpriced(server: LocalServer, openapi: OpenAPIServer) -> None:
    strict = Client(server.key, base_url=server.url, budget=5)
    with strict, pytest.raises(errors.BudgetExceededError, match=f"knows no price for {PIXEL_FLOW}"):
        strict.submit(PIXEL_FLOW, {"prompt": "a fox"})
    with Client(server.key, base_url=server.url, budget=5, allow_unpriced=True) as lenient:
        assert lenient.subscribe(PIXEL_FLOW, {"prompt": "a fox"}).images
