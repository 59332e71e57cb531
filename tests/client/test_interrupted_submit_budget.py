"""A queued submit interrupted while its POST is in flight may still have been queued (fal does not cancel a queued
request whose submitting client hangs up): its estimate stays counted, as its history record says, rather than
being given back to the budget."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

import falstudio as fs
from falstudio.client import AsyncClient, errors
from falstudio.history import HistoryStore
from falstudio.testing import LoopbackServer

T2I = "fal-ai/gpt-image-1-mini"
LOW = {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"}  # $0.01


class _Unanswering:
    """Takes each POST and never answers it, until the client hangs up; ``arrived`` is set at each."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                server.arrived.set()
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:  # until the peer closes
                    readable, _, _ = select.select([self.connection], [], [], 0.05)
                    if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return

        self.httpd = LoopbackServer(Handler)
        self.url = self.httpd.url


@pytest.fixture
def unanswering() -> Iterator[_Unanswering]:
    server = _Unanswering()
    with server.httpd:
        yield server


def test_a_submit_interrupted_in_flight_keeps_its_estimate_counted(unanswering: _Unanswering, tmp_path: Path) -> None:
    async def main() -> tuple[Decimal, object]:
        store = HistoryStore(tmp_path)
        async with AsyncClient(base_url=unanswering.url, key="k", history=store, budget="0.015") as client:
            submitting = asyncio.ensure_future(client.submit(T2I, LOW))
            assert await asyncio.to_thread(unanswering.arrived.wait, 10)  # the POST reached the server
            submitting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await submitting
            assert client.budget is not None
            used = client.budget.used()
            try:
                await client.submit(T2I, LOW)
                second: object = "sent"
            except errors.BudgetExceededError:
                second = "refused"
            except errors.FalError:  # sent, and left unanswered
                second = "sent"
            return used, second

    used, second = asyncio.run(main())
    assert used == Decimal("0.01")  # it may have been queued, and billed
    assert second == "refused"
    [record] = fs.history(path=tmp_path)
    assert (record.state, record.error_type, record.request_id) == ("lost", "unconfirmed", None)
    assert HistoryStore(tmp_path).spend_entries()  # the history counts it too
