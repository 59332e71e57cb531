"""Building request and output models from fal-shaped OpenAPI documents (no I/O)."""

from __future__ import annotations

import copy
import typing
from typing import Any

import pytest
from pydantic import ValidationError

from falstudio.endpoints import BadSchemaError, ImageFile, RequestModel, spec_from_openapi
from falstudio.endpoints.sizes import ImageSize

from ._documents import CLIP_FLOW, PIXEL_FLOW, PIXEL_FLOW_EDIT, TEST_ORG, fal_document


def _doc(endpoint_id: str = PIXEL_FLOW) -> dict[str, Any]:
    return copy.deepcopy(TEST_ORG[endpoint_id])


def _input(doc: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = doc["components"]["schemas"][name]
    return schema


def test_the_spec_says_what_fal_says() -> None:
    spec = spec_from_openapi(_doc())
    assert (spec.id, spec.kind, spec.category, spec.status) == (PIXEL_FLOW, "text-to-image", "text-to-image", "active")
    assert spec.docs_url == f"https://fal.ai/models/{PIXEL_FLOW}/api"
    assert spec.prices is None and "no price known" in spec.note
    assert issubclass(spec.input_model, RequestModel)
    assert spec_from_openapi(_doc(PIXEL_FLOW_EDIT)).kind == "image-edit"


def test_field_order_follows_x_fal_order_properties() -> None:
    doc = _doc()
    schema = _input(doc, "PixelFlowInput")
    schema["properties"] = dict(reversed(list(schema["properties"].items())))  # the dict order must not matter
    schema["x-fal-order-properties"] = ["seed", "prompt", "image_size"]  # then the rest, in document order
    fields = list(spec_from_openapi(doc).input_model.model_fields)
    assert fields[:3] == ["seed", "prompt", "image_size"]
    assert set(fields) == set(schema["properties"])


def test_types_enums_defaults_and_limits() -> None:
    model = spec_from_openapi(_doc()).input_model
    f = model.model_fields
    assert f["prompt"].is_required() and f["prompt"].title == "Prompt"
    assert f["prompt"].description == "The prompt to generate an image from."
    assert {type(m).__name__: m for m in f["prompt"].metadata}["MaxLen"].max_length == 2000
    assert f["num_inference_steps"].default == 28 and f["guidance_scale"].default == 3.5
    assert typing.get_args(f["acceleration"].annotation) == ("none", "regular", "high")
    assert f["acceleration"].default == "none" and f["enable_safety_checker"].default is True
    request = model(prompt="a fox")
    assert request.payload() == {"prompt": "a fox"}  # defaults are fal's business: only set fields are sent
    for bad in (
        {"num_inference_steps": 0},
        {"num_inference_steps": 51},
        {"guidance_scale": 0.5},
        {"acceleration": "turbo"},
        {"prompt": ""},
        {"prompt": "x" * 2001},
    ):
        with pytest.raises(ValidationError) as info:
            model(**{"prompt": "a fox", **bad})
        assert next(iter(bad)) in str(info.value)


def test_anyof_with_null_is_optional_and_unset_by_default() -> None:
    model = spec_from_openapi(_doc()).input_model
    seed = model.model_fields["seed"]
    assert not seed.is_required() and seed.default is None
    assert model(prompt="x", seed=None).payload() == {"prompt": "x"}
    assert model(prompt="x", seed=7).payload() == {"prompt": "x", "seed": 7}
    with pytest.raises(ValidationError):
        model(prompt="x", seed="seven")


def test_presets_or_an_imagesize_object() -> None:
    model = spec_from_openapi(_doc()).input_model
    annotation = model.model_fields["image_size"].annotation
    literal, size = typing.get_args(annotation)
    assert typing.get_origin(literal) is typing.Literal and "landscape_4_3" in typing.get_args(literal)
    assert size is ImageSize  # the shared class, so widgets recognise the size field whichever way it was typed
    assert model(prompt="x", image_size="square_hd").image_size == "square_hd"
    custom = model(prompt="x", image_size={"width": 768, "height": 512})
    assert custom.image_size == ImageSize(width=768, height=512)
    assert custom.payload()["image_size"] == {"width": 768, "height": 512}
    with pytest.raises(ValidationError):
        model(prompt="x", image_size="huge")


def test_nested_objects_and_arrays_of_them() -> None:
    model = spec_from_openapi(_doc()).input_model
    request = model(prompt="x", loras=[{"path": "https://x.test/lora.safetensors", "scale": 0.5}])
    assert request.payload()["loras"] == [{"path": "https://x.test/lora.safetensors", "scale": 0.5}]
    assert model(prompt="x", style={"strength": 0.2}).payload()["style"] == {"strength": 0.2}
    for bad in (
        {"loras": [{"scale": 1}]},
        {"loras": [{"path": "p", "scale": 9}]},
        {"loras": [{"path": "p"}] * 4},
        {"loras": [{"path": "p", "sclae": 1}]},
        {"style": {"strength": 2}},
    ):
        with pytest.raises(ValidationError):
            model(prompt="x", **bad)


def test_unknown_fields_are_named_with_a_suggestion() -> None:
    model = spec_from_openapi(_doc()).input_model
    with pytest.raises(ValidationError, match="unknown field 'num_inference_step' for this endpoint; did you mean"):
        model(prompt="x", num_inference_step=3)


def test_openapi_30_and_31_spellings() -> None:
    doc = _doc()
    props = _input(doc, "PixelFlowInput")["properties"]
    props["strength"] = {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1}  # 3.0
    props["count"] = {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}  # 3.1
    props["label"] = {"type": ["string", "null"], "maxLength": 5}
    props["mode"] = {"allOf": [{"$ref": "#/components/schemas/Mode"}], "default": "fast"}
    doc["components"]["schemas"]["Mode"] = {"enum": ["fast", "slow"], "type": "string"}
    model = spec_from_openapi(doc).input_model
    model(prompt="x", strength=0.5, count=9, label=None, mode="slow")
    for bad in ({"strength": 0}, {"count": 0}, {"count": 10}, {"label": "toolong"}, {"mode": "medium"}):
        with pytest.raises(ValidationError):
            model(prompt="x", **bad)
    assert model.model_fields["mode"].default == "fast"


def test_output_model_from_the_result_schema() -> None:
    spec = spec_from_openapi(_doc())
    assert typing.get_args(spec.output_model.model_fields["images"].annotation) == (ImageFile,)
    out = spec.output_model.model_validate({"images": [{"url": "https://x.test/a.png", "seed": 1}], "timings": {}})
    assert out.model_extra == {"timings": {}}  # tolerant of what fal adds


def test_other_categories_load_and_say_the_widgets_are_for_images() -> None:
    spec = spec_from_openapi(_doc(CLIP_FLOW))
    assert spec.kind == "other" and spec.category == "text-to-video"
    assert "made for images" in spec.note
    assert "video" in spec.output_model.model_fields


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("openapi"), "not an OpenAPI document"),
        (lambda d: d["components"].pop("schemas"), "no components.schemas"),
        (lambda d: d.update(components=["not", "an", "object"]), "no components.schemas"),
        (
            lambda d: _input(d, "PixelFlowInput").update({"x-fal-order-properties": 5}),
            "unexpected shape",
        ),
        (lambda d: d["paths"].pop(f"/{PIXEL_FLOW}"), "no request schema"),
        (lambda d: d["components"]["schemas"].pop("LoraWeight"), "refers to #/components/schemas/LoraWeight"),
        (lambda d: d["info"]["x-fal-metadata"].update(endpointId="other/model"), "for 'other/model'"),
        (lambda d: _input(d, "PixelFlowInput")["properties"].update({"payload": {"type": "string"}}), "clashes"),
        (lambda d: _input(d, "PixelFlowInput")["properties"].update({"image-size": {"type": "string"}}), "field name"),
    ],
)
def test_broken_documents_say_what_is_wrong(change: Any, problem: str) -> None:
    doc = _doc()
    change(doc)
    with pytest.raises(BadSchemaError) as info:
        spec_from_openapi(doc, PIXEL_FLOW)
    assert problem in str(info.value) and "validate=False" in str(info.value)


