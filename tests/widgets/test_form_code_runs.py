""" "Copy as code" snippets run: both styles, executed against the local server, images saved where they say."""

from __future__ import annotations

import pytest
from PIL import Image

from falstudio._internal import images as _images
from falstudio.widgets import RequestForm


def edit_form(endpoint_id: str) -> tuple[RequestForm, Image.Image]:
    picture = Image.new("RGB", (48, 32), (30, 120, 200))
    form = RequestForm(endpoint_id)
    form.controls["prompt"].input.value = "a blue card on a table"
    form.add_image(picture)
    form.add_image(_images.encode_image(Image.new("RGB", (16, 16), "white")))  # tiny: stays inline
    if "quality" in form.controls:
        form.controls["quality"].input.value = "low"
    if "openai_api_key" in form.controls:
        form.set_secret("openai_api_key", "sk-test-held-in-python")
    return form, picture


@pytest.mark.parametrize("endpoint_id", ["fal-ai/gpt-image-1.5/edit", "fal-ai/gpt-image-1/edit-image/byok"])
def test_falstudio_snippet_runs_against_the_local_server(endpoint_id, server, tmp_path, monkeypatch):
    form, picture = edit_form(endpoint_id)
    code = form.to_code("falstudio")
    assert "sk-test-held-in-python" not in code
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-from-env")
    picture.save("input-1.png")  # what the snippet's first line asks for
    # the only edit: this test's server instead of the default one
    code = code.replace("fs.Client()", f"fs.Client(key={server.key!r}, base_url={server.url!r})")
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)
    result = namespace["result"]
    assert result.request.prompt == "a blue card on a table"
    assert result.request.image_urls[0] == _images.encode_file(tmp_path / "input-1.png")
    assert result.request.image_urls[1] == form.value.image_urls[1]
    assert len(result.images) == 1


def test_fal_client_snippet_runs_against_the_local_server(server, tmp_path, monkeypatch):
    import fal_client.client

    form, picture = edit_form("fal-ai/gpt-image-1.5/edit")
    code = form.to_code("fal_client")
    monkeypatch.chdir(tmp_path)
    picture.save("input-1.png")
    # fal_client has no base-URL option: point its URL formats at the local server (see fal-protocol.md §6.1)
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", server.url.rstrip("/") + "/")
    monkeypatch.setattr(fal_client.client, "RUN_URL_FORMAT", server.url.rstrip("/") + "/")
    monkeypatch.setenv("FAL_KEY", server.key)
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)
    result = namespace["result"]
    assert isinstance(result, dict) and len(result["images"]) == 1


@pytest.mark.parametrize("style", ["falstudio", "fal_client"])
def test_request_options_are_copied_with_fal_clients_names(style, server, monkeypatch):
    import fal_client.client

    from falstudio.widgets.form._code import to_code

    options = {"hint": "runner-1", "priority": "low", "headers": {"X-Fal-Store-IO": "0"}, "start_timeout": 30.0}
    code = to_code("fal-ai/gpt-image-1-mini", {"prompt": "a fox", "quality": "low"}, style=style, options=options)
    assert 'hint="runner-1",' in code and 'headers={"X-Fal-Store-IO": "0"},' in code
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", server.url.rstrip("/") + "/")
    monkeypatch.setenv("FAL_KEY", server.key)
    code = code.replace("fs.Client()", f"fs.Client(key={server.key!r}, base_url={server.url!r}, history=False)")
    namespace: dict = {}
    exec(compile(code, "<snippet>", "exec"), namespace)
    assert namespace["result"]["images"][0]["url"]  # the same reading code for both styles
    with pytest.raises(ValueError, match="webhook"):
        to_code("fal-ai/gpt-image-1-mini", {"prompt": "a fox"}, options={"webhook": "x"})
