"""Incoming streams are bounded: an event without an end stops at the cap with a clear error (in a process under a
memory limit), and a stream that only sends pings ends at the client's timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from falstudio.testing import LoopbackServer

HERE = Path(__file__).parent
MEMORY_MB = 1536  # the reader's whole address space; the endless event would pass it tenfold
SENT_MB = 16 * 1024


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    mode = "endless"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("x-fal-request-id", "hostile-1")
        self.end_headers()
        try:
            if self.mode == "endless":  # one event that never ends
                self.wfile.write(b'data: {"images": "')
                block = b"A" * 2**20
                for _ in range(SENT_MB):
                    self.wfile.write(block)
            else:  # keep-alive pings and never an event
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
                    time.sleep(0.1)  # ten pings within the client's timeout
        except OSError:  # the client closed the stream: what a bounded reader does
            pass
        self.close_connection = True


@pytest.fixture
def hostile() -> Iterator[tuple[str, type[_Hostile]]]:
    handler = type("Handler", (_Hostile,), {})
    with LoopbackServer(handler) as server:
        yield server.url, handler


def read_in_a_process(url: str, timeout: float, **env: str) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(HERE / "_stream_reader_process.py"), url, str(MEMORY_MB), str(timeout)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip(), time.monotonic() - started


def test_an_event_without_an_end_stops_at_the_cap_with_a_clear_error(hostile: tuple[str, Any]) -> None:
    url, handler = hostile
    handler.mode = "endless"
    said, _ = read_in_a_process(url, 60, FALSTUDIO_MAX_EVENT_MB="8")
    assert said.startswith("ServerError: a stream event passed 8 MiB without ending"), said
    assert "FALSTUDIO_MAX_EVENT_MB" in said


def test_a_stream_of_only_pings_ends_at_the_clients_timeout(hostile: tuple[str, Any]) -> None:
    url, handler = hostile
    handler.mode = "pings"
    said, took = read_in_a_process(url, 1.0)
    assert said.startswith("FalTimeoutError: the stream sent no event for 1 s"), said
    assert took < 50  # the server would ping for 60 s