def test_a_recursive_schema_stops_at_any_object() -> None:
    node = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Node"}},
    }
    doc = fal_document(
        "test-org/tree",
        "text-to-image",
        "Tree",
        {"prompt": {"type": "string"}, "root": {"$ref": "#/components/schemas/Node"}},
        ["prompt"],
        extra_schemas={"Node": node},
    )
    model = spec_from_openapi(doc).input_model
    assert model(prompt="x", root={"name": "a", "child": {"anything": 1}}).payload()["root"]["child"] == {"anything": 1}


@pytest.mark.parametrize(
    "schemas",
    [
        {"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}},
        {"A": {"anyOf": [{"$ref": "#/components/schemas/A"}, {"type": "null"}]}},
        {"A": {"type": "array", "items": {"$ref": "#/components/schemas/A"}}},
    ],
)
def test_a_ref_cycle_without_an_object_stops_at_any_value(schemas: dict[str, Any]) -> None:
    """Before: RecursionError, and the whole document refused."""
    doc = fal_document(
        "test-org/cycle",
        "text-to-image",
        "Cycle",
        {"prompt": {"type": "string"}, "a": {"$ref": "#/components/schemas/A"}},
        ["prompt"],
        extra_schemas=schemas,
    )
    model = spec_from_openapi(doc).input_model
    assert model(prompt="x", a=[[1]]).payload()["a"] == [[1]]
