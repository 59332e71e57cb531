"""The rough edges a person meets in the form and the Studio (issue 15): labels, help, units, when errors show,
blank prompts, image URLs on the offline server, and "Run again"."""

from __future__ import annotations

import pytest

from falstudio.client import Client, errors
from falstudio.endpoints.fields import human_title
from falstudio.local import LocalServer
from falstudio.widgets import RequestForm
from falstudio.widgets.studio import Studio

BYOK = "fal-ai/gpt-image-1/edit-image/byok"


def test_labels_are_human_with_units_and_help_from_the_descriptions() -> None:
    assert human_title("num_images") == "Number of images" and human_title("sync_mode") == "Sync mode"
    assert human_title("mask_url") == "Mask URL" and human_title("openai_api_key") == "OpenAI API key"
    assert human_title("num_images", "Num Images") == "Number of images"  # fal's title-cased names are not titles
    assert human_title("seed", "Random seed") == "Random seed"  # a real title wins
    form = RequestForm("fal-ai/gpt-image-1-mini")
    slider = form.controls["num_images"]
    assert slider.input.description == "Number of images" and slider.spec.unit == "images"
    field, mark = slider.box.children[0].children  # the field (its unit beside it), then its "?" in one column
    assert slider.unit in field.children and ">image<" in slider.unit.value  # "1 image", not "1 images"
    slider.input.value = 3
    assert ">images<" in slider.unit.value
    assert "How many images to generate" in mark.value and 'role="tooltip"' in mark.value  # the "?" with the help
    assert field.layout.flex == "0 1 34em"  # every field with help is as wide: the marks line up
    assert (
        form.controls["image_size"].input.description == "Image size" and form.controls["image_size"].spec.unit == "px"
    )


def test_a_prompt_of_only_spaces_is_not_ready_and_the_error_names_the_field(server: LocalServer) -> None:
    form = RequestForm("openai/gpt-image-2")
    form.controls["prompt"].input.value = "    "
    assert not form.is_valid and form.generate_button.disabled
    assert "only spaces" in form.errors["prompt"]
    assert "1 problem: Prompt" in form.summary.value and "only spaces" in form.controls["prompt"].error.value
    with Client(base_url=server.url, key=server.key) as client, pytest.raises(errors.InvalidRequestError) as info:
        client.submit("openai/gpt-image-2", {"prompt": " \n "})
    assert info.value.fields() == ["prompt"] and "fix prompt" in str(info.value.hint)


def test_the_byok_form_opens_without_red_errors_and_shows_them_once_touched_or_generated() -> None:
    form = RequestForm(BYOK)
    assert set(form.errors) == {"image_urls", "openai_api_key"} or "image_urls" in form.errors
    assert all(c.error.value == "" for c in form.controls.values()), "no red error before anything was touched"
    assert "Error" not in form.summary.value and "To fill in: Image URLs" in form.summary.value
    form.controls["prompt"].input.value = "x"
    form.controls["prompt"].input.value = ""  # touched: its error shows, the others stay quiet
    assert "required" in form.controls["prompt"].error.value and form.controls["image_urls"].error.value == ""
    assert "still needed: Image URLs" in form.summary.value
    form.controls["prompt"].input.value = "make it pop"
    form.generate_button.click()  # disabled in the browser; from Python it shows every error
    form._on_generate()
    assert "add at least 1 image" in form.controls["image_urls"].error.value
    assert "OPENAI_API_KEY" in form.controls["openai_api_key"].error.value


def test_on_the_offline_server_image_fields_ask_for_uploads_and_refuse_web_urls_naming_the_field() -> None:
    form = RequestForm("openai/gpt-image-2/edit", offline=True)
    editor = form.controls["image_urls"].editor  # type: ignore[attr-defined]
    assert "https" not in editor.source.placeholder and "Upload" in editor.source.placeholder
    assert "no network" in editor.help.value
    editor.source.value = "https://example.com/photo.png"
    editor.add_button.click()
    assert "Image URLs: the offline preview server cannot fetch http(s) URLs" in editor.status.value
    assert editor.urls == []
    online = RequestForm("openai/gpt-image-2/edit").controls["image_urls"].editor  # type: ignore[attr-defined]
    assert online.source.placeholder.startswith("https://")


def test_the_offline_server_refusing_a_url_names_the_field(server: LocalServer) -> None:
    with Client(base_url=server.url, key=server.key) as client, pytest.raises(errors.InvalidRequestError) as info:
        client.subscribe("openai/gpt-image-2/edit", {"prompt": "edit", "image_urls": ["https://example.com/a.png"]})
    text = str(info.value)
    assert "image_urls.0: the offline server does not fetch http(s) URLs" in text
    assert "listed above" not in text and "fix image_urls" in text


def test_run_again_runs_the_request_even_when_the_form_already_holds_it(server: LocalServer) -> None:
    client = Client(base_url=server.url, key=server.key)
    studio = Studio(client, endpoint="openai/gpt-image-2", prompt="a kite   over dunes")
    try:
        studio.click_generate()
        studio.wait(60)
        studio.refresh_history()
        item = studio._history_box.children[0]
        again = item.children[1]
        assert (
            again.tooltip == "Run again: a kite over dunes · openai/gpt-image-2"
            and "fs-name-from-title" in again._dom_classes
        )
        assert "a kite over dunes" in item.children[0].value  # the tile shows the prompt
        before = len(studio.jobs)
        again.click()
        assert len(studio.jobs) == before + 1  # it runs: a new job, not just a refill
        assert "Running again: “a kite over dunes”" in studio.form.summary.value
        studio.wait(60)
        assert studio.jobs[0].state == "done" and "a kite" in studio.jobs[0].children[1].value  # the prompt line
    finally:
        studio.close()
        client.close()
