"""``falstudio.testing``: the polling wait, the fake clock a retry policy runs on, the loopback servers."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from falstudio.client import RetryPolicy
from falstudio.client._retry import send_with_retry
from falstudio.testing import FakeClock, LoopbackServer, QuietHandler, wait_for


def test_wait_for_returns_the_first_truthy_value_and_names_what_it_waited_for() -> None:
    values = iter([0, "", None, "ready"])
    assert wait_for(lambda: next(values), interval=0) == "ready"
    with pytest.raises(AssertionError, match=r"the queue to drain not reached within 0.05 s \(last value \[\]\)"):
        wait_for(list, timeout=0.05, what="the queue to drain")


def _always(status: int, calls: list[float], clock: FakeClock):
    async def send() -> httpx.Response:
        calls.append(clock.now())
        return httpx.Response(status, headers={"retry-after": "2"} if status == 429 else {})

    return send


def test_a_fake_clock_spends_the_back_off_without_waiting_it_out() -> None:
    clock = FakeClock()
    calls: list[float] = []
    policy = RetryPolicy(max_attempts=6, base_delay=1.0, max_delay=30.0, clock=clock.now, sleep=clock.sleep)
    started = time.monotonic()
    response = asyncio.run(send_with_retry(_always(503, calls, clock), policy))
    assert response.status_code == 503 and len(calls) == 6 and len(clock.slept) == 5
    assert all(0.5 * 2**n <= delay <= 1.5 * 2**n for n, delay in enumerate(clock.slept))  # 1, 2, 4, 8, 16 s ± 50 %
    assert time.monotonic() - started < 5  # 15.5 s or more of back-off, not waited


def test_max_elapsed_and_retry_after_are_read_on_the_policys_clock() -> None:
    clock = FakeClock()
    calls: list[float] = []
    policy = RetryPolicy(max_attempts=100, max_delay=5.0, max_elapsed=7.0, clock=clock.now, sleep=clock.sleep)
    asyncio.run(send_with_retry(_always(429, calls, clock), policy))
    assert clock.slept == [2.0] * 4  # Retry-After: 2 honoured; no retry starts after 7 s (on the fake clock)
    assert calls[-1] - calls[0] == 8.0


def test_loopback_server_answers_until_closed() -> None:
    class Hello(QuietHandler):
        def do_GET(self) -> None:
            self.send_json(200, {"path": self.path})

    with LoopbackServer(Hello) as server:
        assert httpx.get(f"{server.url}/x").json() == {"path": "/x"}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/x")
