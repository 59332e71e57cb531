"""The client against falstudio's real local server over loopback HTTP: every verb, logs, cancel, webhooks,
uploads, retries under injected faults, the status-stream fallback, typed errors, interrupts and timeouts."""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler

import httpx
import pytest
from PIL import Image as PILImage

from falstudio.client import (
    INLINE_LIMIT,
    AsyncClient,
    Client,
    Completed,
    InProgress,
    Queued,
    RetryPolicy,
    errors,
)
from falstudio.endpoints import GptImage1MiniRequest
from falstudio.local import Faults, LocalServer
from falstudio.testing import LoopbackServer

T2I = "fal-ai/gpt-image-1-mini"
EDIT = "fal-ai/gpt-image-1-mini/edit"
LOW = {"prompt": "a red square on a white table", "quality": "low", "image_size": "1024x1024"}


class PathLog(httpx.AsyncHTTPTransport):
    """A real transport that notes each request's method and path."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(f"{request.method} {request.url.path}")
        return await super().handle_async_request(request)


@pytest.fixture
def client(server):
    with Client(server.key, base_url=server.url, history=False) as c:
        yield c


@pytest.fixture(scope="module")
def slow():
    """Jobs take ~3 s (latency multiplier 3, low quality) and run one at a time, so others queue."""
    with LocalServer(latency=3.0, concurrency=1) as srv:
        yield srv


@pytest.fixture
def slow_client(slow):
    with Client(slow.key, base_url=slow.url, history=False) as c:
        yield c


def test_subscribe_returns_typed_images(client, server):
    updates = []
    result = client.subscribe(T2I, LOW, with_logs=True, on_queue_update=updates.append)
    assert isinstance(updates[-1], Completed) and updates[-1].ok
    assert result.request_id and result.endpoint == T2I and result.cost is not None
    assert result.inference_seconds is not None and result.queue_seconds is not None
    image = result.images[0]
    assert image.to_pil().size == (1024, 1024) and image.width == 1024
    assert image.bytes()[:4] == b"\x89PNG"
    data, mime = image.thumbnail()
    assert mime == "image/jpeg" and PILImage.open(io.BytesIO(data)).size == (384, 384)
    bundle = image._repr_mimebundle_()
    assert "image/jpeg" in bundle and "text/plain" in bundle
    assert "<img" in result._repr_html_() and result.request_id in repr(result)
    assert result.logs and all(entry.message for entry in result.logs)


def test_image_save_keeps_or_converts_the_format(client, tmp_path):
    image = client.subscribe(T2I, LOW).images[0]
    as_png = image.save(tmp_path / "out")
    as_jpeg = image.save(tmp_path / "out.jpg")
    plain = image.save(tmp_path / "plain.png", metadata=False)
    assert as_png.suffix == ".png" and plain.read_bytes() == image.bytes()
    assert PILImage.open(as_png).tobytes() == PILImage.open(plain).tobytes()  # metadata added, pixels untouched
    assert PILImage.open(as_jpeg).format == "JPEG"


def test_submit_status_iter_events_result_and_get_handle(client):
    handle = client.submit(T2I, LOW)
    assert isinstance(handle.status(), (Queued, InProgress, Completed))
    events = list(handle.iter_events(with_logs=True))
    assert isinstance(events[-1], Completed)
    assert len({e.message for e in handle.logs}) == len(handle.logs)  # no line twice
    result = handle.get()
    again = client.result(T2I, handle.request_id)
    assert again.images[0].url == result.images[0].url
    assert isinstance(client.status(T2I, handle.request_id, with_logs=True), Completed)
    assert client.get_handle(T2I, handle.request_id).get().request_id == handle.request_id


def test_typed_request_and_run(client):
    request = GptImage1MiniRequest(prompt="a blue circle", quality="low", num_images=2)
    result = client.run(T2I, request)
    assert len(result.images) == 2 and result.request is request and result.request_id


def test_async_client_every_verb(server):
    async def main():
        async with AsyncClient(server.key, base_url=server.url, history=False) as client:
            handle = await client.submit(T2I, LOW)
            events = [e async for e in handle.iter_events()]
            result = await handle.get()
            cancelled = await client.cancel(T2I, handle.request_id)  # finished already
            url = await client.upload(b"hello", "text/plain", "hello.txt")
            ran = await client.run(T2I, LOW)
            return events, result, cancelled, url, ran

    events, result, cancelled, url, ran = asyncio.run(main())
    assert isinstance(events[-1], Completed) and result.images and ran.images
    assert cancelled is False
    assert httpx.get(url).content == b"hello"
    assert result.images[0].bytes()[:4] == b"\x89PNG"  # an async result's bytes, from sync code


def test_uploads_and_file_inputs(client, tmp_path):
    picture = PILImage.new("RGB", (64, 64), "green")
    url = client.upload_image(picture)
    assert httpx.get(url).content[:3] == b"\xff\xd8\xff"  # JPEG by default, as fal-client
    assert httpx.get(client.upload_image(picture, format="png")).content[:4] == b"\x89PNG"
    path = tmp_path / "p.png"
    picture.save(path)
    assert httpx.get(client.upload_file(path)).content == path.read_bytes()
    noise = PILImage.frombytes("RGB", (700, 700), random.Random(1).randbytes(700 * 700 * 3))
    big = tmp_path / "noise.png"
    noise.save(big)
    assert big.stat().st_size > INLINE_LIMIT  # goes through an upload, the rest inline
    result = client.subscribe(
        EDIT, {"prompt": "make it pop", "image_urls": [picture, str(path), big], "quality": "low"}
    )
    assert result.images


@pytest.mark.parametrize("typed", [True, False], ids=["falstudio's error_type", "like fal: no error_type"])
def test_cancel_in_queue_and_in_progress(slow, slow_client, monkeypatch, typed):
    monkeypatch.setattr(slow.app.state.settings, "typed_cancellation", typed)
    running = slow_client.submit(T2I, LOW)
    queued = slow_client.submit(T2I, LOW)
    assert isinstance(queued.status(), Queued)
    assert queued.cancel() is True
    for event in running.iter_events():
        if isinstance(event, InProgress):
            break
    assert running.cancel() is True
    for handle in (queued, running):
        final = list(handle.iter_events())[-1]
        assert isinstance(final, Completed) and final.cancelled is typed and (final.error_type is None) is not typed
        with pytest.raises(errors.RequestCancelledError) as info:
            handle.get()
        assert info.value.request_id == handle.request_id


def test_client_timeout_cancels_and_names_the_request(slow_client):
    ids = []
    with pytest.raises(errors.FalTimeoutError) as info:
        slow_client.subscribe(T2I, LOW, client_timeout=0.5, on_enqueue=ids.append)
    assert isinstance(info.value, TimeoutError) and info.value.request_id == ids[0]
    assert ids[0] in str(info.value)
    final = list(slow_client.get_handle(T2I, ids[0]).iter_events())[-1]
    assert final.cancelled


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_during_subscribe_cancels_on_the_server(slow_client):
    ids = []

    def enqueued(request_id):
        ids.append(request_id)
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()

    with pytest.raises(KeyboardInterrupt):
        slow_client.subscribe(T2I, LOW, on_enqueue=enqueued)
    status = slow_client.status(T2I, ids[0])
    assert isinstance(status, Completed) and status.cancelled


def test_futures_run_sixteen_jobs_together(client):
    futures = [client.submit(T2I, LOW).future() for _ in range(16)]
    results = [f.result(timeout=120) for f in futures]
    assert len({r.request_id for r in results}) == 16


def test_webhook_is_delivered(client):
    received: list[dict] = []
    arrived = threading.Event()

    class Hook(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()
            arrived.set()

    with LoopbackServer(Hook) as hook:
        handle = client.submit(T2I, LOW, webhook_url=f"{hook.url}/hook")
        result = handle.get()
        assert arrived.wait(30)
    assert received[0]["request_id"] == handle.request_id and received[0]["status"] == "OK"
    assert received[0]["payload"]["images"][0]["url"] == result.images[0].url


def test_typed_errors_for_401_404_422(server, client):
    with Client("wrong-key", base_url=server.url, history=False) as bad, pytest.raises(errors.AuthError) as auth:
        bad.subscribe(T2I, LOW)
    assert "different key" in str(auth.value) and "wrong-key" not in str(auth.value) and T2I in str(auth.value)
    with pytest.raises(errors.EndpointNotFoundError) as missing:
        client.subscribe("fal-ai/no-such-model", {"prompt": "x"}, validate=False)  # the server says 404
    assert "no-such-model" in str(missing.value)
    with pytest.raises(errors.InvalidRequestError) as invalid:
        client.submit(T2I, LOW, webhook_url="http://example.com/hook")  # the server refuses remote webhooks
    assert invalid.value.errors[0]["loc"] == ("query", "fal_webhook") and invalid.value.status_code == 422
    with pytest.raises(errors.InvalidRequestError) as unreadable:
        client.subscribe(EDIT, {"prompt": "edit", "image_urls": ["data:image/png;base64,AAAA"], "quality": "low"})
    assert unreadable.value.errors[0]["loc"][0] == "image_urls" and unreadable.value.request_id


def test_content_policy_failure():
    with (
        LocalServer(latency=0, faults=Faults(fail_prompt="forbidden")) as srv,
        Client(srv.key, base_url=srv.url, history=False) as client,
        pytest.raises(errors.ContentPolicyError) as info,
    ):
        client.subscribe(T2I, {**LOW, "prompt": "something forbidden"})
    assert info.value.request_id and "content policy" in str(info.value)


def test_retries_ride_out_injected_429s_and_503s():
    faults = Faults(ingress_503=0.3, rate_limit_429=0.3, seed=7)
    retry = RetryPolicy(max_attempts=10, base_delay=0.01, max_delay=0.05)
    transport = PathLog()
    with (
        LocalServer(latency=0, faults=faults, concurrency=4) as srv,
        Client(srv.key, base_url=srv.url, history=False, retry=retry, transport=transport) as client,
    ):
        results = [client.subscribe(T2I, LOW) for _ in range(5)]
    assert all(r.images for r in results)
    assert transport.paths.count(f"POST /{T2I}") > 5  # some submits were answered 429/503 and retried


def test_status_stream_drop_falls_back_to_polling():
    transport = PathLog()
    with (
        LocalServer(latency=0.3, faults=Faults(drop_sse=1.0)) as srv,
        Client(srv.key, base_url=srv.url, history=False, transport=transport) as client,
    ):
        updates = []
        result = client.subscribe(T2I, LOW, with_logs=True, on_queue_update=updates.append)
    assert result.images and isinstance(updates[-1], Completed)
    assert any(p.endswith("/status/stream") for p in transport.paths)
    assert any(p.endswith("/status") for p in transport.paths)  # polled after the drop
    lines = [e.message for u in updates for e in u.logs]
    assert len(lines) == len(set(lines))


def test_history_records_runs_by_default(server):
    from falstudio.history import history

    with Client(server.key, base_url=server.url) as client:
        result = client.subscribe(T2I, LOW)
    record = history().get(result.request_id)
    assert record.state == "done" and record.image_paths()


def test_no_credentials_means_the_embedded_server_announced_once():
    code = (
        "from falstudio.client import Client\n"
        "a = Client(history=False); b = Client(history=False)\n"
        "print(a.mode, a.base_url == b.base_url)\n"
        "print(len(a.subscribe('fal-ai/gpt-image-1-mini', {'prompt': 'x', 'quality': 'low'}).images))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAL_KEY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["local", "True", "1"]
    notices = [line for line in done.stderr.splitlines() if line.startswith("falstudio: no fal credentials found")]
    assert len(notices) == 1 and "Set FAL_KEY" in notices[0]
