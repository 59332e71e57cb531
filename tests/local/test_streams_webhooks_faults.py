"""Status streams (SSE), webhooks and injected faults, over loopback HTTP."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from falstudio.local import Faults, LocalServer

MINI = "fal-ai/gpt-image-1-mini"


def _read_stream(
    client: httpx.Client, url: str, events: list[dict[str, Any]] | None = None, **params: str
) -> tuple[list[dict[str, Any]], list[str]]:
    """All ``data:`` events of a status stream (appended to ``events`` as they come), and any comment lines,
    until the server closes it."""
    events = [] if events is None else events
    comments: list[str] = []
    with client.stream("GET", url, params=params) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-fal-request-id"]
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
            elif line.startswith(":"):
                comments.append(line)
    return events, comments


def test_status_stream_follows_a_job_to_completion(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    faults = Faults(hold={"log"})  # the run waits before each engine line: the test lets three out one by one
    srv = make_server(concurrency=1, faults=faults)
    api = client_for(srv)
    sub = api.post(f"/{MINI}", json={"prompt": "a lake with mountains", "quality": "low"}).json()
    events: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: _read_stream(api, sub["status_url"] + "/stream", events, logs="1"))
    reader.start()
    for _ in range(3):
        assert faults.wait_held("log")
        received = sum(len(e["logs"]) for e in events)
        faults.release("log")
        wait_until(lambda received=received: sum(len(e["logs"]) for e in events) > received)  # sent on its own
    faults.release("log", count=100)  # the rest at once
    reader.join(30)
    states = [e["status"] for e in events]
    assert states[-1] == "COMPLETED" and states.count("COMPLETED") == 1
    assert "IN_PROGRESS" in states
    assert events[-1]["metrics"]["inference_time"] > 0
    # log lines arrive while the job runs, each one once (events carry only new lines, as fal's do)
    messages = [entry["message"] for e in events for entry in e["logs"]]
    assert len(messages) == len(set(messages)) >= 5
    assert sum(1 for e in events if e["status"] == "IN_PROGRESS" and e["logs"]) >= 3
    full = api.get(sub["status_url"], params={"logs": "1"}).json()["logs"]
    assert [entry["message"] for entry in full] == messages


def test_status_stream_without_logs_and_after_completion(api: httpx.Client, wait_until: Callable[..., Any]) -> None:
    sub = api.post(f"/{MINI}", json={"prompt": "stars", "quality": "low"}).json()
    events, _ = _read_stream(api, sub["status_url"] + "/stream")
    assert all(e["logs"] is None for e in events) and events[-1]["status"] == "COMPLETED"
    again, _ = _read_stream(api, sub["status_url"] + "/stream")
    assert [e["status"] for e in again] == ["COMPLETED"]


def test_stream_of_a_queued_job_reports_moving_positions(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    srv = make_server(latency=0.2, concurrency=1)
    api = client_for(srv)
    subs = [api.post(f"/{MINI}", json={"prompt": f"p{i}", "quality": "low"}).json() for i in range(3)]
    events, _ = _read_stream(api, subs[2]["status_url"] + "/stream")
    positions = [e["queue_position"] for e in events if e["status"] == "IN_QUEUE"]
    assert positions == sorted(positions, reverse=True) and positions[-1] == 0
    assert events[-1]["status"] == "COMPLETED"


def test_dropped_streams_end_without_completed(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    srv = make_server(latency=0.3, faults=Faults(drop_sse=1.0))
    api = client_for(srv)
    sub = api.post(f"/{MINI}", json={"prompt": "x", "quality": "low"}).json()
    events, _ = _read_stream(api, sub["status_url"] + "/stream")
    assert len(events) <= 1 and all(e["status"] != "COMPLETED" for e in events)
    srv.faults.drop_sse = 0.0
    events, _ = _read_stream(api, sub["status_url"] + "/stream")
    assert events[-1]["status"] == "COMPLETED"


def test_webhook_ok_envelope(api: httpx.Client, webhook_sink: tuple[str, queue.Queue[Any], list[int]]) -> None:
    url, received, _ = webhook_sink
    sub = api.post(f"/{MINI}", params={"fal_webhook": url}, json={"prompt": "a boat", "quality": "low"}).json()
    body = received.get(timeout=30)
    assert body["request_id"] == body["gateway_request_id"] == sub["request_id"]
    assert body["status"] == "OK"
    assert body["payload"] == api.get(sub["response_url"]).json()


def test_webhook_error_envelope_and_retries(
    make_server: Callable[..., LocalServer],
    client_for: Callable[..., httpx.Client],
    webhook_sink: tuple[str, queue.Queue[Any], list[int]],
) -> None:
    url, received, fail_first = webhook_sink
    fail_first[0] = 2  # the receiver answers 500 twice; the server tries again (fal's schedule, compressed)
    srv = make_server(faults=Faults(fail_prompt="nope"), webhook_time_scale=0.001)
    api = client_for(srv)
    sub = api.post(f"/{MINI}", params={"fal_webhook": url}, json={"prompt": "nope"}).json()
    body = received.get(timeout=30)
    assert body["request_id"] == sub["request_id"]
    assert body["status"] == "ERROR"
    assert body["error"] == "Invalid status code: 422"
    assert body["payload"]["detail"][0]["type"] == "content_policy_violation"


def test_webhook_targets_are_checked(api: httpx.Client) -> None:
    for bad in ("https://example.com/hook", "not a url", "ftp://127.0.0.1/x"):
        r = api.post(f"/{MINI}", params={"fal_webhook": bad}, json={"prompt": "x"})
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "fal_webhook"]


def test_unreachable_webhook_does_not_hurt_the_server(api: httpx.Client, wait_until: Callable[..., Any]) -> None:
    sub = api.post(f"/{MINI}", params={"fal_webhook": "http://127.0.0.1:9/closed"}, json={"prompt": "x"}).json()
    wait_until(lambda: api.get(sub["status_url"]).json()["status"] == "COMPLETED")
    assert api.get(sub["response_url"]).status_code == 200


def test_ingress_503_looks_like_nginx(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]
) -> None:
    srv = make_server(faults=Faults(ingress_503=1.0))
    api = client_for(srv)
    for method, path in (("POST", f"/{MINI}"), ("GET", f"/{MINI}/requests/x/status"), ("POST", f"/run/{MINI}")):
        r = api.request(method, path, json={"prompt": "x"})
        assert r.status_code == 503
        assert "nginx" in r.text and r.headers["content-type"].startswith("text/html")
        assert "x-fal-request-id" not in r.headers
    # files and storage are not behind the fault
    assert api.post("/storage/auth/token").status_code == 200


def test_rate_limit_429(make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]) -> None:
    srv = make_server(faults=Faults(rate_limit_429=1.0))
    api = client_for(srv)
    r = api.post(f"/{MINI}", json={"prompt": "x"})
    assert r.status_code == 429 and r.headers["x-fal-request-id"] and r.json()["detail"]
    srv.faults.rate_limit_429 = 0.0
    assert api.post(f"/{MINI}", json={"prompt": "x"}).status_code == 200


def test_seeded_fault_dice_repeat(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client]
) -> None:
    def pattern() -> list[int]:
        srv = make_server(faults=Faults(ingress_503=0.5, seed=7))
        api = client_for(srv)
        return [api.get(f"/{MINI}/requests/x/status").status_code for _ in range(12)]

    first = pattern()
    assert first == pattern()
    assert {503, 404} == set(first)


def test_slow_start_keeps_jobs_queued(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    faults = Faults(slow_start=0.5, hold={"start"})  # then held, still queued, until the status is read
    srv = make_server(faults=faults)
    api = client_for(srv)
    sub = api.post(f"/{MINI}", json={"prompt": "x", "quality": "low"}).json()
    first = api.get(sub["status_url"])
    assert first.status_code == 202 and first.json()["status"] == "IN_QUEUE"
    assert first.json()["queue_position"] == 0
    faults.release("start")
    wait_until(lambda: api.get(sub["status_url"]).json()["status"] == "COMPLETED")
    job = srv.app.state.backend.queue.get(sub["request_id"])
    assert job.started_at - job.submitted_at >= 0.5  # it waited out the slow start before it began


def test_faults_validate_rates() -> None:
    with pytest.raises(ValueError, match="ingress_503"):
        Faults(ingress_503=2)
    with pytest.raises(ValueError, match="slow_start"):
        Faults(slow_start=-1)


def test_held_jobs_wait_at_each_point_until_released(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    faults = Faults(hold={"start", "output"})
    srv = make_server(faults=faults)
    api = client_for(srv)
    sub = api.post(f"/{MINI}", json={"prompt": "x", "quality": "low"}).json()
    assert faults.wait_held("start") and faults.held("output") == 0
    assert api.get(sub["status_url"]).json()["status"] == "IN_QUEUE"  # taken by a worker, held before it starts
    faults.release("start")
    assert faults.wait_held("output") and faults.held("start") == 0
    assert api.get(sub["status_url"]).json()["status"] == "IN_PROGRESS"  # drawn, held before its output
    faults.release("output", count=2)  # this job's, and one kept for the next job to get there
    wait_until(lambda: api.get(sub["status_url"]).json()["status"] == "COMPLETED")
    faults.release("start")
    second = api.post(f"/{MINI}", json={"prompt": "y", "quality": "low"}).json()
    wait_until(lambda: api.get(second["status_url"]).json()["status"] == "COMPLETED")  # its pass was waiting
    assert faults.held("start") == faults.held("output") == 0


def test_a_held_job_can_be_cancelled_and_leaves_its_hold(
    make_server: Callable[..., LocalServer], client_for: Callable[..., httpx.Client], wait_until: Callable[..., Any]
) -> None:
    faults = Faults(hold={"output"})
    srv = make_server(faults=faults)
    api = client_for(srv)
    sub = api.post(f"/{MINI}", json={"prompt": "x", "quality": "low"}).json()
    assert faults.wait_held("output")
    assert api.put(sub["cancel_url"]).status_code == 202
    wait_until(lambda: api.get(sub["status_url"]).json()["status"] == "COMPLETED")
    assert faults.held("output") == 0 and api.get(sub["response_url"]).status_code != 200  # cancelled, no output


def test_holds_name_known_points() -> None:
    with pytest.raises(ValueError, match="'partial', 'output'"):
        Faults(hold={"end"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown point 'later'"):
        Faults().release("later")  # type: ignore[arg-type]
    assert not Faults(hold={"start"}).wait_held("start", timeout=0)  # no server, nobody waiting
