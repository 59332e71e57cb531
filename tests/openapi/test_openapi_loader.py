"""``fs.endpoints.get`` for unregistered ids: fal's OpenAPI document fetched (from a loopback copy of the service),
cached on disk, used offline and by other processes, refreshed on demand; clear errors when it cannot be had."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

import falstudio as fs
from falstudio.endpoints import BadSchemaError, SchemaUnavailableError, UnknownEndpointError, loader
from falstudio.testing import OpenAPIServer

from ._documents import CLIP_FLOW, PIXEL_FLOW, PIXEL_FLOW_EDIT


def cache_file(endpoint_id: str) -> Path:
    return Path(os.environ["FALSTUDIO_CACHE_DIR"], "openapi", *endpoint_id.split("/")).with_suffix(".json")


def test_load_types_the_endpoint_and_caches_its_document(
    openapi: OpenAPIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "clock", lambda: datetime(2026, 12, 2, 9, 30, tzinfo=UTC))
    spec = fs.endpoints.get(PIXEL_FLOW)
    assert spec.id == PIXEL_FLOW and spec.kind == "text-to-image" and spec.prices is None
    assert "Schema fetched 2026-12-02 09:30 UTC" in spec.note
    assert str(spec.estimate_cost({"prompt": "a fox"})) == "no price known"
    entry = json.loads(cache_file(PIXEL_FLOW).read_text())
    assert entry["fetched_at"] == "2026-12-02T09:30:00+00:00" and entry["endpoint_id"] == PIXEL_FLOW
    assert entry["url"] == f"{openapi.url}?endpoint_id={PIXEL_FLOW}" and entry["document"]["openapi"] == "3.0.4"
    assert fs.endpoints.get(PIXEL_FLOW) is spec and fs.endpoints.find(PIXEL_FLOW) is spec
    assert spec in fs.endpoints.specs()
    loader.forget()
    assert fs.endpoints.get(PIXEL_FLOW).input_model.model_fields.keys() == spec.input_model.model_fields.keys()
    assert openapi.hits[PIXEL_FLOW] == 1  # memory, then the disk cache: one fetch in all


def test_an_endpoint_with_a_sub_path_has_its_own_file(openapi: OpenAPIServer) -> None:
    edit = fs.endpoints.get(PIXEL_FLOW_EDIT)
    base = fs.endpoints.get(PIXEL_FLOW)
    assert (edit.kind, base.kind) == ("image-edit", "text-to-image")
    assert cache_file(PIXEL_FLOW_EDIT).is_file() and cache_file(PIXEL_FLOW).is_file()
    assert "image_url" in edit.input_model.model_fields and "image_url" not in base.input_model.model_fields


def test_a_second_process_uses_the_cache_with_the_server_stopped(openapi: OpenAPIServer) -> None:
    fields = list(fs.endpoints.get(PIXEL_FLOW).input_model.model_fields)
    openapi.stop()
    code = textwrap.dedent(f"""
        import json, falstudio as fs
        spec = fs.endpoints.get({PIXEL_FLOW!r})
        request = spec.validate({{"prompt": "a fox", "image_size": {{"width": 640, "height": 480}}}})
        print(json.dumps([spec.kind, list(spec.input_model.model_fields), request.payload()]))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    kind, names, payload = json.loads(done.stdout)
    assert (kind, names) == ("text-to-image", fields)
    assert payload == {"prompt": "a fox", "image_size": {"width": 640, "height": 480}}


def test_refresh_fetches_again_and_replaces_the_cached_copy(openapi: OpenAPIServer) -> None:
    old = fs.endpoints.get(PIXEL_FLOW)
    schema = openapi.documents[PIXEL_FLOW]["components"]["schemas"]["PixelFlowInput"]
    schema["properties"]["negative_prompt"] = {"type": "string", "title": "Negative Prompt", "default": ""}
    assert "negative_prompt" not in fs.endpoints.get(PIXEL_FLOW).input_model.model_fields  # cached until refreshed
    new = fs.endpoints.refresh(PIXEL_FLOW)
    assert "negative_prompt" in new.input_model.model_fields and new is not old
    assert fs.endpoints.get(PIXEL_FLOW) is new
    loader.forget()
    assert "negative_prompt" in fs.endpoints.get(PIXEL_FLOW).input_model.model_fields  # the file was replaced
    openapi.stop()
    with pytest.raises(SchemaUnavailableError):
        fs.endpoints.refresh(PIXEL_FLOW)
    assert "negative_prompt" in json.dumps(json.loads(cache_file(PIXEL_FLOW).read_text()))  # kept as it was


