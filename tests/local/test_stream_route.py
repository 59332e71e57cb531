"""The local server's streamed runs (``POST /run/{id}/stream``), over real HTTP, and the official fal-client
reading them unmodified."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from PIL import Image

from falstudio.endpoints import registry
from falstudio.local import Faults, LocalServer
from falstudio.testing import wait_for

MINI = "fal-ai/gpt-image-1-mini"


@pytest.fixture
def streaming(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A seed endpoint with the streaming capability switched on (GPT Image 2's rows are not here yet)."""
    monkeypatch.setitem(registry.REGISTRY, MINI, dataclasses.replace(registry.REGISTRY[MINI], streaming=True))  # type: ignore[arg-type]
    yield MINI


def sse(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    for line in lines:
        if line.startswith("data: "):
            yield json.loads(line[6:])


def test_an_endpoint_that_does_not_stream_answers_405(api: httpx.Client) -> None:
    reply = api.post(f"/run/{MINI}/stream", json={"prompt": "a fox"})
    assert reply.status_code == 405 and "does not stream" in reply.json()["detail"]
    assert api.post("/run/acme/unknown/stream", json={}).status_code == 404


def test_partial_images_coarse_to_fine_spread_over_the_run_then_the_output(
    streaming: str, make_server: Callable[..., LocalServer], client_for: Callable[[LocalServer], httpx.Client]
) -> None:
    faults = Faults(hold={"partial", "output"})  # the run waits before each partial and its output: no clock
    server = make_server(faults=faults)
    http = client_for(server)
    faults.release("partial")  # kept for the run: the route answers once the first event is there
    with http.stream("POST", f"/run/{streaming}/stream", json={"prompt": "a lighthouse", "quality": "high"}) as reply:
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        request_id = reply.headers["x-fal-request-id"]
        job = server.app.state.backend.queue.get(request_id)
        events = sse(reply.iter_lines())
        partials = []
        for index in range(3):
            if index:
                faults.release("partial")
            partials.append(next(events))
            assert not job.finished  # each partial arrives while the run goes on: the first well before the result
            assert faults.wait_held("partial" if index < 2 else "output")  # and the next step waits for us
        faults.release("output")
        output, *rest = list(events)
    assert not rest and [e["type"] for e in partials] == ["image.partial"] * 3
    pictures = [Image.open(io.BytesIO(base64.b64decode(e["image"]["b64_json"]))) for e in partials]
    assert all(p.size == (512, 512) and p.format == "JPEG" for p in pictures)
    assert [e["image"]["partial_index"] for e in partials] == [0, 1, 2]
    assert output["images"][0]["width"] == 1024 and request_id


def test_closing_the_stream_cancels_the_run(
    streaming: str, make_server: Callable[..., LocalServer], client_for: Callable[[LocalServer], httpx.Client]
) -> None:
    faults = Faults(hold={"partial"})
    faults.release("partial")  # the first partial image is sent; the run then waits at the second until cancelled
    server = make_server(faults=faults)
    http = client_for(server)
    with http.stream("POST", f"/run/{streaming}/stream", json={"prompt": "a lighthouse", "quality": "high"}) as reply:
        request_id = reply.headers["x-fal-request-id"]
        next(sse(reply.iter_lines()))  # the first partial, then hang up
    job = server.app.state.backend.queue.get(request_id)
    wait_for(lambda: job.finished, timeout=10)
    assert job.cancelled and job.output is None


def test_a_run_that_fails_before_its_first_event_answers_with_the_error(
    streaming: str, make_server: Callable[..., LocalServer], client_for: Callable[[LocalServer], httpx.Client]
) -> None:
    server = make_server(latency=0.1, faults=Faults(fail_prompt="FORBIDDEN"))
    reply = client_for(server).post(f"/run/{streaming}/stream", json={"prompt": "a FORBIDDEN fox"})
    assert reply.status_code == 422 and reply.headers["x-fal-error-type"] == "content_policy_violation"
    assert reply.json()["detail"][0]["type"] == "content_policy_violation"


def test_the_official_fal_client_reads_the_stream_unmodified(
    streaming: str, make_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    fal_client = pytest.importorskip("fal_client")
    fal_module = pytest.importorskip("fal_client.client")
    server = make_server(latency=0.2)
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", server.url + "/run/")
    client = fal_client.SyncClient(key=server.key)
    events = list(client.stream(streaming, arguments={"prompt": "a red barn", "quality": "medium"}))
    client._client.close()
    assert [e.get("type") for e in events[:-1]] == ["image.partial"] * 3
    assert events[-1]["images"][0]["url"].startswith(server.url)
