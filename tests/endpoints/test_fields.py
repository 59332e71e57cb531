"""Field knowledge in one place (``falstudio.endpoints.fields``): the kind of every field of every registered endpoint
and of endpoints loaded from fal's OpenAPI documents, pinned; a model with every kind; the one unwrapper; the cache."""

from __future__ import annotations

import enum
import gc
import weakref
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from falstudio.endpoints import REGISTRY, ImageSize, get, spec_from_openapi
from falstudio.endpoints.fields import Unwrapped, fields_of, is_url_field, unwrap
from falstudio.testing import OpenAPIServer

from ..openapi._documents import CLIP_FLOW, GPT_IMAGE, PIXEL_FLOW, PIXEL_FLOW_EDIT, documents, fal_document


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"
    CYAN = "cyan"
    MAGENTA = "magenta"


class Everything(BaseModel):
    """One field of every kind the form knows, plus the awkward cases (list defaults, exclusive bounds)."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=1000, description="What to draw.")
    title: str = "untitled"
    notes: str = Field("", max_length=500)
    color: Color = Color.GREEN
    style: Literal["a", "b", "c", "d", "e"] = "c"
    mode: Literal["fast", "slow"] = "fast"
    steps: int = Field(20, ge=1, le=50)
    count: int = Field(2, gt=0, lt=5)
    seed: int | None = None
    big: int = Field(100, ge=0, le=10_000)
    strength: float = Field(0.5, ge=0.0, le=1.0)
    guidance: float = 7.5
    tiled: bool = True
    image_urls: list[str] = ["https://example.com/a.png"]
    mask_image_url: str | None = None
    tags: list[str] = Field(default_factory=lambda: ["x", "y"])
    api_key: SecretStr | None = None
    layout: str = Field("grid", json_schema_extra={"ui": "long_text"})


EXPECTED_KINDS = {
    "prompt": "long_text",
    "title": "text",
    "notes": "long_text",
    "color": "choice",
    "style": "choice",
    "mode": "choice",
    "steps": "int",
    "count": "int",
    "seed": "int",
    "big": "int",
    "strength": "float",
    "guidance": "float",
    "tiled": "bool",
    "image_urls": "images",
    "mask_image_url": "image",
    "tags": "json",
    "api_key": "secret",
    "layout": "long_text",
}


def test_every_kind_from_a_model_of_every_kind():
    specs = dict(fields_of(Everything))
    assert list(specs) == list(Everything.model_fields)
    assert {n: s.kind for n, s in specs.items()} == EXPECTED_KINDS
    assert specs["prompt"].required and specs["prompt"].description == "What to draw."
    assert (specs["prompt"].min_length, specs["prompt"].max_length) == (1, 1000)
    assert specs["color"].options == tuple((c.value, c) for c in Color)
    assert specs["color"].default is Color.GREEN
    assert specs["style"].options == tuple((v, v) for v in "abcde")
    assert (specs["steps"].minimum, specs["steps"].maximum) == (1, 50)
    assert (specs["count"].minimum, specs["count"].maximum) == (1, 4), "exclusive int bounds become inclusive"
    assert specs["seed"].nullable and specs["seed"].default is None and not specs["seed"].required
    assert specs["image_urls"].default == ["https://example.com/a.png"]
    assert specs["tags"].fresh_default() == ["x", "y"]
    assert specs["tags"].fresh_default() is not specs["tags"].fresh_default()
    assert specs["api_key"].env_var == "API_KEY"
    assert not any(s.nullable for n, s in specs.items() if n not in ("seed", "mask_image_url", "api_key"))


def test_unknown_ui_override_names_the_field_and_the_kinds():
    class Bad(BaseModel):
        x: str = Field("", json_schema_extra={"ui": "colour-wheel"})

    with pytest.raises(ValueError, match=r"field 'x'.*'colour-wheel'.*choice"):
        fields_of(Bad)


@pytest.mark.parametrize("endpoint_id", list(REGISTRY))
def test_registered_endpoints_map_field_by_field(endpoint_id):
    model = REGISTRY[endpoint_id].input_model
    specs = list(REGISTRY[endpoint_id].fields.values())
    assert [s.name for s in specs] == list(model.model_fields)
    for spec in specs:
        info = model.model_fields[spec.name]
        assert spec.required == info.is_required()
        if not spec.required:
            assert spec.default == info.default
        assert spec.description == (info.description or "")
    kinds = {s.name: s.kind for s in specs}
    assert kinds["prompt"] == "long_text"
    assert kinds.get("image_urls", "images") == "images"
    assert kinds.get("mask_image_url", "image") == "image"
    assert kinds.get("openai_api_key", "secret") == "secret"
    assert kinds.get("num_images") == "int"
    assert kinds["quality"] == "choice"
    custom = endpoint_id.startswith("openai/gpt-image-2")  # presets, auto or {width, height}
    assert kinds["image_size"] == ("size" if custom else "choice")
    if custom:
        size = next(s for s in specs if s.name == "image_size")
        assert [v for _, v in size.options][-1] == "auto" and size.size_rules is not None


# ---- every field's kind (and role), pinned -----------------------------------------------------------------------

_GPT1 = {
    "prompt": ("long_text", "prompt"),
    "image_size": ("choice", ""),
    "background": ("choice", ""),
    "quality": ("choice", ""),
    "num_images": ("int", "count"),
    "output_format": ("choice", ""),
    "sync_mode": ("bool", ""),
}
_IMAGES = {"image_urls": ("images", "images")}
_FIDELITY = {"input_fidelity": ("choice", "")}
_KEY = {"openai_api_key": ("secret", "")}
_GPT2 = {
    "prompt": ("long_text", "prompt"),
    "image_size": ("size", ""),
    "quality": ("choice", ""),
    "num_images": ("int", "count"),
    "output_format": ("choice", ""),
    "sync_mode": ("bool", ""),
}


def _edit(fields: dict[str, tuple[str, str]], *extra: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """``fields`` with the input images after the prompt, then ``extra`` before the count."""
    names = list(fields)
    out = {n: fields[n] for n in names[:1]} | _IMAGES | {n: fields[n] for n in names[1:]}
    for more in extra:
        at = list(out).index("num_images")
        items = list(out.items())
        out = dict(items[:at] + list(more.items()) + items[at:])
    return out


KINDS_OF = {
    "openai/gpt-image-2": _GPT2,
    "openai/gpt-image-2/edit": _edit(_GPT2) | {"mask_url": ("image", "mask")},
    "fal-ai/gpt-image-1/edit-image/byok": {
        **_IMAGES,
        "prompt": ("long_text", "prompt"),
        "image_size": ("choice", ""),
        "num_images": ("int", "count"),
        "quality": ("choice", ""),
        **_FIDELITY,
        **_KEY,
    },
    "fal-ai/gpt-image-1-mini": _GPT1,
    "fal-ai/gpt-image-1-mini/edit": _edit(_GPT1),
    "fal-ai/gpt-image-1/text-to-image": _GPT1,
    "fal-ai/gpt-image-1/text-to-image/byok": {n: k for n, k in _GPT1.items() if n not in ("output_format", "sync_mode")}
    | _KEY,
    "fal-ai/gpt-image-1/edit-image": _edit(_GPT1, _FIDELITY),
    "fal-ai/gpt-image-1.5": _GPT1,
    "fal-ai/gpt-image-1.5/edit": _edit(_GPT1, _FIDELITY) | {"mask_image_url": ("image", "mask")},
}


def kinds(fields: Any) -> dict[str, tuple[str, str]]:
    return {name: (f.kind, f.role) for name, f in fields.items()}


def test_every_registered_endpoint_is_pinned() -> None:
    assert set(KINDS_OF) == set(REGISTRY)


@pytest.mark.parametrize("endpoint_id", list(REGISTRY))
def test_every_field_of_a_registered_endpoint_has_its_kind(endpoint_id: str) -> None:
    got = kinds(REGISTRY[endpoint_id].fields)
    assert got == KINDS_OF[endpoint_id] and list(got) == list(KINDS_OF[endpoint_id])  # kinds, roles and order


@pytest.mark.parametrize("endpoint_id", list(GPT_IMAGE))
def test_fals_document_of_a_registered_endpoint_gives_the_same_kinds(endpoint_id: str) -> None:
    """A GPT Image endpoint typed from fal's schema gets the kinds its hand-written row gets."""
    loaded = spec_from_openapi(GPT_IMAGE[endpoint_id], endpoint_id)
    assert kinds(loaded.fields) == KINDS_OF[endpoint_id]
    hand, theirs = REGISTRY[endpoint_id].fields, loaded.fields
    for name in ("image_size", "quality"):
        assert set(theirs[name].choices) == set(hand[name].choices), name  # fal's order may differ


