"""Uploads over 100 MiB go in parts (fal's multipart flow), in both shapes fal's clients use, against the real
local server: falstudio's client (a real 101 MiB file, under a second on loopback), the official fal-client
(threshold lowered), the signed-URL shape, and the server's refusals."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from falstudio.client import Client, _storage
from falstudio.local import LocalServer

MiB = 1024 * 1024
fal_module = pytest.importorskip("fal_client.client")


class Recording(httpx.AsyncBaseTransport):
    """Forwards to the real server over loopback, noting ``METHOD path`` of each request; ``no_token`` answers
    the CDN token route 404, like a storage API without it (the client then uses the signed-URL flow)."""

    def __init__(self, no_token: bool = False) -> None:
        self.calls: list[str] = []
        self.no_token = no_token
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(f"{request.method} {request.url.path}")
        if self.no_token and request.url.path == "/storage/auth/token":
            return httpx.Response(404, json={"detail": "Not Found"}, request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
def roomy() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0, max_upload_bytes=256 * MiB) as server:
        yield server


def _fetch(url: str) -> bytes:
    return httpx.get(url, timeout=60).content


def test_a_real_101_mib_upload_goes_in_ten_mib_parts(roomy: LocalServer) -> None:
    data = os.urandom(101 * MiB)
    transport = Recording()
    with Client(base_url=roomy.url, key=roomy.key, transport=transport, history=False) as client:
        url = client.upload(data, "application/octet-stream", "big.bin")
    assert hashlib.sha256(_fetch(url)).digest() == hashlib.sha256(data).digest()
    parts = [c for c in transport.calls if c.startswith("PUT ") and "/multipart/" in c]
    assert len(parts) == 11 and "POST /files/upload/multipart" in transport.calls
    assert "POST /files/upload" not in transport.calls  # never as one request
    assert transport.calls[-1].endswith("/complete")


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_storage, "MULTIPART_THRESHOLD", 1 * MiB)
    monkeypatch.setattr(_storage, "PART_BYTES", 256 * 1024)


@pytest.mark.usefixtures("small_parts")
def test_the_signed_url_shape_when_there_is_no_cdn_token(server: LocalServer) -> None:
    data = os.urandom(3 * MiB + 5)
    transport = Recording(no_token=True)
    with Client(base_url=server.url, key=server.key, transport=transport, history=False) as client:
        url = client.upload(data, "image/png", "photo.png")
    assert _fetch(url) == data
    assert "POST /storage/upload/initiate-multipart" in transport.calls
    assert sum("/storage/upload/multipart/" in c and c.startswith("PUT") for c in transport.calls) == 13


@pytest.mark.usefixtures("small_parts")
def test_a_file_input_over_the_threshold_reaches_the_engine(server: LocalServer, tmp_path: Any) -> None:
    from PIL import Image

    path = tmp_path / "noise.png"
    Image.frombytes("RGB", (1024, 1024), os.urandom(1024 * 1024 * 3)).save(path)  # ~3 MiB of noise
    with Client(base_url=server.url, key=server.key, history=False) as client:
        result = client.run("fal-ai/gpt-image-1/edit-image", {"prompt": "grayscale", "image_urls": [str(path)]})
    assert result.images


def test_the_official_client_uploads_in_parts(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    fal_client = pytest.importorskip("fal_client")
    for name in ("REST_URL", "CDN_URL"):
        monkeypatch.setattr(fal_module, name, server.url)
    monkeypatch.setattr(fal_module, "MULTIPART_THRESHOLD", 1 * MiB)
    monkeypatch.setattr(fal_module, "MULTIPART_CHUNK_SIZE", 256 * 1024)
    data = os.urandom(2 * MiB + 1)
    client = fal_client.SyncClient(key=server.key)
    try:
        url = client.upload(data, "application/octet-stream", "official.bin")
    finally:
        client._client.close()
    assert _fetch(url) == data


@pytest.fixture
def session(server: LocalServer, api: httpx.Client) -> Callable[..., tuple[str, str, dict[str, str]]]:
    """``session()``: a CDN multipart upload begun on the shared server: ``(access_url, upload_id, headers)``."""

    def begin(name: str = "a.bin") -> tuple[str, str, dict[str, str]]:
        token = api.post("/storage/auth/token", json={}).json()
        headers = {"Authorization": f"Bearer {token['token']}"}
        created = api.post(
            "/files/upload/multipart", headers={**headers, "Content-Type": "image/png", "X-Fal-File-Name": name}
        ).json()
        return created["access_url"], created["uploadId"], headers

    return begin


def test_parts_are_checked_when_the_upload_completes(session: Callable[..., Any]) -> None:
    url, upload, headers = session()
    with httpx.Client(headers=headers, timeout=30) as cdn:
        one = cdn.put(f"{url}/multipart/{upload}/1", content=b"first")
        assert one.status_code == 200 and one.json() == {"partNumber": 1, "etag": one.headers["etag"]}
        two = cdn.put(f"{url}/multipart/{upload}/2", content=b"second").headers["etag"]
        assert cdn.get(url).status_code == 404  # not a file until complete
        bad = [{"partNumber": 1, "etag": "nope"}, {"partNumber": 2, "etag": two}]
        assert cdn.post(f"{url}/multipart/{upload}/complete", json={"parts": bad}).status_code == 400
        gap = [{"partNumber": 2, "etag": two}]
        assert cdn.post(f"{url}/multipart/{upload}/complete", json={"parts": gap}).status_code == 400
        assert cdn.put(f"{url}/multipart/{upload}/0", content=b"x").status_code == 400
        assert cdn.put(f"{url}/multipart/{upload}/x", content=b"x").status_code == 400
        good = [{"partNumber": 1, "etag": one.headers["etag"]}, {"partNumber": 2, "etag": two}]
        done = cdn.post(f"{url}/multipart/{upload}/complete", json={"parts": good})
        assert done.status_code == 200 and done.json() == {"access_url": url}
        assert cdn.get(url).content == b"firstsecond"
        assert cdn.post(f"{url}/multipart/{upload}/complete", json={"parts": good}).status_code == 404  # once


def test_a_multipart_upload_needs_the_token_and_its_own_file(session: Callable[..., Any]) -> None:
    url, upload, headers = session()
    other_url, _, _ = session("b.bin")
    assert httpx.put(f"{url}/multipart/{upload}/1", content=b"x").status_code == 401
    assert httpx.put(f"{other_url}/multipart/{upload}/1", content=b"x", headers=headers).status_code == 404


def test_the_parts_together_may_not_exceed_the_upload_limit(make_server: Callable[..., LocalServer]) -> None:
    small = make_server(max_upload_bytes=1000)
    with httpx.Client(base_url=small.url, headers={"Authorization": f"Key {small.key}"}, timeout=30) as api:
        created = api.post("/storage/upload/initiate-multipart", json={"content_type": "image/png"}).json()
        upload = created["upload_url"]
        assert api.put(f"{upload}/1", content=b"x" * 600).status_code == 200
        refused = api.put(f"{upload}/2", content=b"x" * 600)
        assert refused.status_code == 413 and "max_upload_bytes" in refused.json()["detail"]
