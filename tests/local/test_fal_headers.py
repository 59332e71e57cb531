"""The offline server exercises fal's headers: X-Fal-Request-Timeout (fal's 504, timeout type "user"),
X-Fal-Queue-Priority, x-fal-billable-units, X-Fal-Retryable, and webhooks retried on fal's schedule."""

from __future__ import annotations

import itertools
import queue
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from falstudio.client import Client, errors
from falstudio.local import Faults, LocalServer
from falstudio.local._backend import WEBHOOK_DELAYS
from falstudio.local._http import fal_error

MINI = "fal-ai/gpt-image-1-mini"
LOW = {"prompt": "a lighthouse", "quality": "low"}


@pytest.fixture
def busy(make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]) -> tuple[Any, httpx.Client]:
    """A one-worker server whose worker is held by a long job, so anything submitted next waits."""
    srv = make_server(latency=60, concurrency=1)
    api = client_for(srv)
    blocker = api.post(f"/{MINI}", json={"prompt": "blocker", "quality": "high"}).json()
    status_url = blocker["status_url"]
    deadline = 100
    while api.get(status_url).json()["status"] == "IN_QUEUE" and deadline:  # until the worker has it
        deadline -= 1
        httpx.get(srv.url, timeout=1)
    return srv, api


def test_a_request_that_does_not_start_in_time_ends_with_fals_user_504(busy: tuple[Any, httpx.Client]) -> None:
    srv, api = busy
    sub = api.post(f"/{MINI}", json=LOW, headers={"X-Fal-Request-Timeout": "0.2"}).json()
    final = None
    for _ in range(200):
        final = api.get(sub["status_url"]).json()
        if final["status"] == "COMPLETED":
            break
        httpx.get(srv.url, timeout=1)
    assert final is not None and final["error_type"] == "request_timeout"
    reply = api.get(sub["response_url"])
    assert reply.status_code == 504 and reply.headers["x-fal-request-timeout-type"] == "user"
    assert reply.json() == {"detail": "Request timed out", "error_type": "request_timeout"}
    assert reply.headers["x-fal-retryable"] == "false"
    ran = api.post(f"/run/{MINI}", json=LOW, headers={"X-Fal-Request-Timeout": "0.2"})
    assert ran.status_code == 504 and ran.headers["x-fal-request-timeout-type"] == "user"
    jobs = len(srv.app.state.backend.queue.jobs())
    with Client(srv.key, base_url=srv.url, history=False) as client, pytest.raises(errors.FalError) as info:
        client.run(MINI, LOW, start_timeout=0.2)
    assert info.value.status_code == 504
    assert len(srv.app.state.backend.queue.jobs()) == jobs + 1  # a user timeout is not retried
    bad = api.post(f"/{MINI}", json=LOW, headers={"X-Fal-Request-Timeout": "soon"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["header", "x-fal-request-timeout"]


def test_queue_priority_orders_the_queue(busy: tuple[Any, httpx.Client]) -> None:
    _, api = busy
    first = api.post(f"/{MINI}", json=LOW).json()
    low = api.post(f"/{MINI}", json=LOW, headers={"X-Fal-Queue-Priority": "low"}).json()
    second = api.post(f"/{MINI}", json=LOW, headers={"X-Fal-Queue-Priority": "normal"}).json()
    positions = [api.get(s["status_url"]).json()["queue_position"] for s in (first, second, low)]
    assert positions == [0, 1, 2]  # the low one waits behind a normal one that came later
    bad = api.post(f"/{MINI}", json=LOW, headers={"X-Fal-Queue-Priority": "urgent"})
    assert bad.status_code == 422 and "normal, low" in bad.json()["detail"][0]["msg"]


def test_replies_carry_billable_units_and_the_client_records_them(server: LocalServer, api: httpx.Client) -> None:
    ran = api.post(f"/run/{MINI}", json={**LOW, "num_images": 2})
    assert ran.headers["x-fal-billable-units"] == "2"
    with Client(server.key, base_url=server.url) as client:
        result = client.subscribe(MINI, LOW)
    assert result.billed is not None and (result.billed.units, result.billed.reply) == (Decimal(1), "result")


def test_model_errors_say_whether_to_retry(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]
) -> None:
    api = client_for(make_server(faults=Faults(fail_prompt="nope")))
    sub = api.post(f"/{MINI}", json={"prompt": "nope"}).json()
    for _ in range(200):
        if api.get(sub["status_url"]).json()["status"] == "COMPLETED":
            break
    reply = api.get(sub["response_url"])
    assert reply.headers["x-fal-error-type"] == "content_policy_violation"
    assert reply.headers["x-fal-retryable"] == "false"
    assert fal_error(500, {}, "internal_server_error").headers["x-fal-retryable"] == "true"
    assert fal_error(504, {}, "generation_timeout").headers["x-fal-retryable"] == "true"


def test_webhooks_retry_ten_times_over_two_hours(
    make_server: Callable[..., LocalServer],
    client_for: Callable[..., httpx.Client],
    webhook_sink: tuple[str, queue.Queue[Any], list[int]],
) -> None:
    assert len(WEBHOOK_DELAYS) == 10 and sum(WEBHOOK_DELAYS) == pytest.approx(7200)
    assert all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(WEBHOOK_DELAYS))
    url, received, fail_first = webhook_sink
    fail_first[0] = 10  # the receiver fails ten times: the last of fal's ten retries gets through
    api = client_for(make_server(webhook_time_scale=0.00005))  # the 2-hour schedule in 0.36 s
    sub = api.post(f"/{MINI}", params={"fal_webhook": url}, json=LOW).json()
    body = received.get(timeout=60)
    assert body["request_id"] == sub["request_id"] and body["status"] == "OK" and fail_first[0] == 0
