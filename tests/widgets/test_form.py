"""RequestForm for every registered endpoint: order, defaults, widget kinds, per-field errors, round trips, code."""

from __future__ import annotations

import re
from typing import Literal, get_args, get_origin

import ipywidgets as w
import pytest
from PIL import Image
from pydantic import SecretStr, ValidationError

from falstudio._internal import images as _images
from falstudio.endpoints import REGISTRY, ImageSize
from falstudio.widgets import RequestForm
from falstudio.widgets.form._image_list import ImageListEditor
from falstudio.widgets.form._secret import SecretInput
from falstudio.widgets.form._size_input import SizeInput

ENDPOINTS = list(REGISTRY)
URL = "https://example.com/input.png"


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def png_uri(size=(40, 30), color="red") -> str:
    return _images.encode_image(Image.new("RGB", size, color))


def expected_widget(name: str, info) -> type:
    """What the issue asks for, read straight off the pydantic field (independent of the form's mapper)."""
    ann = info.annotation
    if get_origin(ann) is Literal:
        return w.ToggleButtons if len(get_args(ann)) <= 4 else w.Dropdown
    if ann is bool:
        return w.Checkbox
    if ann is int:
        return w.IntSlider
    if ann is SecretStr:
        return SecretInput
    if name in ("image_urls", "mask_image_url", "mask_url"):
        return ImageListEditor
    if name == "image_size" and ImageSize in get_args(ann):  # presets, auto or {width, height}
        return SizeInput
    if name == "prompt":
        return w.Textarea
    raise AssertionError(f"no expectation for {name}")


def fill_required(form: RequestForm) -> None:
    """The least a user must do: a prompt, an input image where needed, a key where needed."""
    form.controls["prompt"].input.value = "a red fox in the snow"
    if "image_urls" in form.controls:
        form.add_image(URL)
    if "openai_api_key" in form.controls:
        form.set_secret("openai_api_key", "sk-test-not-a-real-key")


def set_non_defaults(form: RequestForm) -> None:
    """Every optional field moved away from its default, through the widgets."""
    for name, control in form.controls.items():
        spec, box = control.spec, control.input
        if spec.kind == "choice":
            box.value = next(v for _, v in reversed(spec.options) if v != spec.default)
        elif spec.kind == "size":
            box.value = {"width": 1536, "height": 864}
        elif spec.kind == "int":
            box.value = box.max if spec.default != box.max else box.min
        elif spec.kind == "bool":
            box.value = not spec.default
        elif spec.kind == "image":
            form.add_image(png_uri(), name)
    if "background" in form.controls and "output_format" in form.controls:
        form.controls["output_format"].input.value = "webp"  # transparent (the last option) needs png/webp


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_fields_in_model_order_with_the_expected_widgets(endpoint_id):
    form = RequestForm(endpoint_id)
    model = REGISTRY[endpoint_id].input_model
    assert list(form.controls) == list(model.model_fields)
    masks = [n for n in form.controls if n in ("mask_url", "mask_image_url")]  # shown right after the images
    names = [n for n in form.controls if n not in masks]
    for mask in masks:
        names.insert(names.index("image_urls") + 1, mask)
    boxes = [form.controls[n].box for n in names]
    assert [c for c in form.children if c in boxes] == boxes, "the boxes are shown in model order, a mask by its images"
    for name, info in model.model_fields.items():
        assert isinstance(form.controls[name].input, expected_widget(name, info)), name


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_defaults_are_the_models_defaults_and_only_user_choices_are_sent(endpoint_id):
    form = RequestForm(endpoint_id)
    model = REGISTRY[endpoint_id].input_model
    for name, info in model.model_fields.items():
        if not info.is_required():
            assert form.controls[name].get() == info.default, name
    fill_required(form)
    request = form.value
    assert isinstance(request, model)
    assert request.model_fields_set == {n for n, i in model.model_fields.items() if i.is_required()}
    expected = model.model_validate({n: getattr(request, n) for n in request.model_fields_set})
    assert request == expected
    assert set(request.payload()) == request.model_fields_set


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_round_trip_keeps_values_and_what_was_set(endpoint_id):
    form = RequestForm(endpoint_id)
    fill_required(form)
    set_non_defaults(form)
    assert form.is_valid, form.errors
    before = form.value
    form.value = form.value
    after = form.value
    assert after == before and after.model_fields_set == before.model_fields_set
    assert after.payload() == before.payload()
    other = RequestForm(endpoint_id, value=before)
    assert other.value == before and other.value.payload() == before.payload()
    assert repr(other) == repr(form)


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
def test_errors_appear_under_their_field_and_block_generate(endpoint_id):
    form = RequestForm(endpoint_id)
    fill_required(form)
    assert form.is_valid and not form.generate_button.disabled and not form.errors
    assert "ready" in form.summary.value
    form.controls["prompt"].input.value = ""
    assert not form.is_valid and form.generate_button.disabled
    assert set(form.errors) == {"prompt"}
    assert form.errors["prompt"] == "required" and "Error: required" in form.controls["prompt"].error.value
    assert "1 problem: Prompt" in form.summary.value
    assert all(c.error.value == "" for n, c in form.controls.items() if n != "prompt")
    metadata = REGISTRY[endpoint_id].input_model.model_fields["prompt"].metadata
    shortest = next(m.min_length for m in metadata if hasattr(m, "min_length"))
    if shortest > 1:
        form.controls["prompt"].input.value = "x"
        assert f"at least {shortest} characters" in form.controls["prompt"].error.value
    form.controls["prompt"].input.value = "ok prompt"
    assert form.is_valid and form.controls["prompt"].error.value == ""


