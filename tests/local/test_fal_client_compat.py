"""The official fal-client, with only its URL constants pointed at the local server (protocol notes §6.1)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from falstudio.local import Faults, LocalServer

fal_client = pytest.importorskip("fal_client")
fal_module = pytest.importorskip("fal_client.client")

MINI = "fal-ai/gpt-image-1-mini"
EDIT = "fal-ai/gpt-image-1/edit-image"


def _point_at(monkeypatch: pytest.MonkeyPatch, srv: LocalServer) -> None:
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", srv.url + "/")
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", srv.url + "/run/")
    monkeypatch.setattr(fal_module, "REST_URL", srv.url)
    monkeypatch.setattr(fal_module, "CDN_URL", srv.url)


@pytest.fixture
def fal(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    _point_at(monkeypatch, server)
    client = fal_client.SyncClient(key=server.key)
    yield client
    client._client.close()


def test_run(fal: Any) -> None:
    out = fal.run(MINI, {"prompt": "a lake", "quality": "low"})
    assert out["images"][0]["width"] == 1024


def test_submit_status_with_logs_result(fal: Any, wait_until: Callable[..., Any]) -> None:
    handle = fal.submit(MINI, {"prompt": "a forest", "quality": "low"})
    assert handle.request_id
    done = wait_until(lambda: isinstance(s := handle.status(with_logs=True), fal_client.Completed) and s)
    assert done.error is None and done.metrics["inference_time"] >= 0
    assert any("Offline engine" in entry["message"] for entry in done.logs)
    result = fal.result(MINI, handle.request_id)
    assert result == handle.get()
    assert fal.status(MINI, handle.request_id).logs is None


def test_subscribe_reports_queue_updates_with_logs(
    make_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = make_server(latency=0.4, concurrency=1)
    _point_at(monkeypatch, srv)
    fal = fal_client.SyncClient(key=srv.key)
    blocker = fal.submit(MINI, {"prompt": "first", "quality": "low"})
    updates: list[Any] = []
    enqueued: list[str] = []
    out = fal.subscribe(
        MINI,
        {"prompt": "a cabin at sunset", "quality": "low"},
        with_logs=True,
        on_enqueue=enqueued.append,
        on_queue_update=updates.append,
    )
    assert out["images"]
    kinds = [type(u).__name__ for u in updates]
    assert {"Queued", "InProgress", "Completed"} <= set(kinds)
    lines = [entry["message"] for u in updates if isinstance(u, fal_client.InProgress) for entry in (u.logs or [])]
    assert lines, "live logs while the job runs"
    assert len(enqueued) == 1
    blocker.get()


def test_cancel(
    make_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch, wait_until: Callable[..., Any]
) -> None:
    srv = make_server(latency=30, concurrency=1)
    _point_at(monkeypatch, srv)
    fal = fal_client.SyncClient(key=srv.key)
    handle = fal.submit(MINI, {"prompt": "slow", "quality": "high"})
    wait_until(lambda: isinstance(handle.status(), fal_client.InProgress))
    handle.cancel()
    done = wait_until(lambda: isinstance(s := handle.status(), fal_client.Completed) and s)
    assert done.error_type == "request_cancelled"
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        handle.get()
    assert caught.value.status_code == 400 and caught.value.error_type == "request_cancelled"


def test_upload_file_then_edit(fal: Any, tmp_path: Path, png: Callable[..., bytes]) -> None:
    path = tmp_path / "input.png"
    path.write_bytes(png((320, 320)))
    url = fal.upload_file(path)
    assert url.endswith("/input.png")
    out = fal.run(EDIT, {"prompt": "pixel art", "image_urls": [url], "quality": "low"})
    assert out["images"][0]["url"].startswith(url.split("/files/")[0])


def test_storage_fallback_flow(fal: Any) -> None:
    url = fal.upload(b"hello", "text/plain", "note.txt", repository="fal")
    import httpx

    assert httpx.get(url).text == "hello"


def test_validation_and_content_policy_errors(
    fal: Any, make_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.run(MINI, {"prompt": "x", "num_images": 10})
    assert caught.value.status_code == 422
    srv = make_server(faults=Faults(fail_prompt="blocked"))
    _point_at(monkeypatch, srv)
    other = fal_client.SyncClient(key=srv.key)
    handle = other.submit(MINI, {"prompt": "blocked words"})
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        handle.get()
    assert caught.value.status_code == 422 and caught.value.error_type == "content_policy_violation"


def test_client_retries_injected_faults(
    make_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """fal-client retries nginx 503s (no request id) and 429s; with seeded dice it gets through."""
    srv = make_server(faults=Faults(ingress_503=0.3, rate_limit_429=0.2, seed=3))
    _point_at(monkeypatch, srv)
    monkeypatch.setattr(fal_module, "BASE_DELAY", 0.01)
    fal = fal_client.SyncClient(key=srv.key)
    for _ in range(3):
        assert fal.run(MINI, {"prompt": "x", "quality": "low"})["images"]


def test_async_client(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    _point_at(monkeypatch, server)

    async def go() -> dict[str, Any]:
        client = fal_client.AsyncClient(key=server.key)
        handle = await client.submit(MINI, {"prompt": "night", "quality": "low"})
        return await handle.get()

    assert asyncio.run(go())["images"]


def test_fal_clients_request_options_and_headers(
    make_server: Callable[..., LocalServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    """hint=, headers=, priority= and start_timeout= as fal-client sends them; its user 504 read as on fal."""
    srv = make_server(latency=60, concurrency=1)
    _point_at(monkeypatch, srv)
    fal = fal_client.SyncClient(key=srv.key)
    fal.submit(MINI, {"prompt": "blocker", "quality": "high"}, hint="runner-1", headers={"X-Fal-Store-IO": "0"})
    low = fal.submit(MINI, {"prompt": "later", "quality": "low"}, priority="low")
    normal = fal.submit(MINI, {"prompt": "sooner", "quality": "low"}, priority="normal")
    assert normal.status().position < low.status().position
    late = fal.submit(
        MINI, {"prompt": "too late", "quality": "low"}, start_timeout=1.1
    )  # fal-client accepts more than 1 s
    with pytest.raises(fal_client.client.FalClientHTTPError) as info:
        late.get(interval=0.05)
    assert info.value.status_code == 504 and info.value.response_headers["x-fal-request-timeout-type"] == "user"
