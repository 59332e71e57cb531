"""Fields of OpenAPI-loaded endpoints that are secrets are secrets end to end, like the seed BYOK key: typed as
SecretStr, a password control in the form, never in a repr, the Parameters line, copy-as-code or the reader view."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from falstudio.endpoints import spec_from_openapi
from falstudio.endpoints.fields import is_secret_field
from falstudio.widgets.form import RequestForm

from ._documents import fal_document

KEY = "sk-loaded-SECRET-4242"
TOKEN = "tok-loaded-SECRET-777"  # not shaped like any known key: only the field's name or schema gives it away


def _doc() -> dict[str, Any]:
    props = {
        "prompt": {"title": "Prompt", "type": "string"},
        "openai_api_key": {"title": "OpenAI API key", "type": "string"},
        "hf_token": {"title": "Token", "type": "string"},
        "login": {"title": "Login", "type": "string", "format": "password"},
        "hidden": {"title": "Hidden", "type": "string", "writeOnly": True},
        "seed_text": {"title": "Not a secret", "type": "string"},
    }
    return fal_document("acme/byok-thing", "text-to-image", "ByokThing", props, ["prompt", "openai_api_key"])


@pytest.mark.parametrize(
    ("name", "schema", "secret"),
    [
        ("openai_api_key", {}, True),
        ("hf_token", {}, True),
        ("client_secret", {}, True),
        ("password", {}, True),
        ("anything", {"format": "password"}, True),
        ("anything", {"writeOnly": True}, True),
        ("max_tokens", {}, False),
        ("prompt", {}, False),
        ("tokenizer", {}, False),
    ],
)
def test_which_fields_are_secrets(name: str, schema: dict[str, Any], secret: bool) -> None:
    assert is_secret_field(name, schema) is secret


def test_a_loaded_endpoints_secrets_never_show() -> None:
    spec = spec_from_openapi(_doc())
    model = spec.input_model
    request = model.model_validate(
        {"prompt": "a fox", "openai_api_key": KEY, "hf_token": TOKEN, "login": TOKEN, "hidden": TOKEN}
    )
    for name in ("openai_api_key", "hf_token", "login", "hidden"):
        assert isinstance(getattr(request, name), SecretStr), name
    assert KEY not in repr(request) and TOKEN not in repr(request)
    assert request.payload()["openai_api_key"] == KEY and request.payload()["hf_token"] == TOKEN  # sent as given
    assert request.redacted()["openai_api_key"] == "***"
    form = RequestForm(model=model)
    for name in ("openai_api_key", "hf_token", "login", "hidden"):
        assert form.controls[name].spec.kind == "secret", name
    assert form.controls["seed_text"].spec.kind != "secret"
    form.value = {"prompt": "a fox"}
    form.set_secret("openai_api_key", KEY)
    form.set_secret("hf_token", TOKEN)
    shown = [repr(form), form.to_code(), form.to_code("fal_client"), form._repr_html_(), str(form.get_state())]
    assert not any(KEY in text or TOKEN in text for text in shown)
    assert form.value.payload()["openai_api_key"] == KEY
