"""fs.sweep: expansion, endpoint axis, validation errors and the cost total."""

from __future__ import annotations

from decimal import Decimal

import pytest

import falstudio
from falstudio.endpoints import GptImage1MiniRequest, GptImage15Request
from falstudio.sweep import Sweep, SweepError, sweep

MINI = "fal-ai/gpt-image-1-mini"
V15 = "fal-ai/gpt-image-1.5"
SIZES = ["1024x1024", "1536x1024"]


def test_two_axes_expand_in_call_order_last_axis_fastest() -> None:
    s = sweep(GptImage1MiniRequest(prompt="a red fox"), quality=["low", "high"], image_size=SIZES)
    assert isinstance(s, Sweep)
    assert len(s) == 4
    assert list(s.axes) == ["quality", "image_size"]
    assert [dict(v.params) for v in s] == [
        {"quality": "low", "image_size": "1024x1024"},
        {"quality": "low", "image_size": "1536x1024"},
        {"quality": "high", "image_size": "1024x1024"},
        {"quality": "high", "image_size": "1536x1024"},
    ]
    assert [v.index for v in s] == [0, 1, 2, 3]
    assert all(v.endpoint == MINI and isinstance(v.request, GptImage1MiniRequest) for v in s)
    assert s.requests[3].quality == "high" and s.requests[3].prompt == "a red fox"
    # the request sends what the user set plus the axis fields, nothing else
    assert s[1].request.payload() == {"prompt": "a red fox", "quality": "low", "image_size": "1536x1024"}


def test_dict_base_needs_an_endpoint() -> None:
    with pytest.raises(TypeError, match="endpoint='fal-ai/"):
        sweep({"prompt": "a fox"}, quality=["low"])
    s = sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low"])
    assert s.endpoints == (MINI,) and "endpoint" not in s.axes


def test_no_axes_is_one_variation() -> None:
    s = sweep({"prompt": "a fox"}, endpoint=MINI)
    assert len(s) == 1 and s[0].label() == "base" and dict(s[0].params) == {}


def test_endpoint_axis_swaps_the_model_and_keeps_its_position() -> None:
    s = sweep({"prompt": "a fox", "quality": "low"}, image_size=SIZES, endpoint=[MINI, V15])
    assert list(s.axes) == ["image_size", "endpoint"]
    assert [v.endpoint for v in s] == [MINI, V15, MINI, V15]
    assert isinstance(s[1].request, GptImage15Request) and isinstance(s[0].request, GptImage1MiniRequest)
    assert s.endpoints == (MINI, V15)


def test_typed_base_carries_only_the_fields_set_each_endpoint_keeps_its_defaults() -> None:
    s = sweep(GptImage15Request(prompt="a fox"), endpoint=[V15, MINI])
    assert s[0].request.quality == "high"  # 1.5's default
    assert s[1].request.quality == "auto"  # mini's default


def test_field_missing_on_one_endpoint_is_a_clear_error() -> None:
    base = {"prompt": "a fox", "output_format": "webp", "quality": "low"}
    byok = "fal-ai/gpt-image-1/text-to-image/byok"
    with pytest.raises(SweepError) as info:
        sweep(base, endpoint=[MINI, byok])
    message = str(info.value)
    assert "'output_format'" in message and byok in message
    assert "remove it from the base request" in message and "drop" in message
    assert len(info.value.problems) == 1


def test_value_invalid_on_one_endpoint_names_the_variation_and_field() -> None:
    with pytest.raises(SweepError) as info:
        sweep({"prompt": "a fox"}, endpoint=[MINI, V15], quality=["auto", "low"])
    [problem] = info.value.problems
    assert problem.startswith("variation 2 (endpoint='fal-ai/gpt-image-1.5', quality='auto')")
    assert "quality:" in problem and "remove that value from the 'quality' axis" in problem


def test_unknown_field_suggests_the_close_match() -> None:
    with pytest.raises(
        SweepError,
        match=r"'qualty' \(from an axis\) does not exist on fal-ai/gpt-image-1-mini; "
        r"did you mean 'quality'\?",
    ):
        sweep({"prompt": "a fox"}, endpoint=MINI, qualty=["low"])


