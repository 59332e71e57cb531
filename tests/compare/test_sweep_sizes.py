"""Sweeps and Compare across size models: each size sent in each endpoint's own form, and shown as sent."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import falstudio as fs
from falstudio.client import Client
from falstudio.endpoints import ImageSize
from falstudio.sweep import SweepError, sweep
from falstudio.widgets import Compare
from falstudio.widgets.compare._axes import COMMON_SIZES, axis_options

MINI, GPT2 = "fal-ai/gpt-image-1-mini", "openai/gpt-image-2"
PRESETS = ("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9")


def test_one_sweep_across_two_size_models() -> None:
    s = fs.sweep({"prompt": "a red fox"}, endpoint=[MINI, GPT2], image_size=["1024x1024", "1536x1024"])
    assert len(s) == 4 and s.endpoints == (MINI, GPT2)
    sent = [(v.endpoint, v.request.payload()["image_size"]) for v in s]
    assert sent == [
        (MINI, "1024x1024"),
        (MINI, "1536x1024"),
        (GPT2, {"width": 1024, "height": 1024}),
        (GPT2, {"width": 1536, "height": 1024}),
    ]
    assert [v.params["image_size"] for v in s] == ["1024x1024", "1536x1024"] * 2  # the axis keeps its values
    assert [v.translated() for v in s][:2] == [{}, {}]
    assert s[3].translated() == {"image_size": {"width": 1536, "height": 1024}}
    assert s[2].cost.breakdown["images"] == Decimal("0.22")  # GPT Image 2's default quality, high


def test_sizes_a_model_cannot_take_name_the_endpoint_the_value_and_the_nearest() -> None:
    with pytest.raises(SweepError) as err:
        sweep({"prompt": "a fox"}, endpoint=[MINI, GPT2], image_size=["1536x864", "1000x600"])
    problems = err.value.problems
    assert len(problems) == 3  # 1536x864 is fine on GPT Image 2
    assert problems[0].startswith("variation 0 (endpoint='fal-ai/gpt-image-1-mini', image_size='1536x864'): ")
    assert "fal-ai/gpt-image-1-mini cannot take image_size '1536x864'" in problems[0]
    assert "the nearest it takes is '1536x1024'" in problems[0]
    assert "openai/gpt-image-2 cannot take image_size '1000x600'" in problems[2]
    assert 'the nearest it takes is {"width": 1024, "height": 640}' in problems[2]
    assert "not a multiple of 16" in problems[2] and "drop openai/gpt-image-2 from the endpoint axis" in problems[2]
    with pytest.raises(SweepError, match=r"cannot take image_size 'landscape_16_9'.*nearest it takes is '1536x1024'"):
        sweep({"prompt": "a fox", "image_size": "landscape_16_9"}, endpoint=[GPT2, MINI])


def test_a_size_object_on_the_base_goes_to_each_endpoint_in_its_form() -> None:
    base = fs.endpoints.GptImage2Request(prompt="a fox", image_size={"width": 1024, "height": 1536})
    s = sweep(base, endpoint=[GPT2, MINI])
    assert [v.request.payload()["image_size"] for v in s] == [{"width": 1024, "height": 1536}, "1024x1536"]


def test_the_axis_picker_offers_gpt_image_2_sizes() -> None:
    options = axis_options(GPT2)["image_size"]
    assert options == (*PRESETS, "auto", *COMMON_SIZES)
    for size in COMMON_SIZES:  # every size offered is valid on GPT Image 2
        assert fs.endpoints.GptImage2Request(prompt="ab", image_size=size).image_size
    c = Compare(sweep({"prompt": "a fox"}, endpoint=GPT2, image_size=["1536x864", "2048x1152"]))
    try:
        assert c.picker.checked("image_size") == ["1536x864", "2048x1152"]  # sizes given in code get boxes too
        c.picker.set_checked("image_size", ["square_hd", "1024x1024"])
        c.picker.set_checked("endpoint", [GPT2, MINI])
        assert c._problem is not None and "fal-ai/gpt-image-1-mini cannot take image_size 'square_hd'" in c._problem
        c.picker.set_checked("image_size", ["1024x1024", "1536x1024"])
        assert len(c.sweep) == 4 and c.sweep[0].request.payload()["image_size"] == {"width": 1024, "height": 1024}
        labels = [b.description for b in c.picker._boxes["endpoint"].values()]
        assert labels[0] == GPT2 and f"{MINI} (retired)" in labels
    finally:
        c.close()


def test_tiles_say_what_was_sent_when_the_baseline_was_translated_too() -> None:
    c = Compare(sweep({"prompt": "a fox"}, endpoint=GPT2, quality=["low", "high"], image_size=["1024x1024"]))
    try:
        views = [t.html().replace("&quot;", '"') for t in c._tiles]
        assert all("Sent:</span> image_size: 1024x1024 as {width, height}" in v for v in views)
        assert "Differs:</span> baseline" in views[0] and "Differs:</span> quality: high" in views[1]
    finally:
        c.close()


def test_a_size_object_on_the_base_is_ticked_as_its_box() -> None:
    c = Compare(fs.endpoints.GptImage2Request(prompt="a fox", image_size=ImageSize(width=2560, height=1440)))
    try:
        assert c.picker.checked("image_size") == ["2560x1440"]
        assert c.sweep[0].request.payload()["image_size"] == {"width": 2560, "height": 1440}
    finally:
        c.close()


def test_the_grid_export_and_results_show_what_was_sent(client: Client, tmp_path: Path) -> None:
    s = sweep({"prompt": "a red fox", "quality": "low"}, endpoint=[MINI, GPT2], image_size=["1024x1024", "1536x1024"])
    c = Compare(s, client=client)
    try:
        c.run()
        results = c.wait(120)
        assert [r["state"] for r in results] == ["done"] * 4
        pixels = [(r["result"].images[0].width, r["result"].images[0].height) for r in results]
        assert pixels == [(1024, 1024), (1536, 1024)] * 2  # the offline engine draws exactly the size sent
        assert results[3]["sent"] == {"image_size": {"width": 1536, "height": 1024}}
        assert results[1]["sent"] == {"image_size": "1536x1024"} and results[3]["image_size"] == "1536x1024"
        assert results[3]["request"]["image_size"] == {"width": 1536, "height": 1024}
        view = c._tiles[3].html().replace("&quot;", '"')
        assert "Differs:</span> endpoint: openai/gpt-image-2 · image_size: 1536x1024" in view  # sizes as WxH
        page = c.export_html(tmp_path / "sizes").read_text(encoding="utf-8").replace("&quot;", '"')
        assert "image_size: 1536x1024 as {width, height}" not in page  # a size the endpoint took as given
        assert page.count('{"width": 1536, "height": 1024}') >= 1  # the parameter table: the request as sent
    finally:
        c.close()
