"""Storage: both upload flows, file serving without traversal, size limits, and image inputs."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from falstudio.local import LocalServer
from falstudio.local._storage_routes import INLINE_FILE_BYTES

EDIT = "fal-ai/gpt-image-1/edit-image"


def test_cdn_token_then_upload(api: httpx.Client, server: LocalServer, png: Callable[..., bytes]) -> None:
    r = api.post("/storage/auth/token", params={"storage_type": "fal-cdn-v3"}, json={})
    assert r.status_code == 200
    token = r.json()
    assert set(token) == {"token", "token_type", "base_url", "expires_at"}
    assert token["base_url"] == server.url
    assert datetime.fromisoformat(token["expires_at"]) > datetime.now(UTC)
    data = png()
    with httpx.Client(timeout=30) as cdn:
        up = cdn.post(
            f"{token['base_url']}/files/upload",
            content=data,
            headers={
                "Authorization": f"{token['token_type']} {token['token']}",
                "Content-Type": "image/png",
                "X-Fal-File-Name": "../../etc/cat photo.png",
            },
        )
        assert up.status_code == 200
        url = up.json()["access_url"]
        assert url.startswith(f"{server.url}/files/") and url.endswith("/cat-photo.png")
        served = cdn.get(url)  # no key needed to read, like a CDN
        assert served.status_code == 200 and served.content == data
        assert served.headers["content-type"] == "image/png"
        assert cdn.head(url).status_code == 200


@pytest.mark.parametrize("size", [1000, INLINE_FILE_BYTES + 1])  # read at once / streamed from disk
def test_files_small_and_large_come_back_whole_with_cdn_headers(api: httpx.Client, size: int) -> None:
    data = os.urandom(size)
    url = api.post("/files/upload", content=data, headers={"Content-Type": "image/webp"}).json()["access_url"]
    with httpx.Client(timeout=30) as cdn:
        served = cdn.get(url)
        assert served.status_code == 200 and served.content == data
        assert served.headers["content-type"] == "image/webp"
        assert served.headers["content-length"] == str(size)
        assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "access-control-allow-origin" not in served.headers  # <img> needs no CORS; nothing else reads them
        head = cdn.head(url)
        assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(size)


def test_upload_accepts_the_api_key_and_refuses_strangers(
    api: httpx.Client, server: LocalServer, png: Callable[..., bytes]
) -> None:
    r = api.post("/files/upload", content=png(), headers={"Content-Type": "image/png"})
    assert r.status_code == 200 and r.json()["access_url"].endswith(".png")
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        assert anon.post("/files/upload", content=b"x").status_code == 401
        assert anon.post("/files/upload", content=b"x", headers={"Authorization": "Bearer made-up"}).status_code == 401
        assert anon.post("/storage/auth/token").status_code == 401
        assert anon.post("/storage/upload/initiate", json={}).status_code == 401


def test_initiate_then_put(api: httpx.Client, png: Callable[..., bytes]) -> None:
    r = api.post(
        "/storage/upload/initiate",
        params={"storage_type": "gcs"},
        json={"content_type": "image/png", "file_name": "in.png"},
    )
    assert r.status_code == 200
    urls = r.json()
    assert set(urls) == {"upload_url", "file_url"}
    with httpx.Client(timeout=30) as plain:
        assert plain.get(urls["file_url"]).status_code == 404  # nothing there before the PUT
        assert plain.put(urls["upload_url"], content=png(), headers={"Content-Type": "image/png"}).status_code == 200
        assert plain.get(urls["file_url"]).content == png()
        assert plain.put(urls["upload_url"], content=b"again").status_code == 404  # one-time URL


@pytest.mark.parametrize(
    "path",
    [
        "/files/../../etc/passwd",
        "/files/..%2F..%2Fetc%2Fpasswd/x",
        "/files/%2e%2e/%2e%2e/etc/passwd",
        "/files/00000000000000000000000000000000/x.png",
        "/files/ABCDEF/x",
        "/files/" + "a" * 32 + "/../../pyproject.toml",
        "/files/..%5c..%5cwindows/x",
    ],
)
def test_file_paths_cannot_escape(server: LocalServer, path: str) -> None:
    """Raw request lines (no client-side normalisation): every attempt is a 404."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    status_line = reply.split(b"\r\n", 1)[0]
    assert b" 404 " in status_line, status_line
    assert b"root:" not in reply and b"[project]" not in reply


