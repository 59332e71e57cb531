"""Blocking downloads (the run history fetching a result's images, a view asking for an image's bytes) use the
client's own blocking connections: they never wait behind the loop's requests, carry the key only to fal's
origin, and a reply worth retrying is tried again the loop's way."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

import falstudio.client
from falstudio.client import Client, Image, RetryPolicy, errors
from falstudio.local import LocalServer
from falstudio.testing import LoopbackServer

T2I = "fal-ai/gpt-image-1-mini"
CLIENT = str(Path(falstudio.client.__file__).parent / "*")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


class Files:
    """A file host on loopback: serves ``PNG`` at any path, after ``failures`` 503 replies; notes each request's
    Authorization header."""

    def __init__(self) -> None:
        self.failures = 0
        self.seen: list[str | None] = []
        files = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                files.seen.append(self.headers.get("Authorization"))
                if files.failures > 0:
                    files.failures -= 1
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args: object) -> None:
                pass

        self.server = LoopbackServer(Handler)
        self.url = self.server.url


@pytest.fixture
def files() -> Iterator[Files]:
    host = Files()
    with host.server:
        yield host


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0) as srv:
        yield srv


def test_an_image_is_fetched_while_the_loop_is_busy(server: LocalServer) -> None:
    with Client(base_url=server.url, key=server.key, history=False) as client:
        result = client.subscribe(T2I, {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"})
        image = result.images[0]
        loop = client._runner.loop()
        busy, downloaded = threading.Event(), threading.Event()

        async def hog() -> None:
            busy.set()
            downloaded.wait(30)  # the loop does nothing else until the download is done (or 30 s)

        hogging = asyncio.run_coroutine_threadsafe(hog(), loop)
        assert busy.wait(10)
        started = time.monotonic()
        data = image.bytes(keep=False)
        took = time.monotonic() - started
        assert not hogging.done(), f"the download waited for the loop ({took:.1f} s)"
        downloaded.set()
        hogging.result(10)
    assert data.startswith(b"\x89PNG")


def fetch(client: Client, url: str) -> bytes:
    """What an image at ``url`` of one of the client's results gives for its bytes."""
    return Image.model_validate({"url": url}, context={"downloader": client._async}).bytes(keep=False)


def test_the_key_goes_to_fals_origin_only(server: LocalServer, files: Files) -> None:
    with Client(base_url=server.url, key=server.key, history=False) as client:
        assert fetch(client, f"{files.url}/a.png") == PNG
    assert files.seen == [None]


def test_a_reply_worth_retrying_is_tried_again(server: LocalServer, files: Files) -> None:
    files.failures = 2
    fast = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_elapsed=5)
    with Client(base_url=server.url, key=server.key, history=False, retry=fast) as client:
        assert fetch(client, f"{files.url}/a.png") == PNG
    assert len(files.seen) == 3  # the blocking try, then the loop's: one more 503, then the image


def test_a_refusal_is_a_typed_error(server: LocalServer) -> None:
    with Client(base_url=server.url, key=server.key, history=False) as client, pytest.raises(errors.FalError) as caught:
        fetch(client, f"{server.url}/files/nothing/here.png")
    assert caught.value.status_code == 404


def test_a_downloaded_image_is_freed_when_dropped_not_when_the_cycle_collector_runs(server: LocalServer) -> None:
    """A reply object sits in a reference cycle until Python's cycle collector runs: the image's bytes must not be
    kept in it (the history downloads every image of a sweep and drops it once stored)."""
    with Client(base_url=server.url, key=server.key, history=False) as client:
        result = client.subscribe(T2I, {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"})
        url = result.images[0].url
        fetch(client, url)  # the blocking connection, opened once
        gc.disable()
        tracemalloc.start(64)
        try:
            size = len(fetch(client, url))  # the bytes are dropped at once
            # Only what the client allocated: the server, a thread of this process, may still hold its copy.
            mine = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, CLIENT, all_frames=True)])
            held = [t.size for t in mine.traces if t.size >= size]
        finally:
            tracemalloc.stop()
            gc.enable()
    assert size > 20_000
    assert not held, f"blocks of {held} bytes still held after dropping a {size}-byte image"