LOADED = {
    PIXEL_FLOW: {
        "prompt": ("long_text", "prompt"),
        "image_size": ("size", ""),
        "num_inference_steps": ("int", ""),
        "seed": ("int", "seed"),
        "guidance_scale": ("float", ""),
        "num_images": ("int", "count"),
        "output_format": ("choice", ""),
        "acceleration": ("choice", ""),
        "loras": ("json", ""),
        "style": ("json", ""),
        "enable_safety_checker": ("bool", ""),
    },
    PIXEL_FLOW_EDIT: {
        "prompt": ("long_text", "prompt"),
        "image_url": ("image", "images"),
        "mask_url": ("image", "mask"),
        "strength": ("float", ""),
        "num_images": ("int", "count"),
        "output_format": ("choice", ""),
        "sync_mode": ("bool", ""),
    },
    CLIP_FLOW: {"prompt": ("long_text", "prompt")},
}


@pytest.fixture
def openapi(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAPIServer]:
    with OpenAPIServer(documents()) as service:
        monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", service.url)
        yield service


def test_every_field_of_endpoints_loaded_from_openapi_has_its_kind(openapi: OpenAPIServer) -> None:
    for endpoint_id, expected in LOADED.items():
        got = kinds(get(endpoint_id).fields)
        assert got == expected and list(got) == list(expected), endpoint_id
    pixel = get(PIXEL_FLOW).fields
    steps, cfg, size = pixel["num_inference_steps"], pixel["guidance_scale"], pixel["image_size"]
    assert (steps.label, steps.minimum, steps.maximum, steps.default, steps.required) == (
        "Number of inference steps",
        1,
        50,
        28,
        False,
    )
    assert (cfg.label, cfg.minimum, cfg.maximum) == ("Guidance scale (CFG)", 1, 20)
    assert size.choices[:2] == ("square_hd", "square") and size.unit == "px" and size.default == "landscape_4_3"
    assert pixel["seed"].nullable and "same seed" in pixel["seed"].description
    assert pixel["acceleration"].choices == ("none", "regular", "high")
    assert pixel["loras"].max_length == 3 and pixel["prompt"].max_length == 2000
    assert pixel["num_images"].unit == "images" and pixel["prompt"].required
    assert openapi.hits[PIXEL_FLOW] == 1