def test_oversize_uploads_and_bodies_are_413(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]
) -> None:
    srv = make_server(max_upload_bytes=1000)
    api = client_for(srv)
    big = b"x" * 5000
    r = api.post("/files/upload", content=big, headers={"Content-Type": "image/png"})
    assert r.status_code == 413 and "1000" in r.json()["detail"]

    def chunks() -> Any:  # no content-length: the limit still holds while streaming
        for _ in range(10):
            yield b"y" * 500

    assert api.post("/files/upload", content=chunks()).status_code == 413
    initiate = api.post("/storage/upload/initiate", json={"content_type": "image/png"}).json()
    assert httpx.put(initiate["upload_url"], content=big).status_code == 413
    r = api.post("/fal-ai/gpt-image-1-mini", json={"prompt": "p" * 2000})
    assert r.status_code == 413


def test_uploaded_file_as_edit_input(
    api: httpx.Client, png: Callable[..., bytes], wait_until: Callable[..., Any]
) -> None:
    url = api.post("/files/upload", content=png((300, 200)), headers={"Content-Type": "image/png"}).json()["access_url"]
    r = api.post(f"/run/{EDIT}", json={"prompt": "make it sepia", "image_urls": [url], "quality": "low"})
    assert r.status_code == 200
    [image] = r.json()["images"]
    assert (image["width"], image["height"]) == (1536, 1024)  # auto size follows the 3:2 input


def test_loopback_alias_of_own_url_is_accepted(
    api: httpx.Client, server: LocalServer, png: Callable[..., bytes]
) -> None:
    url = api.post("/files/upload", content=png(), headers={"Content-Type": "image/png"}).json()["access_url"]
    alias = url.replace("127.0.0.1", "localhost")
    assert api.post(f"/run/{EDIT}", json={"prompt": "invert", "image_urls": [alias]}).status_code == 200


def test_data_uri_input_and_mask(api: httpx.Client, png: Callable[..., bytes]) -> None:
    import base64

    image = "data:image/png;base64," + base64.b64encode(png((64, 64))).decode()
    mask = "data:image/png;base64," + base64.b64encode(png((64, 64), (0, 0, 0, 0), "RGBA")).decode()
    r = api.post(
        "/run/fal-ai/gpt-image-1.5/edit",
        json={"prompt": "invert", "image_urls": [image], "mask_image_url": mask, "quality": "low"},
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("url", "error_type"),
    [
        ("https://example.com/cat.png", "file_download_error"),
        ("http://127.0.0.1:1/files/" + "a" * 32 + "/x.png", "file_download_error"),
        ("data:image/png;base64,bm90IGFuIGltYWdl", "image_load_error"),
    ],
)
def test_unusable_inputs_fail_the_job_with_fal_error_types(
    api: httpx.Client, server: LocalServer, url: str, error_type: str
) -> None:
    r = api.post(f"/run/{EDIT}", json={"prompt": "sepia", "image_urls": [url]})
    assert r.status_code == 422
    assert r.headers["x-fal-error-type"] == error_type
    [item] = r.json()["detail"]
    assert item["loc"] == ["body", "image_urls", 0] and item["type"] == error_type


def test_missing_own_file_is_a_download_error(api: httpx.Client, server: LocalServer) -> None:
    r = api.post(f"/run/{EDIT}", json={"prompt": "sepia", "image_urls": [f"{server.url}/files/{'b' * 32}/x.png"]})
    assert r.status_code == 422 and "not found" in r.json()["detail"][0]["msg"]
