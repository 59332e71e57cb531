"""The pure mapping from model fields to field specs, on every registered endpoint and on a model with every kind."""

from __future__ import annotations

import enum
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from falstudio.endpoints import REGISTRY
from falstudio.widgets.form._fields import field_specs


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
    specs = {s.name: s for s in field_specs(Everything)}
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
        field_specs(Bad)


@pytest.mark.parametrize("endpoint_id", list(REGISTRY))
def test_registered_endpoints_map_field_by_field(endpoint_id):
    model = REGISTRY[endpoint_id].input_model
    specs = field_specs(model)
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
