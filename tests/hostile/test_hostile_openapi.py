"""Hostile OpenAPI documents and replies: each is refused with a clear error naming the document and the limit,
in bounded time and memory (a child process under limits), and nothing refused is ever cached."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._bounded import run_bounded
from ._loopback import Loopback, document_route, drip_route, redirect_route

PATH = "/api/openapi/queue/openapi.json"
REF = "#/components/schemas/"

_GET = """
import os, time
from falstudio import endpoints
from falstudio.endpoints import loader, _schema_cache
loader.TIMEOUT_SECONDS = float(os.environ.get("CASE_TIMEOUT", "15"))
endpoint_id = os.environ["CASE_ID"]
start = time.monotonic()
try:
    endpoints.get(endpoint_id)
    outcome = "built"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
report(
    outcome=outcome,
    seconds=time.monotonic() - start,
    cached=_schema_cache.schema_path(endpoint_id).exists(),
    from_cache=loader.cached(endpoint_id) is not None,
)
"""


def document(endpoint_id: str, schemas: dict[str, Any], fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """A fal-shaped queue document whose Input has ``prompt`` plus ``fields``."""
    properties = {"prompt": {"type": "string", "title": "Prompt"}, **(fields or {})}
    return {
        "openapi": "3.0.4",
        "info": {"title": endpoint_id, "x-fal-metadata": {"endpointId": endpoint_id, "category": "text-to-image"}},
        "paths": {
            f"/{endpoint_id}": {
                "post": {"requestBody": {"content": {"application/json": {"schema": {"$ref": f"{REF}Input"}}}}}
            }
        },
        "components": {"schemas": {"Input": {"type": "object", "properties": properties}, **schemas}},
    }


def fan_out(endpoint_id: str, depth: int) -> dict[str, Any]:
    """Each schema refers to the next twice: typed naively, 2**depth schemas."""
    schemas: dict[str, Any] = {}
    for i in range(depth):
        ref = {"$ref": f"{REF}S{i + 1}"}
        schemas[f"S{i}"] = {"anyOf": [ref, {"type": "array", "items": ref}]}
    schemas[f"S{depth}"] = {"type": "string"}
    return document(endpoint_id, schemas, {"x": {"$ref": f"{REF}S0"}})


def nested(endpoint_id: str, depth: int) -> bytes:
    """Objects inside objects ``depth`` deep (written as text: too deep for json.dumps)."""
    inner = '{"type": "object", "properties": {"a": ' * depth + '{"type": "string"}' + "}}" * depth
    return json.dumps(document(endpoint_id, {}, {"x": "INNER"})).replace('"INNER"', inner).encode()


@pytest.fixture
def service() -> Iterator[Loopback]:
    server = Loopback({})
    yield server
    server.close()


def _run(service: Loopback, endpoint_id: str, **env: str) -> dict[str, Any]:
    return run_bounded(
        _GET,
        env={"FALSTUDIO_OPENAPI_URL": service.url(PATH), "CASE_ID": endpoint_id, **env},
    )


def test_refs_that_fan_out_are_refused_within_a_second_and_not_cached(service: Loopback) -> None:
    service.routes[PATH] = document_route(fan_out("test-org/fan-out", 22))
    for _ in range(2):  # a second process pays nothing more: nothing was cached
        result = _run(service, "test-org/fan-out")
        assert "BadSchemaError" in result["outcome"] and "test-org/fan-out" in result["outcome"]
        assert "fan out" in result["outcome"] and "20,000" in result["outcome"]
        assert result["seconds"] < 5  # the work is bounded (< 1 s on an idle machine; see bench/hostile.py)
        assert not result["cached"] and not result["from_cache"]


def test_a_moderate_fan_out_still_builds(service: Loopback) -> None:
    service.routes[PATH] = document_route(fan_out("test-org/fan-some", 8))
    result = _run(service, "test-org/fan-some")
    assert result["outcome"] == "built" and result["cached"]


@pytest.mark.parametrize(("depth", "said"), [(60, "nest more than 48 levels"), (5_000, "JSON nested too deeply")])
def test_deep_nesting_is_a_clear_error_not_a_recursion_error(service: Loopback, depth: int, said: str) -> None:
    service.routes[PATH] = document_route(nested("test-org/deep", depth))
    result = _run(service, "test-org/deep")
    assert result["outcome"].startswith("BadSchemaError"), result["outcome"]
    assert said in result["outcome"] and not result["cached"]


def test_json_nested_past_the_parser_is_a_clear_error(service: Loopback) -> None:
    service.routes[PATH] = document_route(b'{"openapi": "3.0.4", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    result = _run(service, "test-org/deep-json")
    assert result["outcome"].startswith("BadSchemaError") and "nested too deeply" in result["outcome"]
    assert not result["cached"]


def test_a_dripping_reply_stops_at_one_overall_deadline(service: Loopback) -> None:
    service.routes[PATH] = drip_route(b'{"openapi": "3.0.4"' + b" " * 200 + b"}", every=0.1)
    result = _run(service, "test-org/drip", CASE_TIMEOUT="1")
    assert result["outcome"].startswith("SchemaUnavailableError"), result["outcome"]
    assert "no complete reply within 1 s" in result["outcome"] and "Fix:" in result["outcome"]
    assert result["seconds"] < 3 and not result["cached"]


def test_a_redirect_to_another_host_is_not_followed(service: Loopback) -> None:
    elsewhere = Loopback({PATH: document_route(document("test-org/moved", {}))})
    try:
        service.routes[PATH] = redirect_route(elsewhere.url(PATH + "?endpoint_id=test-org/moved", host="localhost"))
        result = _run(service, "test-org/moved")
        assert "redirect to another host (http://localhost:" in result["outcome"], result["outcome"]
        assert not result["cached"]
        service.routes[PATH] = redirect_route("/same-host" + "?endpoint_id=test-org/moved")  # same host: followed
        service.routes["/same-host"] = document_route(document("test-org/moved", {}))
        assert _run(service, "test-org/moved")["outcome"] == "built"
    finally:
        elsewhere.close()


def _cache_file(endpoint_id: str) -> Path:
    path = Path(os.environ["FALSTUDIO_CACHE_DIR"], "openapi", *endpoint_id.split("/")).with_suffix(".json")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "huge", "deep"])
def test_the_schema_cache_reads_only_sane_regular_files(kind: str) -> None:
    endpoint_id = f"test-org/cache-{kind}"
    path = _cache_file(endpoint_id)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "huge":
        with path.open("wb") as file:
            file.truncate(512 * 1024 * 1024)  # sparse
    else:
        path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    result = run_bounded(
        _GET, env={"CASE_ID": endpoint_id, "FALSTUDIO_OPENAPI_URL": "http://127.0.0.1:9/none"}, seconds=30
    )
    assert not result["from_cache"]  # cached() says None, as documented
    assert result["outcome"].startswith("SchemaUnavailableError") and "the cached copy is unusable" in result["outcome"]
    assert str(path) in result["outcome"]
    assert os.path.lexists(path)  # left for the user to look at


def test_a_default_outside_its_enum_names_the_endpoint_and_field(service: Loopback) -> None:
    quality = {"type": "string", "enum": ["low", "high"], "default": "ultra"}
    service.routes[PATH] = document_route(document("test-org/bad-default", {}, {"quality": quality}))
    result = _run(service, "test-org/bad-default")
    assert result["outcome"].startswith("BadSchemaError")
    assert "test-org/bad-default" in result["outcome"] and "Input.quality" in result["outcome"]
    assert "'ultra'" in result["outcome"] and "one of its 2 allowed values" in result["outcome"]
    assert not result["cached"]


def test_a_default_of_the_wrong_type_names_the_field(service: Loopback) -> None:
    steps = {"type": "integer", "default": "many"}
    service.routes[PATH] = document_route(document("test-org/bad-type", {}, {"steps": steps}))
    result = _run(service, "test-org/bad-type")
    assert "Input.steps" in result["outcome"] and "'many'" in result["outcome"]


def test_a_huge_enum_gives_a_short_message(service: Loopback) -> None:
    style = {"type": "string", "enum": [f"style-{i}" for i in range(100_000)], "default": "nope"}
    service.routes[PATH] = document_route(document("test-org/huge-enum", {}, {"style": style}))
    result = _run(service, "test-org/huge-enum")
    assert result["outcome"].startswith("BadSchemaError") and "Input.style" in result["outcome"]
    assert "100,000" in result["outcome"] and len(result["outcome"]) < 2_000


_SERVE_AND_SUBSCRIBE = """
import httpx
import falstudio as fs
from falstudio.local import LocalServer
server = LocalServer(latency=0, key="test-key").start()
headers = {"authorization": "Key test-key"}
reply = httpx.post(f"{server.url}/test-org/deep", json={"prompt": "x"}, headers=headers, timeout=60)
try:
    fs.Client(base_url=server.url, key="test-key").subscribe("test-org/deep", {"prompt": "x"})
    raised = "nothing"