# ---- computed once ----------------------------------------------------------------------------------------------


def test_fields_are_computed_once_per_model_and_let_go_with_it() -> None:
    spec = REGISTRY["openai/gpt-image-2"]
    assert spec.fields is spec.fields is fields_of(spec.input_model)
    with pytest.raises(TypeError):
        spec.fields["prompt"] = spec.fields["quality"]  # type: ignore[index]

    class Passing(BaseModel):
        prompt: str

    assert fields_of(Passing)["prompt"].kind == "long_text"
    gone = weakref.ref(Passing)
    del Passing
    gc.collect()
    assert gone() is None  # the cache holds no model alive (loaded endpoints come and go)


# ---- the one unwrapper ------------------------------------------------------------------------------------------


def test_unwrap_takes_annotated_and_optional_apart() -> None:
    typed = unwrap(Annotated[int | None, Field(ge=1, le=4)])
    assert typed.members == (int,) and typed.single is int and typed.nullable
    assert [getattr(m, "ge", None) or getattr(m, "le", None) for m in typed.metadata] == [1, 4]
    inner = unwrap(Annotated[str, Field(max_length=5)] | None)
    assert inner.single is str and inner.nullable and inner.metadata[0].max_length == 5
    union = unwrap(Annotated[Literal["auto"] | ImageSize, "x"] | None)
    assert union.members == (Literal["auto"], ImageSize) and union.single is None and union.nullable
    assert union.metadata == ("x",)  # the layer around the whole type; a union's members keep theirs
    assert unwrap(str) == Unwrapped((str,), False, ())


def test_an_optional_constraint_inside_the_union_still_bounds_the_field() -> None:
    class Model(BaseModel):
        steps: Annotated[int, Field(ge=1, le=8)] | None = None
        label: Annotated[str, Field(max_length=300)] | None = None

    fields = fields_of(Model)
    assert (fields["steps"].minimum, fields["steps"].maximum, fields["steps"].nullable) == (1, 8, True)
    assert fields["label"].kind == "long_text" and fields["label"].max_length == 300


def test_optional_secrets_are_secrets_too() -> None:
    """A secret fal's schema leaves optional is still listed by secret_fields (sweeps refuse it as an axis)."""
    spec = spec_from_openapi(
        fal_document(
            "acme/keyed",
            "text-to-image",
            "Keyed",
            {"prompt": {"type": "string"}, "hf_token": {"type": "string"}, "api_key": {"type": "string"}},
            ["prompt", "api_key"],
        )
    )
    assert spec.fields["hf_token"].nullable and spec.fields["hf_token"].kind == "secret"
    assert spec.input_model.secret_fields() == ("hf_token", "api_key")


def test_which_fields_take_files() -> None:
    assert is_url_field("image_urls") and is_url_field("mask_image_url") and is_url_field("video_url")
    assert not is_url_field("prompt") and not is_url_field("url_style")
    fields = REGISTRY["fal-ai/gpt-image-1.5/edit"].fields
    assert [n for n, f in fields.items() if f.takes_files] == ["image_urls", "mask_image_url"]
