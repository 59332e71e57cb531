"""fs.Compare before it runs: axis checkboxes built from the model, count and cost, the confirm step, layout."""

from __future__ import annotations

import pytest

from falstudio.endpoints import GptImage15Request
from falstudio.sweep import SweepError, sweep
from falstudio.widgets import Compare
from falstudio.widgets.compare import CostConfirmationRequired
from falstudio.widgets.compare._axes import axis_options, sibling_endpoints
from falstudio.widgets.compare._layout import grid_layout

MINI = "fal-ai/gpt-image-1-mini"
V15 = "fal-ai/gpt-image-1.5"
SIZES = ["1024x1024", "1536x1024"]


@pytest.fixture
def compare() -> Compare:
    c = Compare(sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium"], image_size=SIZES))
    yield c
    c.close()


def test_axis_options_come_from_the_model_literals() -> None:
    assert axis_options(V15) == {
        "image_size": ("1024x1024", "1536x1024", "1024x1536"),
        "background": ("auto", "transparent", "opaque"),
        "quality": ("low", "medium", "high"),
        "output_format": ("jpeg", "png", "webp"),
    }
    assert "input_fidelity" in axis_options("fal-ai/gpt-image-1.5/edit")
    assert sibling_endpoints(MINI) == ("openai/gpt-image-2", MINI, "fal-ai/gpt-image-1/text-to-image", V15)
    assert "fal-ai/gpt-image-1/edit-image/byok" not in sibling_endpoints("fal-ai/gpt-image-1-mini/edit")


def test_the_form_starts_from_the_sweep(compare: Compare) -> None:
    assert compare.picker.checked("quality") == ["low", "medium"]
    assert compare.picker.checked("image_size") == SIZES
    assert compare.picker.checked("endpoint") == [MINI]
    assert compare.picker.checked("background") == ["auto"]  # the model's default, not an axis
    assert repr(compare) == "Compare(4 variations: quality × image_size; estimated $0.06; not run)"
    assert "4 requests · estimated $0.06 in all" in compare.summary.value
    assert len(compare.jobs) == 4 and {j.state for j in compare.jobs} == {"pending"}


def test_ticking_values_makes_axes_in_the_order_they_were_made(compare: Compare) -> None:
    compare.picker.set_checked("background", ["auto", "opaque"])
    assert list(compare.sweep.axes) == ["quality", "image_size", "background"]
    assert len(compare.sweep) == 8 and "8 requests" in compare.summary.value
    compare.picker.set_checked("quality", ["high"])  # one value: a field of the base, not an axis
    assert list(compare.sweep.axes) == ["image_size", "background"]
    assert all(r.quality == "high" for r in compare.sweep.requests)
    compare.picker.set_checked("endpoint", [MINI, V15])
    assert list(compare.sweep.axes) == ["image_size", "background", "endpoint"]
    assert compare.sweep.endpoints == (MINI, V15)


def test_an_impossible_selection_disables_run_and_says_why(compare: Compare) -> None:
    compare.picker.set_checked("quality", [])
    assert compare.run_button.disabled
    assert "tick at least one quality" in compare.summary.value
    with pytest.raises(SweepError, match="tick at least one quality"):
        compare.run()
    compare.picker.set_checked("quality", ["auto"])
    compare.picker.set_checked("endpoint", [V15])  # 1.5 has no 'auto' quality
    assert compare.run_button.disabled and "quality" in compare.summary.value and V15 in compare.summary.value
    compare.picker.set_checked("quality", ["low"])
    assert not compare.run_button.disabled and compare.sweep.endpoints == (V15,)


def test_above_the_threshold_the_user_must_confirm() -> None:
    big = sweep(
        {"prompt": "a red fox", "quality": "high"},
        endpoint="fal-ai/gpt-image-1/text-to-image",
        image_size=["1024x1536", "1536x1024"],
        background=["auto", "opaque", "transparent"],
    )
    assert str(big.cost) == "$1.56"  # 6 x $0.25 list, but each request's prompt tokens round it up to $0.26
    c = Compare(big, confirm_above=1.00)
    with pytest.raises(CostConfirmationRequired, match=r"estimated at \$1\.56, above confirm_above=\$1\.00"):
        c.run()
    c.run_button.click()
    assert c.confirm_box.layout.display == "flex"
    assert "Run 6 requests for $1.56?" in c.confirm_text.value
    c.no_button.click()
    assert c.confirm_box.layout.display == "none" and {j.state for j in c.jobs} == {"pending"}
    c.close()


def test_grid_layout_rows_first_axis_columns_second_more_axes_more_rows() -> None:
    s = sweep(
        {"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"], image_size=SIZES, background=["auto", "opaque"]
    )
    layout = grid_layout(s)
    assert layout.col_axis == "image_size" and layout.row_axes == ("quality", "background")
    assert layout.col_labels == ("image_size: 1024x1024", "image_size: 1536x1024")
    assert layout.row_labels[:2] == ("quality: low · background: auto", "quality: low · background: opaque")
    cells = [i for row in layout.cells for i in row]
    assert sorted(cells) == list(range(8))
    for row_key, row in zip(layout.row_labels, layout.cells, strict=True):
        for col_key, i in zip(layout.col_labels, row, strict=True):
            params = s[i].params
            assert f"quality: {params['quality']}" in row_key and f"background: {params['background']}" in row_key
            assert col_key == f"image_size: {params['image_size']}"
    one = grid_layout(sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "high"]))
    assert one.row_axes == () and one.cells == ((0, 1),)


