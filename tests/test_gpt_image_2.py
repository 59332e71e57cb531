"""GPT Image 2 (``openai/gpt-image-2``, ``/edit``): every field, default and rule, the size model, the estimates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, get_args

import pytest
from pydantic import ValidationError

from falstudio.endpoints import (
    GptImage1MiniRequest,
    GptImage2EditRequest,
    GptImage2Request,
    GptImage15Request,
    ImageSize,
    SizeNotAccepted,
    fit_size,
    get,
)
from falstudio.endpoints.gpt_image_2 import GPT_IMAGE_2_SIZES, GptImage2Preset
from falstudio.endpoints.sizes import PRESET_PIXELS, dimensions

T2I, EDIT = "openai/gpt-image-2", "openai/gpt-image-2/edit"
URL = "https://example.test/in.png"
PRESETS = ("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9")


def t2i(**fields: Any) -> GptImage2Request:
    return GptImage2Request.model_validate({"prompt": "a lighthouse", **fields})


def edit(**fields: Any) -> GptImage2EditRequest:
    return GptImage2EditRequest.model_validate({"prompt": "make it sepia", "image_urls": [URL], **fields})


def size_error(value: Any) -> str:
    with pytest.raises(ValidationError) as err:
        t2i(image_size=value)
    (error,) = err.value.errors()
    assert error["loc"] == ("image_size",)
    return str(error["msg"])


# ---- fields and defaults ------------------------------------------------------------------------------------


def test_registry_rows() -> None:
    for endpoint_id, kind, model in (
        (T2I, "text-to-image", GptImage2Request),
        (EDIT, "image-edit", GptImage2EditRequest),
    ):
        spec = get(endpoint_id)
        assert (spec.kind, spec.input_model, spec.status, spec.successor) == (kind, model, "active", None)
        assert spec.prices.model == "gpt-image-2" and spec.docs_url == f"https://fal.ai/models/{endpoint_id}/api"
        assert not spec.is_byok and spec.note_on() == ""


def test_text_to_image_defaults_and_payload() -> None:
    request = t2i()
    assert (request.image_size, request.quality, request.num_images, request.output_format, request.sync_mode) == (
        "landscape_4_3",
        "high",
        1,
        "png",
        False,
    )
    assert request.payload() == {"prompt": "a lighthouse"}  # only what the user set is sent


def test_edit_defaults() -> None:
    request = edit()
    assert (request.image_size, request.quality, request.mask_url, request.num_images) == ("auto", "high", None, 1)
    assert request.payload() == {"prompt": "make it sepia", "image_urls": [URL]}


@pytest.mark.parametrize("model", [GptImage2Request, GptImage2EditRequest])
def test_no_background_and_no_input_fidelity(model: type[Any]) -> None:
    assert "background" not in model.model_fields and "input_fidelity" not in model.model_fields
    base = {"prompt": "ab", "image_urls": [URL]} if model is GptImage2EditRequest else {"prompt": "ab"}
    for field, value in (("background", "transparent"), ("input_fidelity", "high"), ("mask_image_url", URL)):
        with pytest.raises(ValidationError, match=f"unknown field '{field}'"):
            model.model_validate({**base, field: value})


@pytest.mark.parametrize(("prompt", "ok"), [("a", False), ("ab", True), ("x" * 32_000, True), ("x" * 32_001, False)])
def test_prompt_limits(prompt: str, ok: bool) -> None:
    for build in (t2i, edit):
        if ok:
            assert build(prompt=prompt).prompt == prompt
        else:
            with pytest.raises(ValidationError) as err:
                build(prompt=prompt)
            assert err.value.errors()[0]["loc"] == ("prompt",)


@pytest.mark.parametrize(("n", "ok"), [(0, False), (1, True), (4, True), (5, False)])
def test_num_images_1_to_4(n: int, ok: bool) -> None:
    if ok:
        assert t2i(num_images=n).num_images == n and edit(num_images=n).num_images == n
    else:
        with pytest.raises(ValidationError, match="num_images"):
            t2i(num_images=n)


def test_enums() -> None:
    for quality in ("auto", "low", "medium", "high"):
        assert t2i(quality=quality).quality == quality
    for fmt in ("jpeg", "png", "webp"):
        assert edit(output_format=fmt).output_format == fmt
    for field, bad in (("quality", "xhigh"), ("output_format", "gif"), ("sync_mode", "maybe")):
        with pytest.raises(ValidationError) as err:
            t2i(**{field: bad})
        assert err.value.errors()[0]["loc"] == (field,)
    assert t2i(sync_mode=True).payload()["sync_mode"] is True


def test_up_to_16_reference_images_and_a_mask() -> None:
    assert len(edit(image_urls=[URL] * 16).image_urls) == 16
    for urls in ([], [URL] * 17, ["photo.png"]):
        with pytest.raises(ValidationError) as err:
            edit(image_urls=urls)
        assert err.value.errors()[0]["loc"][0] == "image_urls"
    assert edit(mask_url="data:image/png;base64,iVBORw0KGgo=").payload()["mask_url"].startswith("data:image/png")
    with pytest.raises(ValidationError) as err:
        edit(mask_url="mask.png")
    assert err.value.errors()[0]["loc"] == ("mask_url",)


# ---- the size model -----------------------------------------------------------------------------------------


def test_presets_and_auto() -> None:
    assert get_args(GptImage2Preset) == PRESETS == GPT_IMAGE_2_SIZES.presets
    for value in (*PRESETS, "auto"):
        assert t2i(image_size=value).payload()["image_size"] == value
        assert edit(image_size=value).image_size == value


@pytest.mark.parametrize(
    "value", ["1536x864", " 1536 x 864 ", "1536×864", {"width": 1536, "height": 864}, ImageSize(width=1536, height=864)]
)
def test_custom_size_forms_are_sent_as_the_object(value: Any) -> None:
    request = t2i(image_size=value)
    assert request.image_size == ImageSize(width=1536, height=864)
    assert request.payload()["image_size"] == {"width": 1536, "height": 864}
    assert edit(image_size=value).payload()["image_size"] == {"width": 1536, "height": 864}


# (valid, invalid) pairs, each on both sides of one limit; the invalid one breaks only that rule.
LIMITS = [
    ("multiple of 16", "1040x1024", "1032x1024", "not a multiple of 16"),
    ("multiple of 16 (height)", "1024x1040", "1024x1048", "height 1048 is not a multiple of 16"),
    ("longest side", "3840x1280", "3856x1296", "the longest side 3856 is over 3840"),
    ("ratio", "2400x800", "2416x800", "the ratio 3.02:1 is over 3:1"),
    ("ratio (portrait)", "800x2400", "800x2416", "the ratio 3.02:1 is over 3:1"),
    ("minimum pixels", "1024x640", "1008x640", "645,120 pixels is under the minimum of 655,360"),
    ("maximum pixels", "3840x2160", "3840x2176", "8,355,840 pixels is over the maximum of 8,294,400"),
    ("maximum pixels (square)", "2880x2880", "2896x2880", "8,340,480 pixels is over the maximum of 8,294,400"),
]


@pytest.mark.parametrize(("rule", "valid", "invalid", "message"), LIMITS, ids=[case[0] for case in LIMITS])
def test_each_limit_on_both_sides(rule: str, valid: str, invalid: str, message: str) -> None:
    w, h = (int(v) for v in valid.split("x"))
    assert t2i(image_size=valid).image_size == ImageSize(width=w, height=h)
    text = size_error(invalid)
    assert message in text
    assert text.count(";") == 1, f"only the one broken rule is named: {text}"
    suggestion = text.rsplit("the nearest valid size is ", 1)[1]
    assert t2i(image_size=suggestion).image_size  # the suggestion is itself valid


def test_every_broken_rule_is_named_with_the_nearest_valid_size() -> None:
    text = size_error("1000x300")
    for part in ("width 1000 and height 300 are not a multiple of 16", "ratio 3.33:1", "300,000 pixels is under"):
        assert part in text
    assert text.endswith("the nearest valid size is 1152x576")
    assert GPT_IMAGE_2_SIZES.problems(1152, 576) == []
    assert "longest side 5000" in size_error({"width": 5000, "height": 2000})
    assert "must be positive" in size_error({"width": 0, "height": 1024})


@pytest.mark.parametrize(
    ("asked", "nearest"), [((1000, 600), (1024, 640)), ((4000, 4000), (2880, 2880)), ((100, 100), (816, 816))]
)
def test_nearest_valid_size(asked: tuple[int, int], nearest: tuple[int, int]) -> None:
    assert GPT_IMAGE_2_SIZES.nearest(*asked) == nearest
    assert GPT_IMAGE_2_SIZES.problems(*nearest) == []


@pytest.mark.parametrize(
    "value", ["huge", "1024", "1024x", {"width": 1024}, {"width": 1024, "height": 768, "x": 1}, 7, True]
)
def test_values_that_are_no_size(value: Any) -> None:
    text = size_error(value)
    assert "is not a size this endpoint takes" in text and "square_hd" in text and "'WxH'" in text


def test_preset_pixels_are_fals_usual_sizes() -> None:
    assert PRESET_PIXELS == {
        "square_hd": (1024, 1024),
        "square": (512, 512),
        "portrait_4_3": (768, 1024),
        "portrait_16_9": (576, 1024),
        "landscape_4_3": (1024, 768),
        "landscape_16_9": (1024, 576),
    }
    assert dimensions("auto") is None and dimensions("1536x864") == (1536, 864)


# ---- translation between size models (sweeps, Compare, the Studio) -------------------------------------------


def test_fit_size_translates_between_the_two_size_models() -> None:
    assert fit_size(GptImage2Request, "image_size", "1024x1024") == ImageSize(width=1024, height=1024)
    assert fit_size(GptImage2Request, "image_size", "square_hd") == "square_hd"
    assert fit_size(GptImage1MiniRequest, "image_size", ImageSize(width=1536, height=1024)) == "1536x1024"
    assert fit_size(GptImage1MiniRequest, "image_size", {"width": 1024, "height": 1536}) == "1024x1536"
    assert fit_size(GptImage1MiniRequest, "image_size", "auto") == "auto"


@pytest.mark.parametrize(
    ("model", "value", "nearest"),
    [
        (GptImage1MiniRequest, "1536x864", "1536x1024"),
        (GptImage1MiniRequest, "landscape_16_9", "1536x1024"),
        (GptImage1MiniRequest, "square_hd", "1024x1024"),
        (GptImage15Request, "auto", "1024x1024"),
        (GptImage2Request, "1000x600", ImageSize(width=1024, height=640)),
        (GptImage2Request, "1024 by 1024", "landscape_4_3"),
    ],
)
def test_fit_size_names_the_nearest_value_taken(model: type[Any], value: Any, nearest: Any) -> None:
    with pytest.raises(SizeNotAccepted) as err:
        fit_size(model, "image_size", value)
    assert err.value.nearest == nearest and err.value.value == value


# ---- estimates ---------------------------------------------------------------------------------------------

TABLE = {  # fal's published per-image table: size -> (low, medium, high)
    "1024x768": ("0.01", "0.04", "0.15"),
    "1024x1024": ("0.01", "0.06", "0.22"),
    "1024x1536": ("0.01", "0.05", "0.17"),
    "1920x1080": ("0.01", "0.04", "0.16"),
    "2560x1440": ("0.01", "0.06", "0.23"),
    "3840x2160": ("0.02", "0.11", "0.41"),
}


@pytest.mark.parametrize("size", sorted(TABLE))
@pytest.mark.parametrize("column", [0, 1, 2])
def test_table_cells(size: str, column: int) -> None:
    quality = ("low", "medium", "high")[column]
    spec = get(T2I)
    assert spec.prices.image_price(quality, size) == Decimal(TABLE[size][column])
    assert "fal.ai/models/openai/gpt-image-2" in spec.prices.source
    if size == "1920x1080":  # on fal's table, yet 1080 is no multiple of 16: it cannot be asked for as such
        assert "1920x1088" in size_error(size)
        return
    estimate = spec.estimate_cost(t2i(image_size=size, quality=quality, num_images=2))
    assert estimate.breakdown["images"] == 2 * Decimal(TABLE[size][column])
    assert not estimate.is_upper_bound and not estimate.is_approximate and str(estimate).startswith("$")


def test_the_nearest_valid_1080p_is_priced_from_fals_1080p_row() -> None:
    estimate = get(T2I).estimate_cost(t2i(image_size="1920x1088", quality="medium"))
    assert estimate.breakdown["images"] == Decimal("0.04") * 1088 / 1080
    assert "scaled by pixel count from 1920x1080" in estimate.explanation


def test_default_quality_is_high_and_the_estimate_says_so() -> None:
    spec = get(T2I)
    forgot = spec.estimate_cost(t2i(image_size="1024x1024"))
    low = spec.estimate_cost(t2i(image_size="1024x1024", quality="low"))
    assert forgot.breakdown["quality"] == "high" and forgot.breakdown["images"] == Decimal("0.22")
    assert "quality not set, so fal's default high is priced; low would be $0.01" in forgot.explanation
    assert forgot.breakdown["images"] / low.breakdown["images"] == 22
    assert "quality not set" not in spec.estimate_cost(t2i(image_size="1024x1024", quality="high")).explanation


def test_auto_is_an_upper_bound() -> None:
    spec = get(T2I)
    size = spec.estimate_cost(t2i(image_size="auto", quality="medium"))
    assert size.is_upper_bound and size.breakdown["images"] == Decimal("0.11") and str(size).startswith("≤ $")
    assert "size auto priced as 3840x2160" in size.explanation
    quality = spec.estimate_cost(t2i(image_size="1024x1024", quality="auto"))
    assert quality.is_upper_bound and quality.breakdown["images"] == Decimal("0.22")
    assert get(EDIT).estimate_cost(edit()).is_upper_bound  # the edit's default size is auto


def test_sizes_off_the_table_say_how_they_were_priced() -> None:
    spec = get(T2I)
    turned = spec.estimate_cost(t2i(image_size="1536x1024", quality="high"))
    assert turned.breakdown["images"] == Decimal("0.17") and turned.is_approximate and str(turned).startswith("~$")
    assert "1536x1024 priced as 1024x1536, the same size turned" in turned.explanation
    scaled = spec.estimate_cost(t2i(image_size="2048x1152", quality="high"))
    assert "2048x1152 is not on fal's table: scaled by pixel count from 1920x1080" in scaled.explanation
    assert scaled.breakdown["images"] == Decimal("0.16") * 2048 * 1152 / (1920 * 1080)
    assert scaled.is_approximate and not scaled.is_upper_bound and "about $" in scaled.explanation


def test_presets_are_priced_at_fals_usual_pixels_and_say_it_is_unverified() -> None:
    estimate = get(T2I).estimate_cost(t2i(quality="low"))
    assert estimate.breakdown["size"] == "1024x768" and estimate.is_approximate
    assert "landscape_4_3 priced as 1024x768" in estimate.explanation and "unverified" in estimate.explanation


def test_edit_inputs_add_image_tokens() -> None:
    one = get(EDIT).estimate_cost(edit(image_size="1024x1024", quality="low"))
    many = get(EDIT).estimate_cost(edit(image_size="1024x1024", quality="low", image_urls=[URL] * 16))
    assert many.breakdown["input_image_tokens"] == 16 * one.breakdown["input_image_tokens"] > 0
    assert many.amount > one.amount


@pytest.mark.parametrize(
    ("preset", "usual", "priced"), [("square", "512x512", "816x816"), ("landscape_16_9", "1024x576", "1056x624")]
)
def test_a_preset_under_the_pixel_minimum_is_priced_at_the_nearest_size_the_model_takes(
    preset: str, usual: str, priced: str
) -> None:
    """fal cannot render 512x512 with GPT Image 2 (under 655,360 pixels): pricing it as such guessed a third of the
    cheapest table price, and a budget trusted it."""
    estimate = get(T2I).estimate_cost(t2i(image_size=preset, quality="high"))
    w, h = (int(n) for n in priced.split("x"))
    assert GPT_IMAGE_2_SIZES.problems(w, h) == [] and estimate.breakdown["size"] == priced
    assert estimate.breakdown["images"] == Decimal("0.15") * w * h / (1024 * 768)  # scaled from the smallest row
    assert f"{preset} is {usual} in fal's usual pixels, which this model cannot render" in estimate.explanation
    assert (
        f"priced as the nearest size it takes, {priced}" in estimate.explanation
        and "unverified" in estimate.explanation
    )


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"width": 1536, "height": 864, "extra": 1}, "unknown key 'extra': give only width and height"),
        ({"width": 1536}, "height missing"),
        ({"width": "1536", "height": 864}, "width '1536': width and height are whole numbers of pixels"),
        ({"width": 1536.0, "height": 864.0}, "width 1536.0 and height 864.0: width and height are whole numbers"),
        ("-1536x864", "width and height must be positive whole numbers"),
        ("1536x864.5", "width and height must be positive whole numbers"),
    ],
)
def test_a_near_miss_size_says_what_is_wrong_with_it(value: Any, why: str) -> None:
    assert f"is not a size this endpoint takes ({why}" in size_error(value)
