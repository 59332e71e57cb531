"""An image download is bounded: a body past the cap (endless, declared too long, or a gzip bomb) is refused with
an error naming the URL (never its signed query) and the cap, on each path an image is fetched by (the client's
blocking connections, its loop, and a plain GET for an image without a client), in a child under a memory limit;
the offline server's fetch of an input image stops at its upload limit."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import httpx
import pytest

from falstudio.local import LocalServer

from ._bounded import run_bounded
from ._loopback import Loopback, endless_route, gzip_bomb_body, gzip_route, reply

EDIT = "fal-ai/gpt-image-1/edit-image"
_BIG = 2 * 1024**3  # bytes a hostile "image" carries (once inflated): twice the child's whole address space
_FETCH = """
import asyncio
from falstudio.client import AsyncClient, Client, Image, errors

async def on_the_loop(url):
    async with AsyncClient(base_url=API, key="id:secret", history=False) as client:
        return await Image.model_validate({"url": url}, context={"downloader": client}).abytes()

def fetched(how, url):
    try:
        if how == "blocking":  # the client's own blocking connections (the history, a view)
            with Client(base_url=API, key="id:secret", history=False) as client:
                got = Image.model_validate({"url": url}, context={"downloader": client._async}).bytes()
        elif how == "loop":
            got = asyncio.run(on_the_loop(url))
        else:  # an image without a client: a plain GET
            got = Image(url=url).bytes()
        return {"outcome": f"{len(got)} bytes"}
    except errors.FalError as exc:
        return {"outcome": type(exc).__name__, "message": exc.message, "hint": exc.hint}

report(**{how: fetched(how, URL) for how in ("blocking", "loop", "plain")})
"""


def _declared(handler: BaseHTTPRequestHandler) -> None:
    """Claims 10 GiB, sends a little, and waits for the client to hang up."""
    handler.send_response(200)
    handler.send_header("content-type", "image/png")
    handler.send_header("content-length", str(10 * 1024**3))
    handler.end_headers()
    try:
        for _ in range(600):
            handler.wfile.write(b"\x89PNG" * 256)
            handler.wfile.flush()
    except OSError:
        pass


@pytest.fixture(scope="module")
def files() -> Iterator[Loopback]:
    loopback = Loopback(
        {
            "/endless.png": endless_route(b"\x89PNG\r\n\x1a\n", "image/png", _BIG),
            "/declared.png": _declared,
            "/bomb.png": gzip_route(gzip_bomb_body(b"\x89PNG\r\n\x1a\n", b"", _BIG), "image/png"),
            "/small.png": lambda handler: reply(handler, 200, b"\x89PNG\r\n\x1a\n" + b"\0" * 1000),
        }
    )
    yield loopback
    loopback.close()


def _fetch(files: Loopback, name: str, **env: str) -> dict[str, dict[str, str]]:
    """Each path's outcome for the file at ``name`` (asked for with a signed query)."""
    url = files.url(name) + "?sig=SECRET-SIGNATURE"
    result = run_bounded(f"API = {files.url('/api')!r}\nURL = {url!r}\n" + _FETCH, env=env, memory=1024**3)
    assert "SECRET-SIGNATURE" not in str(result)
    return {how: result[how] for how in ("blocking", "loop", "plain")}


@pytest.mark.parametrize("name", ["/endless.png", "/declared.png", "/bomb.png"])
def test_a_download_past_the_cap_is_refused_in_bounded_memory(files: Loopback, name: str) -> None:
    for how, said in _fetch(files, name, FALSTUDIO_MAX_DOWNLOAD_MB="16").items():
        assert said["outcome"] == "ServerError", (how, said)
        assert said["message"] == f"the file at {files.url(name)} is larger than 16 MiB; refused unread", how
        assert "FALSTUDIO_MAX_DOWNLOAD_MB" in said["hint"], how


def test_the_default_cap_is_256_mib_and_a_file_within_the_cap_arrives(files: Loopback) -> None:
    for how, said in _fetch(files, "/declared.png").items():
        assert said["message"] == f"the file at {files.url('/declared.png')} is larger than 256 MiB; refused unread", (
            how
        )
    for how, said in _fetch(files, "/small.png", FALSTUDIO_MAX_DOWNLOAD_MB="0.001").items():
        assert said == {"outcome": "1008 bytes"}, how  # within 1,048 bytes
    for how, said in _fetch(files, "/small.png", FALSTUDIO_MAX_DOWNLOAD_MB="0.0005").items():
        assert said["message"] == f"the file at {files.url('/small.png')} is larger than 524 bytes; refused unread", how


@pytest.mark.parametrize("name", ["/endless.png", "/declared.png", "/bomb.png"])
def test_the_offline_server_refuses_an_input_image_past_its_upload_limit(files: Loopback, name: str) -> None:
    with (
        LocalServer(port=0, latency=0, allow_remote_fetch=True, max_upload_bytes=2**20) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Key {server.key}"}, timeout=60) as api,
    ):
        r = api.post(f"/run/{EDIT}", json={"prompt": "grayscale", "image_urls": [files.url(name)]})
        assert r.status_code == 422, r.text
        problem = r.json()["detail"][0]
        assert problem["loc"] == ["body", "image_urls", 0] and problem["type"] == "file_too_large", problem
        assert problem["msg"] == f"The file is larger than {2**20} bytes"
        still = api.post("/run/fal-ai/gpt-image-1-mini", json={"prompt": "a red apple", "quality": "low"})
        assert still.status_code == 200 and still.json()["images"]
