"""The endpoint registry and request models, table-driven over every registered endpoint."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from typing import Any, get_args

import pytest
from pydantic import SecretStr, ValidationError

import falstudio as fs
from falstudio.endpoints import REGISTRY, ImageOutput, get
from falstudio.endpoints.pricing import ceil_cent, total, usd

EDIT_IMAGE = "https://example.test/in.png"
DATA_URI = "data:image/png;base64,iVBORw0KGgo="

# endpoint id -> (kind, field order, defaults, price model, byok)
EXPECTED: dict[str, tuple[str, list[str], dict[str, Any]]] = {
    "openai/gpt-image-2": (
        "text-to-image",
        ["prompt", "image_size", "quality", "num_images", "output_format", "sync_mode"],
        {"image_size": "landscape_4_3", "quality": "high", "num_images": 1, "output_format": "png", "sync_mode": False},
    ),
    "openai/gpt-image-2/edit": (
        "image-edit",
        ["prompt", "image_urls", "image_size", "quality", "num_images", "output_format", "sync_mode", "mask_url"],
        {
            "image_size": "auto",
            "quality": "high",
            "num_images": 1,
            "output_format": "png",
            "sync_mode": False,
            "mask_url": None,
        },
    ),
    "fal-ai/gpt-image-1/edit-image/byok": (
        "image-edit",
        ["image_urls", "prompt", "image_size", "num_images", "quality", "input_fidelity", "openai_api_key"],
        {"image_size": "auto", "num_images": 1, "quality": "auto", "input_fidelity": "low"},
    ),
    "fal-ai/gpt-image-1-mini": (
        "text-to-image",
        ["prompt", "image_size", "background", "quality", "num_images", "output_format", "sync_mode"],
        {
            "image_size": "auto",
            "background": "auto",
            "quality": "auto",
            "num_images": 1,
            "output_format": "png",
            "sync_mode": False,
        },
    ),
    "fal-ai/gpt-image-1-mini/edit": (
        "image-edit",
        ["prompt", "image_urls", "image_size", "background", "quality", "num_images", "output_format", "sync_mode"],
        {
            "image_size": "auto",
            "background": "auto",
            "quality": "auto",
            "num_images": 1,
            "output_format": "png",
            "sync_mode": False,
        },
    ),
    "fal-ai/gpt-image-1/text-to-image": (
        "text-to-image",
        ["prompt", "image_size", "background", "quality", "num_images", "output_format", "sync_mode"],
        {"image_size": "auto", "background": "auto", "quality": "auto", "num_images": 1, "output_format": "png"},
    ),
    "fal-ai/gpt-image-1/text-to-image/byok": (
        "text-to-image",
        ["prompt", "image_size", "background", "quality", "num_images", "openai_api_key"],
        {"image_size": "auto", "background": "auto", "quality": "auto", "num_images": 1},
    ),
    "fal-ai/gpt-image-1/edit-image": (
        "image-edit",
        [
            "prompt",
            "image_urls",
            "image_size",
            "background",
            "quality",
            "input_fidelity",
            "num_images",
            "output_format",
            "sync_mode",
        ],
        {"image_size": "auto", "quality": "auto", "input_fidelity": "high", "output_format": "png"},
    ),
    "fal-ai/gpt-image-1.5": (
        "text-to-image",
        ["prompt", "image_size", "background", "quality", "num_images", "output_format", "sync_mode"],
        {"image_size": "1024x1024", "quality": "high", "background": "auto", "output_format": "png"},
    ),
    "fal-ai/gpt-image-1.5/edit": (
        "image-edit",
        [
            "prompt",
            "image_urls",
            "image_size",
            "background",
            "quality",
            "input_fidelity",
            "num_images",
            "output_format",
            "sync_mode",
            "mask_image_url",
        ],
        {"image_size": "auto", "quality": "high", "input_fidelity": "high", "mask_image_url": None},
    ),
}

ENUMS = {
    "image_size": ("auto", "1024x1024", "1536x1024", "1024x1536"),
    "background": ("auto", "transparent", "opaque"),
    "quality": ("auto", "low", "medium", "high"),
    "output_format": ("jpeg", "png", "webp"),
    "input_fidelity": ("low", "high"),
}
NO_AUTO = {
    ("fal-ai/gpt-image-1.5", "image_size"),
    ("fal-ai/gpt-image-1.5", "quality"),
    ("fal-ai/gpt-image-1.5/edit", "quality"),
}


def minimal(endpoint_id: str) -> dict[str, Any]:
    fields = get(endpoint_id).input_model.model_fields
    args: dict[str, Any] = {"prompt": "a lighthouse at dusk"}
    if "image_urls" in fields:
        args["image_urls"] = [EDIT_IMAGE]
    if "openai_api_key" in fields:
        args["openai_api_key"] = "sk-test-SECRET-123"
    return args


def test_registry_lists_every_endpoint_of_the_family() -> None:
    assert set(REGISTRY) == set(EXPECTED)


@pytest.mark.parametrize("endpoint_id", sorted(EXPECTED))
def test_spec_shape_order_and_defaults(endpoint_id: str) -> None:
    kind, order, defaults = EXPECTED[endpoint_id]
    spec = get(endpoint_id)
    assert spec.id == endpoint_id and spec.kind == kind
    assert spec.output_model is ImageOutput
    assert spec.status in ("active", "deprecated", "retired")
    assert spec.docs_url.startswith("https://fal.ai/models/" + endpoint_id)
    assert list(spec.input_model.model_fields) == order
    request = spec.validate(minimal(endpoint_id))
    for name, value in defaults.items():
        assert getattr(request, name) == value, name
    for name, field in spec.input_model.model_fields.items():
        assert field.description, f"{endpoint_id}.{name} has no help text"


def _enum_cases() -> list[tuple[str, str, str]]:
    cases = []
    for endpoint_id in sorted(EXPECTED):
        fields = get(endpoint_id).input_model.model_fields
        for name, values in ENUMS.items():
            if name in fields and not (name == "image_size" and endpoint_id.startswith("openai/")):
                cases += [(endpoint_id, name, v) for v in values]
    return cases


@pytest.mark.parametrize(("endpoint_id", "field", "value"), _enum_cases())
def test_each_enum_value(endpoint_id: str, field: str, value: str) -> None:
    spec = get(endpoint_id)
    args = minimal(endpoint_id) | {field: value}
    if field == "background" and value == "transparent":
        args["output_format"] = "png" if "output_format" in spec.input_model.model_fields else None
        args = {k: v for k, v in args.items() if v is not None}
    if value == "auto" and (endpoint_id, field) in NO_AUTO:
        with pytest.raises(ValidationError) as err:
            spec.validate(args)
        assert err.value.errors()[0]["loc"] == (field,)
        return
    if field == "output_format" and value == "jpeg" and args.get("background") == "transparent":
        return
    assert getattr(spec.validate(args), field) == value


@pytest.mark.parametrize("endpoint_id", sorted(EXPECTED))
@pytest.mark.parametrize(
    ("bad", "loc"),
    [
        ({"num_images": 0}, "num_images"),
        ({"num_images": 5}, "num_images"),
        ({"quality": "ultra"}, "quality"),
        ({"image_size": "512x512"}, "image_size"),
        ({"prompt": ""}, "prompt"),
    ],
)
def test_bad_values_name_the_field(endpoint_id: str, bad: dict[str, Any], loc: str) -> None:
    with pytest.raises(ValidationError) as err:
        get(endpoint_id).validate(minimal(endpoint_id) | bad)
    assert [e["loc"][0] for e in err.value.errors()] == [loc]


@pytest.mark.parametrize("endpoint_id", sorted(EXPECTED))
def test_required_fields(endpoint_id: str) -> None:
    spec = get(endpoint_id)
    required = {n for n, f in spec.input_model.model_fields.items() if f.is_required()}
    for name in required:
        args = minimal(endpoint_id)
        args.pop(name)
        with pytest.raises(ValidationError) as err:
            spec.validate(args)
        assert (name,) in [e["loc"] for e in err.value.errors()]


def test_image_urls_bounds_and_kinds() -> None:
    spec = get("fal-ai/gpt-image-1/edit-image/byok")
    base = minimal(spec.id)
    assert spec.validate(base | {"image_urls": [DATA_URI] * 16}).image_urls[0] == DATA_URI
    for urls in (
        [],
        [EDIT_IMAGE] * 17,
        ["/tmp/local.png"],
        ["http://[::1/x.png"],
        ["https://cdn.test:99999/a.png"],
        ["https:///a.png"],
    ):
        with pytest.raises(ValidationError) as err:
            spec.validate(base | {"image_urls": urls})
        assert err.value.errors()[0]["loc"][0] == "image_urls"
    with pytest.raises(ValidationError, match="client"):
        spec.validate(base | {"image_urls": ["photo.png"]})


@pytest.mark.parametrize(
    "endpoint_id", [e for e in sorted(EXPECTED) if {"background", "output_format"} <= set(EXPECTED[e][1])]
)
def test_transparent_background_needs_png_or_webp(endpoint_id: str) -> None:
    spec = get(endpoint_id)
    args = minimal(endpoint_id) | {"background": "transparent"}
    for fmt in ("png", "webp"):
        assert spec.validate(args | {"output_format": fmt}).background == "transparent"
    with pytest.raises(ValidationError) as err:
        spec.validate(args | {"output_format": "jpeg"})
    (error,) = err.value.errors()
    assert error["loc"] == ("output_format",)
    assert "png" in error["msg"] and "webp" in error["msg"] and "jpeg" in error["msg"]


def test_unknown_field_is_named_with_a_suggestion() -> None:
    spec = get("fal-ai/gpt-image-1/edit-image/byok")
    args = minimal(spec.id)
    args["image_url"] = args.pop("image_urls")
    with pytest.raises(ValidationError) as err:
        spec.validate(args)
    messages = {e["loc"][0]: e["msg"] for e in err.value.errors()}
    assert "image_url" in messages["image_url"] and "did you mean 'image_urls'" in messages["image_url"]
    with pytest.raises(ValidationError, match="unknown field 'seed'"):
        get("fal-ai/gpt-image-1-mini").validate({"prompt": "x", "seed": 3})


@pytest.mark.parametrize("endpoint_id", [e for e in sorted(EXPECTED) if "byok" in e])
def test_secret_never_printed(endpoint_id: str) -> None:
    request = get(endpoint_id).validate(minimal(endpoint_id))
    assert isinstance(request.openai_api_key, SecretStr)
    for text in (
        repr(request),
        str(request),
        request.model_dump_json(),
        str(request.model_dump()),
        str(request.redacted()),
    ):
        assert "SECRET" not in text
    assert request.payload()["openai_api_key"] == "sk-test-SECRET-123"
    assert request.redacted()["openai_api_key"] == "***"
    assert get(endpoint_id).input_model.secret_fields() == ("openai_api_key",)


def test_payload_has_only_fields_the_user_set() -> None:
    spec = get("fal-ai/gpt-image-1-mini")
    assert spec.validate({"prompt": "a cat"}).payload() == {"prompt": "a cat"}
    assert spec.validate({"prompt": "a cat", "quality": "low"}).payload() == {"prompt": "a cat", "quality": "low"}
    mask = get("fal-ai/gpt-image-1.5/edit").validate({"prompt": "ab", "image_urls": [EDIT_IMAGE]})
    assert "mask_image_url" not in mask.payload()


def test_output_models_tolerate_drift() -> None:
    out = ImageOutput.model_validate(
        {
            "images": [{"url": "https://v3.fal.media/x.png", "width": 1024, "height": 1024, "seed": 7}],
            "description": "old mini output",
            "usage": {"input_tokens": 3, "total_tokens": 9, "new": 1},
            "has_nsfw_concepts": [False],
        }
    )
    assert out.images[0].width == 1024 and out.images[0].model_extra == {"seed": 7}
    assert out.usage is not None and out.usage.total_tokens == 9
    assert out.model_extra == {"has_nsfw_concepts": [False]}


def test_unknown_endpoint_suggests_the_close_one() -> None:
    with pytest.raises(LookupError) as err:
        get("fal-ai/gpt-image-1-mini/edits")
    assert "did you mean 'fal-ai/gpt-image-1-mini/edit'" in str(err.value).lower()
    assert "fal-ai/gpt-image-1.5" in str(err.value)
    assert fs.endpoints.find("someone/else") is None


# ---- cost estimates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint_id", "quality", "size", "list_price"),
    [
        ("fal-ai/gpt-image-1-mini", "low", "1024x1024", "0.005"),
        ("fal-ai/gpt-image-1-mini", "medium", "1024x1536", "0.015"),
        ("fal-ai/gpt-image-1-mini/edit", "high", "1536x1024", "0.052"),
        ("fal-ai/gpt-image-1/text-to-image", "low", "1024x1024", "0.011"),
        ("fal-ai/gpt-image-1/text-to-image", "high", "1536x1024", "0.25"),
        ("fal-ai/gpt-image-1/edit-image", "medium", "1024x1024", "0.042"),
        ("fal-ai/gpt-image-1/text-to-image/byok", "high", "1024x1024", "0.167"),
        ("fal-ai/gpt-image-1.5", "low", "1024x1536", "0.013"),
        ("fal-ai/gpt-image-1.5", "medium", "1536x1024", "0.050"),
        ("fal-ai/gpt-image-1.5/edit", "high", "1024x1536", "0.200"),
    ],
)
def test_price_table_cells(endpoint_id: str, quality: str, size: str, list_price: str) -> None:
    spec = get(endpoint_id)
    assert spec.prices.image_price(quality, size) == Decimal(list_price)
    request = spec.validate(minimal(endpoint_id) | {"quality": quality, "image_size": size, "num_images": 1})
    estimate = spec.estimate_cost(request)
    unrounded = estimate.breakdown["unrounded"]
    rounds = spec.prices.rounds_to_cent and spec.prices.billed_by == "fal"
    assert estimate.amount == (ceil_cent(unrounded) if rounds else unrounded)
    assert estimate.breakdown["images"] == Decimal(list_price)
    inputs = estimate.breakdown["input_image_tokens"] * spec.prices.image_in_per_token
    assert Decimal(list_price) + inputs <= estimate.amount <= Decimal(list_price) + inputs + Decimal("0.01")
    assert not estimate.is_upper_bound
    assert usd(estimate.amount) in estimate.explanation


def test_gpt_image_2_keeps_fractional_cents() -> None:
    # fal's GPT Image 2 table: 1024x768 low is $0.01; a prompt adds a fraction of a cent, never a whole one
    spec = get("openai/gpt-image-2")
    prompt = " ".join(["fox"] * 20)  # 80 prompt tokens: $0.0004
    estimate = spec.estimate_cost({"prompt": prompt, "quality": "low", "image_size": "1024x768"})
    assert Decimal("0.01") < estimate.amount < Decimal("0.011")
    assert str(estimate) == "$0.0104" and "rounded" not in estimate.explanation
    two_hundred = total([estimate] * 200)  # a class's $2 budget: about 192 of these, not 100
    assert Decimal("2.0") < two_hundred.amount < Decimal("2.1")


def test_usd_shows_enough_digits() -> None:
    assert usd(Decimal("0.0104")) == "$0.0104"
    assert usd(Decimal("0.01004")) == "$0.0101"  # rounded up at the last digit shown, never down
    assert usd(Decimal("0.42")) == "$0.42" and usd(Decimal("0.4")) == "$0.40" and usd(Decimal(0)) == "$0.00"
    assert usd(Decimal("0.0100")) == "$0.01" and usd(Decimal("-0.5")) == "-$0.50"


def test_cent_rounding_is_per_request() -> None:
    assert ceil_cent(Decimal("0.00548")) == Decimal("0.01")
    assert ceil_cent(Decimal("0.02")) == Decimal("0.02")
    spec = get("fal-ai/gpt-image-1-mini")
    prompt = " ".join(["word"] * 60)  # the domain notes' worked example: 3 qualities x 3 sizes, 60 words
    estimates = [
        spec.estimate_cost({"prompt": prompt, "quality": q, "image_size": s})
        for q in ("low", "medium", "high")
        for s in ("1024x1024", "1024x1536", "1536x1024")
    ]
    assert [e.amount for e in estimates[:3]] == [Decimal("0.01")] * 3
    assert total(estimates).amount == Decimal("0.25")
    assert all("rounded up to the cent" in e.explanation for e in estimates)


def test_batching_and_upper_bound() -> None:
    spec = get("fal-ai/gpt-image-1/text-to-image")
    four = spec.estimate_cost({"prompt": "a b c", "quality": "high", "image_size": "1536x1024", "num_images": 4})
    assert four.amount == Decimal("1.01")
    auto = spec.estimate_cost({"prompt": "a b c"})
    assert auto.is_upper_bound and auto.amount == Decimal("0.26") and str(auto) == "≤ $0.26"
    assert "auto" in auto.explanation


def test_byok_estimate_says_who_bills() -> None:
    spec = get("fal-ai/gpt-image-1/edit-image/byok")
    estimate = spec.estimate_cost(minimal(spec.id) | {"quality": "low", "image_size": "1024x1024"})
    assert "OpenAI" in estimate.explanation and "not by fal" in estimate.explanation
    assert "SECRET" not in estimate.explanation
    assert estimate.breakdown["input_image_tokens"] > 0


def test_literal_aliases_match_the_domain_doc() -> None:
    from falstudio.endpoints import gpt_image as m

    assert get_args(m.GptImage1Size) == ENUMS["image_size"]
    assert get_args(m.Quality) == ENUMS["quality"]
    assert get_args(m.Background) == ENUMS["background"]


def test_import_is_cheap() -> None:
    heavy = ("ipywidgets", "starlette", "uvicorn", "numpy", "PIL", "httpx")
    code = f"import sys, falstudio as fs; fs.endpoints.REGISTRY; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