WITH_FORMAT = [e for e in ENDPOINTS if {"output_format", "background"} <= set(REGISTRY[e].input_model.model_fields)]


@pytest.mark.parametrize("endpoint_id", WITH_FORMAT)
def test_cross_field_error_lands_on_output_format(endpoint_id):
    form = RequestForm(endpoint_id)
    fill_required(form)
    form.controls["background"].input.value = "transparent"
    form.controls["output_format"].input.value = "jpeg"
    assert list(form.errors) == ["output_format"]
    assert "transparent" in form.controls["output_format"].error.value
    assert form.controls["background"].error.value == ""
    with pytest.raises(ValidationError):
        form.value  # noqa: B018


@pytest.mark.parametrize("endpoint_id", [e for e in ENDPOINTS if REGISTRY[e].kind == "image-edit"])
def test_image_urls_errors(endpoint_id):
    form = RequestForm(endpoint_id)
    fill_required(form)
    editor = form.controls["image_urls"].input
    editor.remove(0)
    assert form.errors == {"image_urls": "required: add at least 1 image"}
    assert "Error: required: add at least 1 image" in form.controls["image_urls"].error.value
    form.value = {**form.to_dict(), "image_urls": ["not-a-url"]}  # a held key stays: to_dict() gives "***"
    assert list(form.errors) == ["image_urls"]
    assert "image 1: expected an http(s) URL" in form.errors["image_urls"]


def test_generate_calls_on_submit_with_the_typed_request():
    form = RequestForm("fal-ai/gpt-image-1-mini")
    seen = []
    form.on_submit(seen.append)
    form.generate_button.click()
    assert seen == [], "Generate does nothing while the form is invalid"
    form.controls["prompt"].input.value = "a cat"
    form.controls["quality"].input.value = "low"
    form.generate_button.click()
    assert seen == [form.value] and seen[0].payload() == {"prompt": "a cat", "quality": "low"}
    form.on_submit(seen.append, remove=True)
    form.generate_button.click()
    assert len(seen) == 1
    assert "nothing is listening" in form.summary.value


def test_is_valid_and_errors_are_observable():
    form = RequestForm("fal-ai/gpt-image-1-mini")
    changes = []
    form.observe(lambda c: changes.append((c["name"], c["new"])), names=["is_valid", "errors"])
    form.controls["prompt"].input.value = "x"
    assert ("is_valid", True) in changes and ("errors", {}) in changes


def test_value_setter_checks_everything_before_changing_anything():
    form = RequestForm("fal-ai/gpt-image-1-mini", value={"prompt": "keep me", "quality": "low"})
    with pytest.raises(ValueError, match=r"unknown field 'qualty' for fal-ai/gpt-image-1-mini; did you mean 'quality'"):
        form.value = {"prompt": "new", "qualty": "high"}
    with pytest.raises(ValueError, match=r"quality: cannot show 'ultra'; expected one of 'auto', 'low'"):
        form.value = {"prompt": "new", "quality": "ultra"}
    with pytest.raises(ValueError, match=r"num_images: cannot show 9; expected a value from 1 to 4"):
        form.value = {"prompt": "new", "num_images": 9}
    with pytest.raises(TypeError, match="GptImage1MiniRequest or a dict"):
        form.value = ["prompt"]
    assert form.value.payload() == {"prompt": "keep me", "quality": "low"}
    form.value = {"prompt": "fresh"}
    assert form.value.payload() == {"prompt": "fresh"}, "fields left out go back to their defaults"
    assert form.controls["quality"].input.value == "auto"