@pytest.mark.parametrize(
    ("reply", "problem"),
    [(b"<html>oops</html>", "is not JSON"), (b'{"detail": "maintenance"}', "not an OpenAPI document")],
)
def test_a_broken_document_is_a_clear_error_and_is_not_cached(
    openapi: OpenAPIServer, reply: bytes, problem: str
) -> None:
    openapi.documents[PIXEL_FLOW] = reply
    with pytest.raises(BadSchemaError) as info:
        fs.endpoints.get(PIXEL_FLOW)
    assert problem in str(info.value) and "nothing was cached" in str(info.value)
    assert not cache_file(PIXEL_FLOW).exists() and fs.endpoints.find(PIXEL_FLOW) is None


def test_an_id_fal_does_not_know_is_an_unknown_endpoint(openapi: OpenAPIServer) -> None:
    with pytest.raises(UnknownEndpointError) as info:
        fs.endpoints.get("fal-ai/gpt-image-1-mini/edits")
    assert type(info.value) is UnknownEndpointError
    message = str(info.value)
    assert "fal does not know it" in message and "HTTP 404" in message
    assert "Did you mean 'fal-ai/gpt-image-1-mini/edit'?" in message
    assert not cache_file("fal-ai/gpt-image-1-mini/edits").exists()


def test_no_network_and_no_cache_says_so_and_how_to_fix_it() -> None:
    with pytest.raises(SchemaUnavailableError) as info:
        fs.endpoints.get(PIXEL_FLOW)  # FALSTUDIO_OPENAPI_URL is a closed loopback port in the tests
    message = str(info.value)
    path = cache_file(PIXEL_FLOW)
    assert "could not be fetched" in message and "no copy is cached" in message
    assert f"save the reply as {path}" in message and f"endpoint_id={PIXEL_FLOW}" in message
    assert "FALSTUDIO_OPENAPI_URL" in message and "validate=False" in message
    assert isinstance(info.value, UnknownEndpointError)  # what every caller of get() already handles


def test_an_air_gapped_user_can_save_the_document_by_hand(openapi: OpenAPIServer) -> None:
    document = openapi.documents[PIXEL_FLOW]
    openapi.stop()
    path = cache_file(PIXEL_FLOW)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(document))  # the raw reply of fal's URL, saved under the name the error gives
    spec = fs.endpoints.get(PIXEL_FLOW)
    assert spec.kind == "text-to-image" and f"saved by hand as {path}" in spec.note


def test_a_corrupt_cached_copy_is_fetched_again(openapi: OpenAPIServer) -> None:
    path = cache_file(PIXEL_FLOW)
    path.parent.mkdir(parents=True)
    path.write_text("{truncated")
    assert fs.endpoints.find(PIXEL_FLOW) is None
    assert fs.endpoints.get(PIXEL_FLOW).id == PIXEL_FLOW
    assert json.loads(path.read_text())["endpoint_id"] == PIXEL_FLOW


def test_malformed_ids_fail_before_any_request(openapi: OpenAPIServer) -> None:
    for bad in ("flux", "../../etc/passwd", "a/../b", "owner/app?x=1", " owner/app"):
        with pytest.raises(UnknownEndpointError, match="not a fal endpoint id"):
            fs.endpoints.get(bad)
    assert sum(openapi.hits.values()) == 0


def test_other_categories_load_too(openapi: OpenAPIServer) -> None:
    spec = fs.endpoints.get(CLIP_FLOW)
    assert spec.kind == "other" and "made for images" in spec.note


def test_loading_keeps_import_cheap(openapi: OpenAPIServer) -> None:
    code = "import sys, falstudio as fs; print(sorted(m for m in ('httpx', 'urllib.request') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_an_unusable_cached_copy_and_no_network_say_both() -> None:
    path = cache_file(PIXEL_FLOW)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(SchemaUnavailableError) as info:
        fs.endpoints.get(PIXEL_FLOW)  # FALSTUDIO_OPENAPI_URL is a closed loopback port in the tests
    message = str(info.value)
    assert f"the cached copy is unusable (cannot read {path}" in message and "no copy is cached" not in message