except Exception as exc:
    raised = f"{type(exc).__name__}: {exc}"
server.stop()
report(status=reply.status_code, detail=reply.json().get("detail"), raised=raised)
"""


def test_the_local_server_and_subscribe_refuse_a_deep_document_clearly(service: Loopback) -> None:
    service.routes[PATH] = document_route(nested("test-org/deep", 5_000))
    result = run_bounded(_SERVE_AND_SUBSCRIBE, env={"FALSTUDIO_OPENAPI_URL": service.url(PATH)})
    assert result["status"] == 404 and "nested too deeply" in result["detail"]
    assert result["raised"].startswith("EndpointNotFoundError") and "nested too deeply" in result["raised"]
    assert "Traceback" not in result["stderr"]


_OFFLINE_CAPS = """
import httpx
from falstudio.local import LocalServer
server = LocalServer(latency=0, key="test-key").start()
headers = {"authorization": "Key test-key"}
replies = {}
for name, body in {
    "huge": {"prompt": "x", "image_size": {"width": 14142, "height": 14142}},
    "many": {"prompt": "x", "num_images": 50},
    "fine": {"prompt": "x", "image_size": {"width": 512, "height": 512}, "num_images": 2},
}.items():
    reply = httpx.post(f"{server.url}/run/test-org/wide", json=body, headers=headers, timeout=120)
    replies[name] = [reply.status_code, reply.json()]