def test_explicit_default_survives_a_round_trip():
    model = REGISTRY["fal-ai/gpt-image-1-mini"].input_model
    request = model(prompt="p", quality="auto")
    form = RequestForm("fal-ai/gpt-image-1-mini", value=request)
    assert form.value.model_fields_set == {"prompt", "quality"}
    assert form.value.payload() == {"prompt": "p", "quality": "auto"}


def test_add_image_takes_urls_data_uris_paths_bytes_pil_and_uploads(tmp_path):
    form = RequestForm("fal-ai/gpt-image-1.5/edit")
    editor = form.controls["image_urls"].input
    path = tmp_path / "in.png"
    Image.new("RGBA", (20, 10), (0, 0, 255, 128)).save(path)
    form.add_image(URL)
    form.add_image(Image.new("RGB", (32, 16), "green"))
    assert form.add_image(path).startswith("data:image/png;base64,")
    form.add_image(path.read_bytes())
    uri = png_uri()
    form.add_image(uri)
    editor.source.value = str(path)
    editor.add_button.click()
    assert editor.source.value == "" and editor.status.value == ""
    jpeg = _images.image_bytes(Image.new("RGB", (8, 8), "blue"), "jpeg")
    # what the browser sends after a file is picked, dropped or pasted: names and bytes in one message
    editor.upload._handle_custom_msg({"event": "files", "names": ["up.jpg"]}, [memoryview(jpeg)])
    assert "up.jpg" not in str(editor.upload.get_state()), "uploaded files are not kept in the widget"
    assert "up.jpg · JPEG 8×8" in editor.rows.children[-1].children[1].value  # the row names the file
    urls = form.controls["image_urls"].get()
    assert len(urls) == 7 and urls[0] == URL and urls[4] == uri
    assert urls[6].startswith("data:image/jpeg;base64,") and _images.decode_data_uri(urls[6])[0] == jpeg
    assert len(editor.rows.children) == 7
    first_row = editor.rows.children[1]
    assert 'alt="Image URLs image 2"' in first_row.children[0].value and "PNG 32×16" in first_row.children[1].value
    first_row.children[-1].click()  # Remove (last in its row, under the others)
    assert len(form.controls["image_urls"].get()) == 6 and form.controls["image_urls"].get()[0] == URL
    form.controls["prompt"].input.value = "combine them"
    assert form.is_valid and len(form.value.image_urls) == 6


def test_image_input_errors_are_explained(tmp_path):
    form = RequestForm("fal-ai/gpt-image-1-mini/edit")
    editor = form.controls["image_urls"].input
    with pytest.raises(ValueError, match="no such file"):
        form.add_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="not a PNG, JPEG, WebP or GIF"):
        form.add_image(b"hello")
    with pytest.raises(ValueError, match="not an image data URI"):
        form.add_image("data:text/plain,hi")
    with pytest.raises(TypeError, match="cannot use a int as an image"):
        form.add_image(3)
    with pytest.raises(ValueError, match="no image field"):
        RequestForm("fal-ai/gpt-image-1-mini").add_image(URL)
    editor.source.value = str(tmp_path / "nope.png")
    editor.add_button.click()
    assert "Error: no such file" in editor.status.value
    for _ in range(16):
        form.add_image(URL)
    assert editor.source.disabled and editor.upload.disabled
    with pytest.raises(ValueError, match="at most 16"):
        form.add_image(URL)


def test_optional_mask_is_unset_until_given():
    form = RequestForm("fal-ai/gpt-image-1.5/edit")
    fill_required(form)
    assert "mask_image_url" not in form.value.payload()
    mask = png_uri((16, 16), "black")
    form.add_image(mask, "mask_image_url")
    assert form.value.mask_image_url == mask and form.controls["mask_image_url"].input.add_button.disabled
    form.controls["mask_image_url"].input.remove(0)
    assert "mask_image_url" not in form.value.payload()


def test_prompt_character_count():
    form = RequestForm("fal-ai/gpt-image-1-mini")
    count = form.controls["prompt"].count
    assert "0 / 32,000 characters" in count.value
    form.controls["prompt"].input.value = "hello"
    assert "5 / 32,000 characters" in count.value
    form.value = {"prompt": "x" * 32_001}
    assert "32,001 / 32,000 characters" in count.value and "Error:" in count.value and "prompt" in form.errors


