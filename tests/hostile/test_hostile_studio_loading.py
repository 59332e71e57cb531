"""The Studio's "Other endpoint…" load against a slow or absent schema service: off the kernel's thread,
shown as loading, can be abandoned, and a failure is a line or two with the fix."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from falstudio.client import Client
from falstudio.endpoints import loader
from falstudio.local import LocalServer
from falstudio.widgets import Studio

from ._loopback import Loopback, drip_route

MINI = "fal-ai/gpt-image-1-mini"
PATH = "/api/openapi/queue/openapi.json"


@pytest.fixture
def studio(server: LocalServer) -> Iterator[Studio]:
    made = Studio(Client(server.key, base_url=server.url), endpoint=MINI, history=False)
    yield made
    made.close()


def _choose_other(studio: Studio, endpoint_id: str) -> None:
    other = [v for _, v in studio.picker.options if v not in (MINI,) and "/" not in str(v)]
    studio.picker.value = other[0]
    studio.other_id.value = endpoint_id


def test_a_slow_schema_loads_off_the_thread_shows_loading_and_can_be_abandoned(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    finish = threading.Event()  # the drip ends when the test says, after the load was abandoned
    service = Loopback({PATH: drip_route(b'{"openapi": "3.0.4"' + b" " * 100 + b"}", every=0.2, until=finish)})
    monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", service.url(PATH))
    try:
        _choose_other(studio, "test-org/slow")
        start = time.monotonic()
        studio.other_button.click()
        assert time.monotonic() - start < 1  # the click returns at once: the kernel stays free
        assert studio.other_loading.loading and studio.other_button.disabled
        assert "loading fal&#x27;s schema for test-org/slow" in studio.other_status.value
        assert studio.other_loading.cancel_button.layout.display != "none"
        studio.other_loading.cancel_button.click()
        assert not studio.other_loading.loading and "stopped waiting" in studio.other_status.value
        assert studio.picker.value == MINI and studio.endpoint == MINI
        finish.set()
        assert studio.other_loading.wait(30)  # what the abandoned load brings is ignored
        assert studio.endpoint == MINI and "stopped waiting" in studio.other_status.value
    finally:
        service.close()


def test_offline_the_error_is_short_with_the_fix(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", "http://127.0.0.1:9/api/openapi/queue/openapi.json")
    monkeypatch.setattr(loader, "TIMEOUT_SECONDS", 5.0)
    _choose_other(studio, "test-org/offline")
    studio.other_button.click()
    assert studio.other_loading.wait(30)
    text = studio.other_status.value
    assert "Could not fetch fal&#x27;s schema for test-org/offline" in text and "Fix: check the network" in text
    assert len(text) < 600 and "Registered endpoints" not in text
    assert studio.picker.value == MINI and studio.endpoint == MINI and not studio.other_button.disabled
