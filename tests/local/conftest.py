"""Fixtures for the local server tests: HTTP clients, private servers with their own settings, a webhook sink."""

from __future__ import annotations

import functools
import io
import json
import queue
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
from PIL import Image

from falstudio._internal.tls import default_context
from falstudio.local import LocalServer
from falstudio.testing import LoopbackServer, wait_for

TIMEOUT = 30.0


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    """An HTTP client on the shared session server, with its key (and the process's TLS context: httpx's default
    loads certifi's bundle for each client, ~25 ms, and there are hundreds of these)."""
    auth = {"Authorization": f"Key {server.key}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=TIMEOUT, verify=default_context()) as c:
        yield c


@pytest.fixture
def make_server() -> Iterator[Callable[..., LocalServer]]:
    """Start private servers (for faults, latency or limits); all stopped after the test."""
    started: list[LocalServer] = []

    def make(**options: Any) -> LocalServer:
        options.setdefault("latency", 0)
        srv = LocalServer(port=0, **options).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture
def client_for() -> Iterator[Callable[[LocalServer], httpx.Client]]:
    """``client_for(server)``: an authorised HTTP client for a private server, closed after the test."""
    opened: list[httpx.Client] = []

    def make(srv: LocalServer) -> httpx.Client:
        auth = {"Authorization": f"Key {srv.key}"}
        client = httpx.Client(base_url=srv.url, headers=auth, timeout=TIMEOUT, verify=default_context())
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    """``wait_until(fn)``: poll ``fn`` until it returns something truthy (and return it), or fail."""
    return functools.partial(wait_for, timeout=TIMEOUT, interval=0.02)


class _Sink(BaseHTTPRequestHandler):
    received: queue.Queue[dict[str, Any]]
    fail_first: list[int]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length))
        if self.fail_first and self.fail_first[0] > 0:
            self.fail_first[0] -= 1
            self.send_response(500)
            self.end_headers()
            return
        self.received.put(body)
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def webhook_sink() -> Iterator[tuple[str, queue.Queue[dict[str, Any]], list[int]]]:
    """``(url, received, fail_first)``: a loopback endpoint recording webhook bodies; it answers 500 to the
    first ``fail_first[0]`` calls."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()
    fail_first = [0]
    handler = type("Sink", (_Sink,), {"received": received, "fail_first": fail_first})
    with LoopbackServer(handler) as server:
        yield f"{server.url}/hook", received, fail_first


@pytest.fixture
def png() -> Callable[..., bytes]:
    """``png(size, colour, mode)``: bytes of a plain PNG."""

    def make(size: tuple[int, int] = (64, 48), colour: tuple[int, ...] = (200, 60, 40), mode: str = "RGB") -> bytes:
        buf = io.BytesIO()
        Image.new(mode, size, colour).save(buf, "PNG")
        return buf.getvalue()

    return make


@pytest.fixture
def photo() -> Image.Image:
    """A small, varied test picture (gradients and shapes), so every filter has something to change."""
    from PIL import ImageDraw

    image = Image.linear_gradient("L").resize((256, 256)).convert("RGB")
    r, g, b = image.split()
    image = Image.merge("RGB", (r, g.rotate(90), b.rotate(180)))
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 140, 140), fill=(240, 200, 40))
    draw.rectangle((150, 120, 230, 220), fill=(30, 120, 200))
    return image
