"""The size control of GPT Image 2's forms: presets, auto and a custom width x height checked as it is typed."""

from __future__ import annotations

import html

import pytest

from falstudio.endpoints import ImageSize
from falstudio.widgets import RequestForm
from falstudio.widgets.form._size_input import CUSTOM, SizeInput

T2I, EDIT = "openai/gpt-image-2", "openai/gpt-image-2/edit"
PRESETS = ["square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9"]


@pytest.fixture
def form() -> RequestForm:
    return RequestForm(T2I, value={"prompt": "a lighthouse"})


def size_input(form: RequestForm) -> SizeInput:
    control = form.controls["image_size"]
    assert isinstance(control.input, SizeInput)
    return control.input


def test_presets_auto_and_custom_are_offered(form: RequestForm) -> None:
    size = size_input(form)
    assert [v for _, v in size.choice.options] == [*PRESETS, "auto", CUSTOM]
    labels = dict((v, label) for label, v in size.choice.options)
    assert labels["landscape_4_3"] == "landscape_4_3 (~1024×768)" and labels["auto"] == "auto"
    assert size.choice.value == "landscape_4_3" and size.custom_row.layout.display == "none"
    assert "usually 1024×768" in size.hint.value and "unverified" in size.hint.value
    assert form.value.payload() == {"prompt": "a lighthouse"}  # the default is not sent


def test_a_preset_or_auto_is_sent_as_its_name(form: RequestForm) -> None:
    size_input(form).choice.value = "square_hd"
    assert form.value.payload()["image_size"] == "square_hd"
    size_input(form).choice.value = "auto"
    assert form.value.payload()["image_size"] == "auto" and "the model picks" in size_input(form).hint.value
    assert "Estimated cost: <b>≤ $" in form.cost_label.value  # auto: an upper bound


def test_a_custom_size_is_checked_as_it_is_typed(form: RequestForm) -> None:
    size = size_input(form)
    size.choice.value = CUSTOM
    assert size.custom_row.layout.display == "flex" and size.width.continuous_update
    assert form.value.payload()["image_size"] == {"width": 1024, "height": 1024}
    assert "multiples of 16" in size.hint.value and size.nearest_button.layout.display == "none"

    size.width.value = 1000  # each change re-validates with the model: the error shows under the field
    assert not form.is_valid and form.generate_button.disabled
    error = form.errors["image_size"]
    assert "width 1000 is not a multiple of 16" in error and "nearest valid size is 992x1024" in error
    assert "Error: 1000x1024 breaks fal" in form.controls["image_size"].error.value
    assert "Estimated cost: —" in form.cost_label.value
    assert size.nearest_button.layout.display != "none" and size.nearest_button.description == "use 992×1024"

    size.nearest_button.click()
    assert (size.width.value, size.height.value) == (992, 1024)
    assert form.is_valid and form.controls["image_size"].error.value == ""
    assert form.value.image_size == ImageSize(width=992, height=1024)

    size.width.value, size.height.value = 4000, 1000
    assert "the longest side 4000 is over 3840" in form.errors["image_size"]
    assert "the ratio 4.00:1 is over 3:1" in form.errors["image_size"]
    size.width.value, size.height.value = 1536, 864
    assert form.is_valid and form.value.payload()["image_size"] == {"width": 1536, "height": 864}
    assert form.cost_label.value.count("~$0.1435") == 1  # off fal's table: an approximation
    assert '"image_size": {"width": 1536, "height": 864}' in form.to_code()


@pytest.mark.parametrize("value", ["1536x864", {"width": 1536, "height": 864}, ImageSize(width=1536, height=864)])
def test_filled_from_python_in_any_form(form: RequestForm, value: object) -> None:
    form.value = {"prompt": "a fox", "image_size": value}
    size = size_input(form)
    assert size.choice.value == CUSTOM and (size.width.value, size.height.value) == (1536, 864)
    assert form.value.payload() == {"prompt": "a fox", "image_size": {"width": 1536, "height": 864}}
    assert RequestForm(T2I, value=form.value).value == form.value  # round trip
    assert '{"width": 1536, "height": 864}' in html.unescape(form._static_html())


def test_values_that_are_no_size_are_refused_before_anything_changes(form: RequestForm) -> None:
    for bad in ("huge", {"width": 0, "height": 5}, 12):
        with pytest.raises(ValueError, match="image_size: cannot show"):
            form.value = {"prompt": "a fox", "image_size": bad}
    assert form.value.prompt == "a lighthouse"


def test_the_edit_form_has_the_size_control_a_mask_and_up_to_16_images() -> None:
    form = RequestForm(EDIT)
    assert list(form.controls) == [
        "prompt",
        "image_urls",
        "image_size",
        "quality",
        "num_images",
        "output_format",
        "sync_mode",
        "mask_url",
    ]
    assert (
        size_input(form).choice.value == "auto"
        and "(infer it from the input images)" in form.controls["image_size"].spec.description
    )
    assert form.controls["image_urls"].spec.kind == "images" and form.controls["image_urls"].editor.max_items == 16
    assert form.controls["mask_url"].spec.kind == "image" and form.controls["mask_url"].editor.max_items == 1
    form.controls["prompt"].input.value = "make it sepia"
    for i in range(16):
        form.add_image(f"https://example.com/{i}.png")
    form.add_image("https://example.com/mask.png", "mask_url")
    request = form.value
    assert len(request.image_urls) == 16 and request.mask_url == "https://example.com/mask.png"
    with pytest.raises(ValueError):
        form.add_image("https://example.com/17.png")
