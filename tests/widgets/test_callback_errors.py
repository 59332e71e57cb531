"""Failures inside click handlers show in the widget: ipywidgets would otherwise hide their tracebacks."""

from __future__ import annotations

import time

import pytest

from falstudio.client import Client
from falstudio.client.recorder import Submitted
from falstudio.history import HistoryStore
from falstudio.local import LocalServer
from falstudio.widgets import RequestForm
from falstudio.widgets.studio import Studio


def test_a_failing_submit_callback_is_named_in_the_form() -> None:
    form = RequestForm("fal-ai/gpt-image-1-mini")
    form.controls["prompt"].input.value = "a cat"

    def broken(request: object) -> None:
        raise RuntimeError("out of credits")

    form.on_submit(broken)
    form.generate_button.click()  # does not raise: the click is the browser's
    assert 'role="alert"' in form.summary.value
    assert (
        "submit callback" in form.summary.value and "broken failed: RuntimeError: out of credits" in form.summary.value
    )
    with pytest.raises(RuntimeError, match="out of credits"):  # from Python it raises as well
        form.submit()


def test_run_again_with_a_value_the_endpoint_rejects_says_so_in_the_form(server: LocalServer) -> None:
    HistoryStore().submitted(
        Submitted(
            endpoint="fal-ai/gpt-image-1-mini",
            request_id="old-1",
            request={"prompt": "old fox", "quality": "ultra"},
            base_url=server.url,
            mode="local",
            submitted_at=time.time(),
            cost_estimate=None,
            cost_amount=None,
        )
    )
    client = Client(base_url=server.url, key=server.key)
    studio = Studio(client)
    try:
        [item] = studio._history_box.children
        again = item.children[1]
        assert again.description == "Run again"
        again.click()
        assert "could not load that run into the form" in studio.form.summary.value
        assert "quality" in studio.form.summary.value
        assert studio.form.value.prompt != "old fox"  # nothing half-loaded
    finally:
        studio.close()
        client.close()