def test_typed_base_and_default_compare() -> None:
    c = Compare(GptImage15Request(prompt="a red fox", quality="low"))
    assert c.sweep.endpoints == (V15,) and len(c.sweep) == 1
    assert c.picker.checked("quality") == ["low"]
    c.close()
    d = Compare()
    assert d.sweep.endpoints == ("openai/gpt-image-2",) and d.sweep[0].request.prompt
    d.close()


def test_static_fallback_has_every_tile_and_no_scripts(compare: Compare) -> None:
    bundle = compare._repr_mimebundle_()
    html = bundle["text/html"]
    assert html.count("<figure") == 4 and "<script" not in html and "<style" not in html
    assert "quality: medium" in html and "image_size: 1536x1024" in html
    assert bundle["text/plain"] == repr(compare)


def test_the_prompt_of_the_base_is_editable_in_the_form() -> None:
    c = Compare()
    assert c.picker.prompt is not None and c.picker.prompt.value == c.sweep[0].request.prompt
    assert repr(c) == "Compare(1 variation: one request; estimated ~$0.1502; not run)"  # GPT Image 2, high
    c.picker.prompt.value = "a red fox"
    assert [r.prompt for r in c.sweep.requests] == ["a red fox"]
    c.picker.prompt.value = ""
    assert c.run_button.disabled and "prompt" in c.summary.value
    c.close()
    several = Compare(sweep({"quality": "low"}, endpoint=MINI, prompt=["a fox", "a cat"]))
    assert several.picker.prompt is None and "Also varied (set in code): prompt: 2 values" in str(
        [w.value for w in several.picker.children if hasattr(w, "value")]
    )
    several.close()


def test_a_sweep_that_cannot_start_says_why_in_the_summary(compare: Compare, monkeypatch: pytest.MonkeyPatch) -> None:
    import falstudio.client

    def no_client() -> None:
        raise OSError("no free port for the local server")

    monkeypatch.setattr(falstudio.client, "Client", no_client)
    compare.run_button.click()  # no client was given: Run makes one, and that fails
    assert "could not start the sweep: OSError: no free port" in compare.summary.value
    assert 'role="alert"' in compare.summary.value and not compare.run_button.disabled


def test_a_compare_that_failed_to_build_is_collected_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc
    import sys

    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with pytest.raises(TypeError, match="needs its endpoint"):
        Compare({"prompt": "a red fox"})
    gc.collect()
    assert unraisable == []  # no "Exception ignored in Widget.__del__" printed under the cell


def test_picker_labels_line_up_in_one_right_aligned_column(compare: Compare) -> None:
    from falstudio.widgets.compare._axes import _LABEL_WIDTH

    picker = compare.picker
    assert picker.prompt is not None and picker.prompt.style.description_width == _LABEL_WIDTH
    rows = [row for row in picker.children[1:] if hasattr(row, "children")]  # one per field, after the prompt
    assert len(rows) == 5
    for row in rows:
        label = row.children[0]
        assert label.layout.width == _LABEL_WIDTH and "text-align:right" in label.value
