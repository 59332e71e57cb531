"""Starting and stopping a local server waits for nothing it does not need: no TLS set-up for a client the
server may never use, no fixed pauses while stopping (the test suite starts and stops dozens)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from falstudio.local import LocalServer


def test_stopping_takes_no_fixed_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    server = LocalServer(port=0).start()
    with httpx.Client() as client:  # an open keep-alive connection, as a client leaves one
        assert client.get(f"{server.url}/").status_code == 200  # the connection stays open (keep-alive)
        pauses: list[float] = []
        sleep = asyncio.sleep

        async def noted(delay: float, *args: Any, **kwargs: Any) -> Any:
            pauses.append(delay)
            return await sleep(delay, *args, **kwargs)

        monkeypatch.setattr(asyncio, "sleep", noted)  # uvicorn's own waits are 0.1 s sleeps
        server.stop()
    assert not server.running
    assert all(delay < 0.05 for delay in pauses), pauses


def test_the_server_makes_its_outgoing_client_only_when_it_needs_one() -> None:
    with LocalServer(port=0) as server:
        backend = server.app.state.backend
        assert backend._http is None  # loading a TLS context costs ~0.1 s of every start
        assert backend.http is backend.http  # made once, on first use
    with pytest.raises(RuntimeError, match="not running"):
        _ = backend.http