server.stop()
report(**replies)
"""


def test_loaded_endpoints_are_drawn_no_larger_than_registered_ones(service: Loopback) -> None:
    size = {
        "type": "object",
        "properties": {"width": {"type": "integer", "maximum": 14142}, "height": {"type": "integer", "maximum": 14142}},
    }
    fields = {"image_size": {"$ref": f"{REF}ImageSize"}, "num_images": {"type": "integer", "maximum": 100}}
    service.routes[PATH] = document_route(document("test-org/wide", {"ImageSize": size}, fields))
    result = run_bounded(_OFFLINE_CAPS, env={"FALSTUDIO_OPENAPI_URL": service.url(PATH)})
    status, body = result["huge"]
    assert status == 422 and body["detail"][0]["loc"] == ["body", "image_size"]
    assert "14142x14142" in body["detail"][0]["msg"] and "3840" in body["detail"][0]["msg"]
    status, body = result["many"]
    assert (
        status == 422 and body["detail"][0]["loc"] == ["body", "num_images"] and "at most 4" in body["detail"][0]["msg"]
    )
    status, body = result["fine"]
    assert status == 200 and len(body["images"]) == 2


@pytest.mark.parametrize(("count", "said"), [(1_000, "more than 200 object schemas"), (3_000, "defines 3,001 schemas")])
def test_too_many_object_schemas_are_refused(service: Loopback, count: int, said: str) -> None:
    schemas = {f"O{i}": {"type": "object", "properties": {"v": {"type": "string"}}} for i in range(count)}
    fields = {f"f{i}": {"$ref": f"{REF}O{i}"} for i in range(count)}
    service.routes[PATH] = document_route(document("test-org/many", schemas, fields))
    result = _run(service, "test-org/many")
    assert result["outcome"].startswith("BadSchemaError") and said in result["outcome"], result["outcome"][:300]
    assert result["seconds"] < 10 and not result["cached"]