def test_cost_label_follows_the_request():
    spec = REGISTRY["fal-ai/gpt-image-1-mini"]
    form = RequestForm(spec.id)
    assert "—" in form.cost_label.value
    form.value = {"prompt": "a cat", "quality": "low", "image_size": "1024x1024", "num_images": 3}
    estimate = spec.estimate_cost(form.value)
    assert str(estimate) in form.cost_label.value and form.cost_label.tooltip == estimate.explanation


@pytest.mark.parametrize("endpoint_id", ENDPOINTS)
@pytest.mark.parametrize("style", ["falstudio", "fal_client"])
def test_copy_as_code_compiles_and_leaves_big_data_uris_out(endpoint_id, style):
    form = RequestForm(endpoint_id)
    fill_required(form)
    if "image_urls" in form.controls:
        form.add_image(png_uri((300, 300)))
    code = form.to_code(style)
    compile(code, "<snippet>", "exec")
    assert f'"{endpoint_id}"' in code and '"a red fox in the snow"' in code
    assert ("fs.Client().subscribe(" if style == "falstudio" else "fal_client.subscribe(") in code
    assert "base64" not in code
    if "image_urls" in form.controls:
        assert f'{"fs" if style == "falstudio" else "fal_client"}.encode_file("input-1.png")' in code
    if "openai_api_key" in form.controls:
        assert 'os.environ["OPENAI_API_KEY"]' in code and "sk-test" not in code


def test_copy_as_code_copies_in_the_browser_then_shows_the_snippet_escaped():
    form = RequestForm("fal-ai/gpt-image-1-mini", value={"prompt": "<b>bold</b> & more"})
    assert form.code_box.layout.display == "none"
    assert form.copy_code.text == form.to_code() and "<b>bold</b> & more" in form.copy_code.text  # what JS copies
    form.copy_code._on_message(form.copy_code, {"event": "copied", "ok": True}, [])  # the browser copied it
    assert form.copy_code.copies == 1 and form.code_box.layout.display == "flex"
    form.hide_code.click()
    assert form.code_box.layout.display == "none"
    form.show_code()
    assert form.code_box.layout.display == "flex"
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in form.code_view.value and "<pre" in form.code_view.value
    form.code_style.value = "fal_client"
    assert "fal_client.subscribe(" in form.code_view.value
    form.controls["prompt"].input.value = ""
    assert "# Not valid yet: prompt" in form.code_view.value


def test_repr_is_deterministic_and_the_static_view_is_inline_html():
    values = {"prompt": "a cat " * 30, "quality": "low", "num_images": 2}
    a, b = RequestForm("fal-ai/gpt-image-1-mini", value=values), RequestForm("fal-ai/gpt-image-1-mini", value=values)
    assert repr(a) == repr(b)
    assert repr(a) == (
        f"RequestForm('fal-ai/gpt-image-1-mini', valid, prompt='{'a cat ' * 10}…', quality='low', num_images=2)"
    )
    assert "0x" not in repr(a)
    bundle = a._repr_mimebundle_()
    assert bundle["text/plain"] == repr(a)[:110] + "…"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert html == b._static_html()
    assert "<script" not in html and "<style" not in html and " id=" not in html
    assert (
        "Quality" in html
        and "Number of images" in html
        and "low" in html
        and "(default)" in html
        and "valid request" in html
    )
    assert "Estimated cost" in html
    for decl in re.findall(r"(?<![-\w])(?:color|background):([^;\"]+)", html):
        assert decl.startswith(("var(--jp-", "transparent", "inherit")), decl


def test_every_control_is_labelled():
    form = RequestForm("fal-ai/gpt-image-1.5/edit")
    todo, seen = [form], 0
    while todo:
        widget = todo.pop()
        todo.extend(getattr(widget, "children", ()))
        if isinstance(
            widget,
            (
                w.Text,
                w.Textarea,
                w.ToggleButtons,
                w.Dropdown,
                w.IntSlider,
                w.Checkbox,
                w.Button,
                w.ToggleButton,
                w.FileUpload,
            ),
        ):
            seen += 1
            assert widget.description and widget.tooltip, widget
    assert seen >= 15


