"""Code ported from fal-client runs unchanged: results read like its dict, its request options and defaults
(against the real local server over loopback HTTP)."""

from __future__ import annotations

import inspect
import json

import httpx
import pytest
from PIL import Image as PILImage

import falstudio as fs
from falstudio.client import Client, Completed, StorageSettings, encode_image

T2I = "fal-ai/gpt-image-1-mini"
LOW = {"prompt": "a red square on a white table", "quality": "low", "image_size": "1024x1024"}


@pytest.fixture
def client(server):
    with Client(server.key, base_url=server.url, history=False) as c:
        yield c


def test_result_reads_like_fal_clients_dict(client):
    result = client.subscribe(T2I, LOW)
    url = result["images"][0]["url"]
    assert url == result.images[0].url
    assert result.get("seed") is None and result.get("seed", 7) == 7
    assert "images" in result and "seed" not in result
    assert list(result) == list(result.keys()) == list(result.data)
    plain = dict(result)
    assert plain == result.data and isinstance(plain["images"][0], dict)
    assert json.loads(json.dumps(plain)) == plain
    assert json.loads(json.dumps(result, default=dict)) == plain
    assert len(result) == len(result.data) and dict(result.items()) == plain
    with pytest.raises(KeyError):
        result["nope"]
    assert result.images[0].to_pil().size == (1024, 1024)  # typed access alongside


def test_run_result_reads_like_a_dict_too(client):
    out = client.run(T2I, LOW)
    assert out["images"][0]["width"] == 1024 and out.images[0].width == 1024


def test_fal_queue_run_host_alone_moves_the_queue_like_fal_client(monkeypatch):
    from falstudio.client._protocol import Hosts

    monkeypatch.delenv("FAL_RUN_HOST", raising=False)
    monkeypatch.setenv("FAL_QUEUE_RUN_HOST", "queue.staging.example")
    hosts = Hosts.fal()
    assert hosts.queue == "https://queue.staging.example" and hosts.run == "https://fal.run"
    monkeypatch.setenv("FAL_RUN_HOST", "run.staging.example")
    monkeypatch.delenv("FAL_QUEUE_RUN_HOST")
    assert Hosts.fal().queue == "https://queue.run.staging.example"


class HeaderLog(httpx.AsyncHTTPTransport):
    """A real transport that notes each request's method, path and headers."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, httpx.Headers, httpx.QueryParams]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append((request.method, request.url.path, request.headers, request.url.params))
        return await super().handle_async_request(request)

    def posts(self, path: str) -> list[httpx.Headers]:
        return [headers for method, p, headers, _ in self.sent if method == "POST" and p == path]


@pytest.fixture
def logged(server):
    log = HeaderLog()
    with Client(server.key, base_url=server.url, history=False, transport=log) as c:
        yield c, log


def test_hint_headers_and_path_are_sent_like_fal_client(logged):
    client, log = logged
    result = client.subscribe(
        "fal-ai/gpt-image-1-mini",
        {**LOW, "image_urls": [encode_image(PILImage.new("RGB", (64, 64), "white"))], "prompt": "pixel art"},
        path="edit",
        hint="runner-7",
        headers={"X-Fal-Store-IO": "0", "X-Fal-Runner-Hint": "overridden by hint="},
        priority="low",
        start_timeout=30,
        interval=0.05,
    )
    assert result.endpoint == "fal-ai/gpt-image-1-mini/edit"
    (sent,) = log.posts("/fal-ai/gpt-image-1-mini/edit")
    assert sent["x-fal-runner-hint"] == "runner-7" and sent["x-fal-store-io"] == "0"
    assert sent["x-fal-queue-priority"] == "low" and sent["x-fal-request-timeout"] == "30.0"
    client.run(T2I, LOW, hint="runner-8", headers={"X-Fal-Store-IO": "0"}, start_timeout=5)
    (ran,) = log.posts(f"/run/{T2I}")
    assert ran["x-fal-runner-hint"] == "runner-8" and ran["x-fal-store-io"] == "0"
    assert ran["x-fal-request-timeout"] == "5.0"
    with pytest.raises(TypeError, match="headers must map strings"):
        client.submit(T2I, LOW, headers={"X-Count": 3})


def test_interval_paces_polling_when_the_status_stream_is_missing(logged, monkeypatch):
    from falstudio.client import _handles

    async def no_stream(self, with_logs):  # as when a proxy drops server-sent events
        return
        yield

    monkeypatch.setattr(_handles.AsyncRequestHandle, "_stream", no_stream)
    client, _ = logged
    handle = client.submit(T2I, LOW)
    events = list(handle.iter_events(interval=0.01))
    assert isinstance(events[-1], Completed) and all(e.logs is None or not e.logs for e in events)
    assert handle.get(interval=0.01).images


def test_defaults_are_fal_clients(logged):
    client, log = logged
    picture = PILImage.new("RGB", (32, 32), "teal")
    assert encode_image(picture).startswith("data:image/jpeg;base64,")
    assert fs.encode_image(picture).startswith("data:image/jpeg;base64,")
    url = client.upload_image(picture)
    assert httpx.get(url).headers["content-type"] == "image/jpeg"
    assert inspect.signature(Client.submit).parameters["priority"].default is None
    handle = client.submit(T2I, LOW)
    assert isinstance(list(handle.iter_events())[-1], Completed)
    asked = [query for _, path, _, query in log.sent if "/status" in path]
    assert asked and all(q.get("logs") == "0" for q in asked)  # without logs, as fal-client


def test_upload_lifecycle_is_sent_like_fal_client(logged):
    client, log = logged
    url = client.upload(b"hello", "text/plain", "note.txt", lifecycle=StorageSettings(expires_in="1h"))
    assert httpx.get(url).content == b"hello"
    (sent,) = log.posts("/files/upload")
    assert json.loads(sent["x-fal-object-lifecycle-preference"]) == {"expiration_duration_seconds": 3600}
    fal_storage = pytest.importorskip("fal_client.client")
    theirs = fal_storage.StorageSettings(expires_in=120, initial_acl=fal_storage.StorageACL(default="hide"))
    client.upload(b"again", "text/plain", lifecycle=theirs)
    last = log.posts("/files/upload")[-1]
    assert json.loads(last["x-fal-object-lifecycle"]) == {
        "expiration_duration_seconds": 120,
        "initial_acl": {"default": "hide"},
    }
    with pytest.raises(ValueError, match="expires_in"):
        StorageSettings(expires_in="2h")
