"""Timeouts are checked numbers, run() waits as long as fal-client does, and a gateway that keeps failing is
reported in words (how often it was tried, whether the job may exist, how to find it) — against the real
local server."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from falstudio.client import Client, RetryPolicy, errors
from falstudio.local import Faults, LocalServer

MINI = "fal-ai/gpt-image-1-mini"
FAST_RETRY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


@pytest.fixture
def flaky() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0) as server:
        yield server


def _jobs(server: LocalServer) -> int:
    return len(server.app.state.backend.queue.jobs())


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 0, -1])
def test_timeouts_must_be_finite_positive_numbers_and_nothing_is_sent(server: LocalServer, value: float) -> None:
    before = _jobs(server)
    with pytest.raises(ValueError, match=r"^timeout must be a finite number of seconds > 0, or None"):
        Client(base_url=server.url, key=server.key, timeout=value)
    with Client(base_url=server.url, key=server.key, history=False) as client:
        for name in ("client_timeout", "start_timeout"):
            with pytest.raises(ValueError, match=rf"^{name} must be a finite number .* got {value!r}"):
                client.subscribe(MINI, {"prompt": "x"}, **{name: value})
        with pytest.raises(ValueError, match=r"^timeout must be"):
            client.run(MINI, {"prompt": "x"}, timeout=value)
        with pytest.raises(TypeError, match="client_timeout must be a number of seconds"):
            client.subscribe(MINI, {"prompt": "x"}, client_timeout="10")  # type: ignore[arg-type]
    assert _jobs(server) == before


def test_run_waits_for_a_slow_output_like_fal_client() -> None:
    """A run longer than the client's timeout still returns: fal bills it, so giving up would lose it."""
    with (
        LocalServer(port=0, latency=1.5) as server,  # quality low: about 1.5 s
        Client(base_url=server.url, key=server.key, timeout=0.5, history=False) as client,
    ):
        result = client.run(MINI, {"prompt": "a slow lighthouse", "quality": "low"})
        assert result.images and result.inference_seconds is not None and result.inference_seconds > 1.0
        with pytest.raises(errors.NetworkError, match=r"within timeout=0\.4 s"):
            client.run(MINI, {"prompt": "a slow lighthouse", "quality": "low"}, timeout=0.4)


def test_an_exhausted_nginx_503_on_submit_is_one_clear_sentence(flaky: LocalServer) -> None:
    flaky.faults = Faults(ingress_503=1.0)
    with (
        Client(base_url=flaky.url, key=flaky.key, retry=FAST_RETRY, history=False) as client,
        pytest.raises(errors.ServerError) as info,
    ):
        client.submit(MINI, {"prompt": "x"})
    error = info.value
    message, hint = error.message, str(error.hint)
    assert "<" not in message and "nginx" in message and "503 Service Temporarily Unavailable" in message
    assert len(message) < 200, message
    assert "tried 3 times" in message and error.status_code == 503
    assert "may still run" in hint and "fs.history()" in hint and "dashboard" in hint


def test_an_exhausted_503_while_following_a_request_says_how_to_get_it_later(flaky: LocalServer) -> None:
    with Client(base_url=flaky.url, key=flaky.key, retry=FAST_RETRY, history=False) as client:
        handle = client.submit(MINI, {"prompt": "x"})
        flaky.faults = Faults(ingress_503=1.0)
        with pytest.raises(errors.ServerError) as info:
            handle.status()
    error = info.value
    assert "<" not in error.message and "tried 3 times" in error.message
    assert error.request_id == handle.request_id
    assert f"client.result({MINI!r}, {handle.request_id!r})" in str(error.hint) and "resume()" in str(error.hint)


def test_a_refused_connection_says_how_often_it_was_tried() -> None:
    with (
        Client(base_url="http://127.0.0.1:9", key="k", retry=FAST_RETRY, history=False) as client,
        pytest.raises(errors.NetworkError) as info,
    ):
        client.submit(MINI, {"prompt": "x"})
    assert "tried 3 times" in info.value.message
    assert "may still run" not in str(info.value)  # a refused connection proves nothing was sent