def test_a_plain_pydantic_model_works_too():
    from pydantic import BaseModel, Field, model_validator

    class Thing(BaseModel):
        prompt: str = Field(min_length=1)
        steps: int = Field(20, ge=1, le=50)
        seed: int | None = None
        strength: float = Field(0.5, ge=0.0, le=1.0)
        tags: list[str] = Field(default_factory=lambda: ["a"])
        style: Literal["a", "b", "c", "d", "e"] = "c"

        @model_validator(mode="after")
        def _no_e_with_many_steps(self):
            if self.style == "e" and self.steps > 40:
                raise ValueError("style e allows at most 40 steps")
            return self

    form = RequestForm(model=Thing)
    assert form.spec is None and form.cost_label.layout.display == "none"
    assert isinstance(form.controls["style"].input, w.Dropdown)
    assert isinstance(form.controls["strength"].input, w.FloatSlider)
    seed = form.controls["seed"]
    assert seed.use is not None and not seed.use.value and seed.input.disabled
    form.controls["prompt"].input.value = "hi"
    assert form.value == Thing(prompt="hi") and form.value.model_fields_set == {"prompt"}
    seed.use.value = True
    seed.input.value = 7
    form.controls["tags"].input.value = '["x", "y"]'
    assert form.value == Thing(prompt="hi", seed=7, tags=["x", "y"])
    form.value = form.value
    assert form.value.model_fields_set == {"prompt", "seed", "tags"}
    assert "owner/endpoint-id" in form.to_code()
    form.value = {"prompt": "hi", "style": "e", "steps": 45}
    assert list(form.errors) == ["form"] and "at most 40 steps" in form.errors["form"]
    assert "1 problem: form (form: Value error, style e allows at most 40 steps)" in form.summary.value
    with pytest.raises(TypeError, match="needs an endpoint id"):
        RequestForm()


def test_dropped_images_show_their_names_and_can_be_reordered() -> None:
    form = RequestForm("openai/gpt-image-2/edit", offline=True)
    editor = form.controls["image_urls"].input
    assert (
        "fs-image-field" in editor._dom_classes and editor.upload.target == "fs-image-field"
    )  # drop/paste: whole field
    red, blue = (_images.image_bytes(Image.new("RGB", (16, 8), c), "png") for c in ("red", "blue"))
    editor.upload._handle_custom_msg({"event": "files", "names": ["red.png", ""]}, [red, blue])  # "": a pasted image
    urls = list(editor.urls)
    assert len(urls) == 2 and _images.decode_data_uri(urls[0])[0] == red
    first, second = editor.rows.children
    assert "1. red.png · PNG 16×8" in first.children[1].value and "2. pasted image" in second.children[1].value
    assert [b.description for b in first.children if isinstance(b, w.Button)] == ["Remove"]  # no Move up
    up = second.children[-2]
    assert up.description == "Move up" and up.tooltip.startswith("Move image 2 up in Image URLs")
    up.click()
    assert list(editor.urls) == [urls[1], urls[0]] and form.to_dict()["image_urls"] == [urls[1], urls[0]]
    assert "1. pasted image" in editor.rows.children[0].children[1].value
    editor.upload.disabled = True  # a full field takes no more
    editor.upload.receive([("more.png", red)])
    assert len(editor.urls) == 2


def test_the_mask_sits_with_the_images() -> None:
    form = RequestForm("openai/gpt-image-2/edit")
    boxes = list(form.children)
    images, mask = form.controls["image_urls"].box, form.controls["mask_url"].box
    assert boxes.index(mask) == boxes.index(images) + 1
    assert list(form.controls).index("mask_url") > list(form.controls).index("sync_mode")  # the model's order kept


def test_a_painted_mask_has_the_first_images_size_and_another_size_is_flagged() -> None:
    form = RequestForm("openai/gpt-image-2/edit", offline=True)
    mask_editor = form.controls["mask_url"].editor
    toggle = next(c for c in mask_editor.children if getattr(c, "description", "") == "Paint a mask…")
    toggle.value = True  # no image yet: said, and the painter stays closed
    assert not toggle.value and "add an image to edit first" in mask_editor.status.value
    form.add_image(Image.new("RGB", (640, 480), "teal"))
    toggle.value = True
    painter = toggle.value and mask_editor.children[-1].children[0]
    assert (painter.image_width, painter.image_height) == (640, 480)
    assert max(Image.open(__import__("io").BytesIO(painter.background)).size) <= 512  # a small copy goes to the page
    mask = Image.new("RGBA", (640, 480), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (100, 100, 300, 200))  # transparent: the edit applies there
    painter._handle_custom_msg({"event": "mask"}, [_images.image_bytes(mask, "png")])  # "Use as mask"
    url = form.controls["mask_url"].get()
    assert (
        url.startswith("data:image/png")
        and "painted mask · PNG 640×480" in mask_editor.rows.children[0].children[1].value
    )
    assert "fal expects a mask" not in mask_editor.status.value
    form.controls["mask_url"].set(_images.image_bytes(Image.new("RGBA", (256, 256)), "png"))  # another size
    assert "the mask is 256×256 but image 1 is 640×480" in mask_editor.status.value