@pytest.mark.parametrize(
    ("axes", "fragment"),
    [
        ({"quality": "low"}, "needs a list of values, e.g. quality=['low']"),
        ({"quality": []}, "axis 'quality' is empty"),
        ({"quality": ["low", "low"]}, "repeats a value"),
    ],
)
def test_bad_axes(axes: dict[str, object], fragment: str) -> None:
    with pytest.raises(SweepError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        sweep({"prompt": "a fox"}, endpoint=MINI, **axes)


def test_repeated_objects_are_found_whatever_their_key_order() -> None:
    size = {"width": 1024, "height": 1024}
    with pytest.raises(SweepError, match="axis 'image_size' repeats a value"):
        sweep({"prompt": "a fox"}, endpoint=V15, image_size=[size, {"height": 1024, "width": 1024}])
    assert len(sweep({"prompt": "a fox"}, endpoint=V15, image_size=[size, {"width": 1536, "height": 1024}])) == 2


class _CountedPrompt(str):
    compared = 0

    def __eq__(self, other: object) -> bool:
        _CountedPrompt.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_duplicate_check_is_linear() -> None:
    """Each value is compared with a few others, not with every earlier one (n²/2 = 2 million here)."""
    prompts = [_CountedPrompt(f"a fox, take {i}") for i in range(2000)]
    _CountedPrompt.compared = 0
    assert len(sweep({"quality": "low"}, endpoint=MINI, prompt=prompts)) == 2000
    assert _CountedPrompt.compared < 20_000


def test_each_size_is_fitted_once_per_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    import falstudio.sweep._expand as expand

    calls: list[object] = []
    fit = expand.fit_size

    def counted(model: object, name: str, value: object) -> object:
        calls.append(value)
        return fit(model, name, value)  # type: ignore[arg-type]

    monkeypatch.setattr(expand, "fit_size", counted)
    s = sweep({"quality": "low"}, endpoint=[MINI, V15], prompt=[f"a fox {i}" for i in range(50)], image_size=SIZES)
    assert len(s) == 200 and len(calls) == 4


def test_secret_fields_cannot_be_axes() -> None:
    byok = "fal-ai/gpt-image-1/text-to-image/byok"
    with pytest.raises(SweepError, match="secret") as info:
        sweep({"prompt": "a fox", "openai_api_key": "sk-one"}, endpoint=byok, openai_api_key=["sk-a", "sk-b"])
    assert "sk-a" not in str(info.value)


def test_cross_field_rule_is_reported_per_variation() -> None:
    with pytest.raises(SweepError) as info:
        sweep({"prompt": "a fox", "background": "transparent"}, endpoint=MINI, output_format=["jpeg", "png"])
    [problem] = info.value.problems
    assert problem.startswith("variation 0 (output_format='jpeg')") and "'output_format' axis" in problem


def test_cost_rounds_each_request_up_to_the_cent() -> None:
    # the domain notes' worked example: fal mini, 3 qualities x 3 sizes, 60-word prompt:
    # list prices sum to about $0.20 but fal bills about $0.25 (every request rounded up to the cent)
    prompt = " ".join(["word"] * 60)
    sizes = ["1024x1024", "1024x1536", "1536x1024"]
    s = sweep({"prompt": prompt}, endpoint=MINI, quality=["low", "medium", "high"], image_size=sizes)
    assert s.cost.amount == Decimal("0.25")
    assert sum(v.cost.breakdown["unrounded"] for v in s) < Decimal("0.21")
    assert not s.cost.is_upper_bound
    s1 = sweep(
        {"prompt": prompt},
        endpoint="fal-ai/gpt-image-1/text-to-image",
        quality=["low", "medium", "high"],
        image_size=sizes,
    )
    assert s1.cost.amount == Decimal("0.94")


def test_auto_quality_makes_the_total_an_upper_bound() -> None:
    s = sweep({"prompt": "a fox"}, endpoint=MINI, image_size=SIZES)
    assert s.cost.is_upper_bound and str(s.cost).startswith("≤ $")


def test_differences_against_the_baseline() -> None:
    s = sweep({"prompt": "a fox", "quality": "low"}, endpoint=[MINI, V15], image_size=SIZES)
    assert s[0].differences(s[0]) == {}
    assert s[1].differences(s[0]) == {"image_size": "1536x1024"}
    assert s[3].differences(s[0]) == {"endpoint": V15, "image_size": "1536x1024"}


def test_several_prompts_and_labels() -> None:
    long = "a watercolour painting of a lighthouse at dusk with seagulls and a small boat"
    s = sweep({"quality": "low"}, endpoint=MINI, prompt=["a fox", long])
    assert s[1].label().startswith("prompt=a watercolour") and s[1].label().endswith("…")
    assert s[1].request.prompt == long


def test_repr_is_readable_and_deterministic() -> None:
    s = sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"], image_size=SIZES)
    text = repr(s)
    assert text == repr(sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"], image_size=SIZES))
    assert text.splitlines()[0] == (
        "Sweep: 4 variations on fal-ai/gpt-image-1-mini; quality × image_size (2 × 2); estimated $0.12"
    )
    assert "quality=high · image_size=1536x1024" in text and "0x" not in text


def test_fs_sweep_is_the_module_and_calling_it_sweeps() -> None:
    import types

    import falstudio.sweep as module

    # `import falstudio.sweep` gives the module (with its names), and calling it is `sweep(...)`
    assert isinstance(module, types.ModuleType) and module.Sweep is Sweep and falstudio.sweep is module
    made = falstudio.sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"])
    assert isinstance(made, Sweep) and repr(made) == repr(
        sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"])
    )


def test_problems_quote_text_values_but_not_numbers() -> None:
    with pytest.raises(SweepError) as info:
        sweep({"prompt": "a red fox"}, endpoint="fal-ai/gpt-image-1-mini", num_images=[1, 9], quality=["high"])
    assert "variation 1 (num_images=9, quality='high')" in str(info.value)  # 9 is a number, not '9'


def test_valid_variations_are_validated_in_one_call_per_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 29: a sweep's requests go to pydantic together; one by one only to explain a refusal."""

    def one_by_one(*_: object, **__: object) -> None:
        raise AssertionError("validated one by one")

    monkeypatch.setattr(GptImage1MiniRequest, "model_validate", classmethod(one_by_one))
    monkeypatch.setattr(GptImage15Request, "model_validate", classmethod(one_by_one))
    s = sweep({"prompt": "a fox"}, endpoint=[MINI, V15], quality=["low", "high"], image_size=SIZES)
    assert [(v.endpoint, v.request.quality, v.request.image_size) for v in s][:3] == [
        (MINI, "low", "1024x1024"),
        (MINI, "low", "1536x1024"),
        (MINI, "high", "1024x1024"),
    ]
    assert [v.index for v in s] == list(range(8))
    assert all(type(v.request) is (GptImage1MiniRequest if v.endpoint == MINI else GptImage15Request) for v in s)


def test_a_refused_value_among_many_is_named_with_its_variation() -> None:
    with pytest.raises(SweepError) as caught:
        sweep({"prompt": "a fox", "background": "transparent"}, endpoint=MINI, output_format=["webp", "jpeg", "png"])
    assert caught.value.problems == [
        "variation 1 (output_format='jpeg') on fal-ai/gpt-image-1-mini: output_format: background='transparent' needs "
        "output_format 'png' or 'webp', not 'jpeg'; change output_format or set background to 'auto' or 'opaque'; "
        "remove that value from the 'output_format' axis"
    ]


def test_variations_are_built_with_the_collector_paused_and_it_is_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from falstudio.sweep import _expand

    seen = []
    together = _expand._Builder.together
    monkeypatch.setattr(_expand._Builder, "together", lambda self, c: seen.append(gc.isenabled()) or together(self, c))
    was = gc.isenabled()
    gc.enable()
    try:
        assert len(sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"])) == 2
        assert seen == [False]
        assert gc.isenabled()
    finally:
        if not was:
            gc.disable()
