"""Retired endpoints: fal's "gone" replies become ``EndpointGoneError`` naming the successor; other errors do not.

A fal-shaped server on loopback answers the way fal does (shared notes fal-protocol.md §3: ``{"detail": ...}``
bodies, 404 ``Application "..." not found``; OpenAI behind fal: "The model ... has been deprecated").
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from falstudio.client import Client, RetryPolicy, errors
from falstudio.client import _sending as sending_module
from falstudio.local import LocalServer
from falstudio.testing import FakeClock, LoopbackServer, QuietHandler

MINI = "fal-ai/gpt-image-1-mini"
EDIT_15 = "fal-ai/gpt-image-1.5/edit"
GPT2 = "openai/gpt-image-2"


class RetiredFal:
    """Answers ``POST /<endpoint>`` with the reply ``submit[endpoint]`` (default: queued as ``r1``), the status
    as COMPLETED with an error, and the result with ``result[endpoint]``."""

    def __init__(self) -> None:
        self.submit: dict[str, tuple[int, Any]] = {}
        self.result: dict[str, tuple[int, Any]] = {}
        fal = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                endpoint = self.path.strip("/")
                code, body = fal.submit.get(endpoint, (200, None))
                if body is None:
                    body = {
                        "request_id": "r1",
                        "status_url": f"{fal.url}/{endpoint}/requests/r1/status",
                        "response_url": f"{fal.url}/{endpoint}/requests/r1",
                        "cancel_url": f"{fal.url}/{endpoint}/requests/r1/cancel",
                    }
                self.send_json(code, body)

            def do_GET(self) -> None:
                path = self.path.split("?")[0].strip("/")
                endpoint, _, rest = path.partition("/requests/")
                if rest.startswith("r1/status"):
                    if rest.endswith("/stream"):
                        self.send_json(404, {"detail": "Not Found"})
                    else:
                        self.send_json(200, {"status": "COMPLETED", "error": "failed", "error_type": "downstream"})
                elif rest == "r1":
                    self.send_json(*fal.result.get(endpoint, (404, {"detail": 'Request "r1" not found'})))
                else:
                    self.send_json(404, {"detail": "Not Found"})

        self._server = LoopbackServer(Handler)
        self.url = self._server.url

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def fal() -> Iterator[RetiredFal]:
    server = RetiredFal()
    yield server
    server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(fal: RetiredFal, clock: FakeClock) -> Iterator[Client]:
    """The default retry policy on a fake clock: a gateway error's back-off is counted, not waited out."""
    retry = RetryPolicy(clock=clock.now, sleep=clock.sleep)
    with Client("key-id:secret", base_url=fal.url, history=False, retry=retry) as c:
        yield c


def test_404_for_a_retired_endpoint_names_the_successor(fal: RetiredFal, client: Client) -> None:
    fal.submit[MINI] = (404, {"detail": 'Application "gpt-image-1-mini" not found'})
    with pytest.raises(errors.EndpointGoneError) as caught:
        client.submit(MINI, {"prompt": "a fox"})
    error = caught.value
    assert error.successor == "openai/gpt-image-2" and error.status_code == 404 and error.endpoint == MINI
    assert "use openai/gpt-image-2 instead" in str(error) and "shut gpt-image-1-mini down" in str(error)
    assert isinstance(error, errors.EndpointNotFoundError) and isinstance(error, errors.FalError)


def test_410_is_gone_whatever_the_registry_says(fal: RetiredFal, client: Client) -> None:
    fal.submit["acme/thing"] = (410, {"detail": "Gone"})
    with pytest.raises(errors.EndpointGoneError) as caught:
        client.submit("acme/thing", {}, validate=False)
    assert caught.value.successor is None and "pick another endpoint" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "detail"),
    [
        (500, "The model `gpt-image-1.5` has been deprecated, learn more here: https://platform.openai.com/docs"),
        (400, "Downstream error: this model is no longer available"),
        (502, "The model `gpt-image-1.5` does not exist or you do not have access to it."),
    ],
)
def test_a_failed_result_saying_the_model_is_gone(
    fal: RetiredFal, client: Client, clock: FakeClock, code: int, detail: str
) -> None:
    fal.result[EDIT_15] = (code, {"detail": detail})
    with pytest.raises(errors.EndpointGoneError) as caught:
        client.subscribe(EDIT_15, {"prompt": "sepia", "image_urls": ["https://x.test/a.png"]})
    assert caught.value.successor == "openai/gpt-image-2/edit" and caught.value.request_id == "r1"
    assert caught.value.status_code == code and detail[:30] in str(caught.value)
    # a gateway 502 is retried with growing back-off (5 waits before the 6th and last try); the others are not
    assert len(clock.slept) == (5 if code == 502 else 0)
    assert code != 502 or 3.1 <= sum(clock.slept) <= 9.3  # 0.2 s doubling, times 0.5 to 1.5


def test_other_errors_stay_what_they_are(fal: RetiredFal, client: Client) -> None:
    fal.submit[GPT2] = (404, {"detail": 'Application "gpt-image-2" not found'})  # a live endpoint: a plain 404
    with pytest.raises(errors.EndpointNotFoundError) as caught:
        client.submit(GPT2, {"prompt": "a fox"})
    assert not isinstance(caught.value, errors.EndpointGoneError)
    with pytest.raises(errors.RequestNotFoundError):  # an expired request of a retired endpoint is not "gone"
        client.result(MINI, "r1")
    fal.submit[MINI] = (422, {"detail": [{"loc": ["body", "x"], "msg": "x is deprecated", "type": "value_error"}]})
    with pytest.raises(errors.InvalidRequestError) as invalid:
        client.submit(MINI, {"prompt": "a fox"})
    assert not isinstance(invalid.value, errors.EndpointGoneError)
    fal.submit[MINI] = (401, {"detail": "model deprecated"})
    with pytest.raises(errors.AuthError):
        client.submit(MINI, {"prompt": "a fox"})


def test_retired_endpoints_warn_once_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending_module, "_warned_endpoints", set())

    def fal_like(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"request_id": "r1"})

    with Client("key-id:secret", base_url="https://queue.fal.test", transport=httpx.MockTransport(fal_like)) as c:
        assert c.mode == "fal"
        with pytest.warns(errors.EndpointDeprecationWarning) as caught:
            c.submit(MINI, {"prompt": "a fox"})
        (warning,) = caught.list
        text = str(warning.message)
        assert text.startswith(f"{MINI} is retired:") and "use openai/gpt-image-2 instead" in text.lower()
        assert "retires" not in text
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            c.submit(MINI, {"prompt": "a fox"})  # once per endpoint
            c.submit(GPT2, {"prompt": "a fox"})  # live: never


def test_offline_the_seed_endpoints_work_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sending_module, "_warned_endpoints", set())
    with (
        LocalServer(port=0, latency=0) as server,
        Client(base_url=server.url, key=server.key, history=False) as c,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("error")
        for endpoint in ("fal-ai/gpt-image-1-mini", "fal-ai/gpt-image-1/text-to-image", "fal-ai/gpt-image-1.5"):
            result = c.subscribe(endpoint, {"prompt": "a red fox", "quality": "low"})
            assert result.images[0].width == 1024
