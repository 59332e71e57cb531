"""The OpenAI key of BYOK forms lives in Python only: never in widget state, messages, reprs, HTML or code."""

from __future__ import annotations

import json
import uuid
from typing import ClassVar

import comm
import ipywidgets as w
import pytest
from ipywidgets.widgets.widget import _instances
from pydantic import SecretStr, ValidationError

from falstudio.endpoints import REGISTRY
from falstudio.widgets import RequestForm

KEY = "sk-test-SECRET-987"
BYOK = [e for e, spec in REGISTRY.items() if spec.is_byok]


class RecordingComm:
    """Stands in for the kernel comm: records every message a widget sends to the browser."""

    kernel = "recording"
    sent: ClassVar[list] = []

    def __init__(self, **kwargs):
        self.comm_id = uuid.uuid4().hex
        self.sent.append(kwargs.get("data"))

    def send(self, data=None, metadata=None, buffers=None):
        self.sent.append((data, [bytes(b) for b in buffers or ()]))

    def on_msg(self, callback):
        pass

    def on_close(self, callback):
        pass

    def close(self, *args, **kwargs):
        pass


@pytest.fixture
def wire(monkeypatch):
    """Everything sent to the browser, as text (binary buffers decoded loosely)."""
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(**kwargs))
    return lambda: json.dumps(RecordingComm.sent, default=lambda b: b.decode("latin-1"))


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


BEFORE: set[str] = set()  # the widgets alive as the test began


@pytest.fixture(autouse=True)
def _widgets_before() -> None:
    BEFORE.clear()
    BEFORE.update(_instances)


def descendants(*widgets: w.Widget) -> list[w.Widget]:
    """The widgets, their children, and every widget referenced from a trait (layouts, styles)."""
    found: dict[int, w.Widget] = {}
    todo = list(widgets)
    while todo:
        current = todo.pop()
        if id(current) in found:
            continue
        found[id(current)] = current
        for name in current.trait_names():
            value = getattr(current, name, None)
            items = value if isinstance(value, (list, tuple)) else [value]
            todo.extend(v for v in items if isinstance(v, w.Widget))
    return list(found.values())


def everything_shown(form: RequestForm) -> str:
    # The form's widgets, and every widget made since the test began with all it refers to (shared layouts too).
    # falstudio keeps no widget at module level, so a key could only reach an earlier widget through these; the
    # thousands earlier tests left alive in a long run are not read again.
    made = [x for model_id, x in list(_instances.items()) if model_id not in BEFORE]
    states = [json.dumps(d.get_state(), default=repr) for d in descendants(form, *made)]
    return "\n".join(
        [
            *states,
            repr(form),
            form._repr_html_(),
            form.to_code(),
            form.to_code("fal_client"),
            json.dumps(form.to_dict()),
            json.dumps(form.errors),
            *(str(v) for v in form._repr_mimebundle_().values()),
        ]
    )


def filled(endpoint_id: str) -> RequestForm:
    form = RequestForm(endpoint_id)
    form.controls["prompt"].input.value = "a cat"
    if "image_urls" in form.controls:
        form.add_image("https://example.com/cat.png")
    return form


@pytest.mark.parametrize("endpoint_id", BYOK)
def test_typed_key_moves_into_python_and_out_of_every_widget(endpoint_id, wire):
    form = filled(endpoint_id)
    secret = form.controls["openai_api_key"].input
    assert not form.is_valid and "paste the key above, or set $OPENAI_API_KEY" in form.errors["openai_api_key"]
    secret.password.value = KEY  # as if typed and confirmed with Enter
    assert secret.password.value == "" and form.is_valid
    assert "key set ✓" in secret.status.value
    assert form.value.openai_api_key.get_secret_value() == KEY
    assert form.value.payload()["openai_api_key"] == KEY
    assert "openai_api_key=***" in repr(form)
    shown = everything_shown(form)
    assert KEY not in shown and KEY not in wire()


def test_a_browser_update_is_not_echoed_and_the_field_is_cleared(wire):
    form = filled(BYOK[0])
    password = form.controls["openai_api_key"].input.password
    password.set_state({"value": KEY})  # what ipywidgets does with an update message from the browser
    assert password.value == "" and form.is_valid
    assert KEY not in wire()
    updates = [m[0] for m in RecordingComm.sent if isinstance(m, tuple) and m[0].get("method") == "update"]
    assert {"method": "update", "state": {"value": ""}, "buffer_paths": []} in updates


def test_clear_button_and_set_secret():
    form = filled(BYOK[0])
    form.set_secret("openai_api_key", SecretStr(KEY))
    assert form.is_valid
    form.controls["openai_api_key"].input.clear_button.click()
    assert not form.is_valid and "openai_api_key" in form.errors
    form.set_secret("openai_api_key", f"  {KEY}\n")
    assert form.value.payload()["openai_api_key"] == KEY, "pasted whitespace is stripped"
    with pytest.raises(ValueError, match=r"'prompt' is not a secret field.*openai_api_key"):
        form.set_secret("prompt", KEY)


def test_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    form = filled(BYOK[0])
    secret = form.controls["openai_api_key"].input
    assert form.is_valid and "from $OPENAI_API_KEY" in secret.status.value
    assert "$OPENAI_API_KEY" in secret.help.value
    assert KEY not in everything_shown(form)


def test_redacted_records_keep_the_held_key_or_stay_invalid():
    record = {"prompt": "again", "image_urls": ["https://example.com/cat.png"], "openai_api_key": "***"}
    form = RequestForm("fal-ai/gpt-image-1/edit-image/byok", value=record)
    assert not form.is_valid and list(form.errors) == ["openai_api_key"], "*** is not a key"
    form.set_secret("openai_api_key", KEY)
    form.value = {**record, "prompt": "once more"}
    assert form.is_valid and form.value.payload()["openai_api_key"] == KEY
    assert form.value.prompt == "once more"


def test_typed_request_with_a_key_fills_the_form_without_leaking(wire):
    model = REGISTRY["fal-ai/gpt-image-1/text-to-image/byok"].input_model
    request = model(prompt="hello", openai_api_key=KEY)
    form = RequestForm("fal-ai/gpt-image-1/text-to-image/byok", value=request)
    assert form.value == request and form.value.payload() == request.payload()
    assert KEY not in everything_shown(form) and KEY not in wire()


def test_validation_errors_do_not_show_the_key():
    form = filled(BYOK[0])
    form.set_secret("openai_api_key", KEY)
    form.controls["prompt"].input.value = ""
    with pytest.raises(ValidationError) as excinfo:
        form.value  # noqa: B018
    assert KEY not in str(excinfo.value) and KEY not in everything_shown(form)
