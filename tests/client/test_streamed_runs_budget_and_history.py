"""Streamed runs are sent like every other request: checked against the budget before anything leaves, counted
as spent once done (released when cancelled), recorded in the history before they are sent and then with their
request id, and encoded so that secrets never sit in a frame's locals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from falstudio.client import Client, errors, recorder
from falstudio.history import HistoryStore
from falstudio.local import LocalServer
from falstudio.testing import wait_for

GPT2 = "openai/gpt-image-2"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0.3, concurrency=2) as srv:
        yield srv


def arrived(server: LocalServer, tag: str) -> int:
    return sum(tag in str(getattr(job.request, "prompt", "")) for job in server.app.state.backend.queue.jobs())


def low(tag: str) -> dict[str, str]:
    return {"prompt": f"a red fox {tag}", "quality": "low", "image_size": "1024x1024"}


class Recorder:
    """Keeps every event, and what the server had received when the request was recorded as being sent."""

    def __init__(self, server: LocalServer, tag: str) -> None:
        self.server, self.tag = server, tag
        self.events: list[tuple[str, Any]] = []
        self.arrived_when_sending: list[int] = []

    def sending(self, event: Any) -> None:
        self.arrived_when_sending.append(arrived(self.server, self.tag))
        self.events.append(("sending", event))

    def submitted(self, event: Any) -> None:
        self.events.append(("submitted", event))

    def unanswered(self, event: Any) -> None:
        self.events.append(("unanswered", event))

    def finished(self, event: Any) -> None:
        self.events.append(("finished", event))


def test_a_streamed_run_over_the_budget_is_refused_with_nothing_sent(server: LocalServer) -> None:
    with Client(base_url=server.url, key=server.key, history=False, budget="0.05") as client:
        tracked = client.track(GPT2, {"prompt": "a fox over-stream", "quality": "high"})
        state = tracked.wait(30)
        assert state.phase == "failed" and isinstance(state.error, errors.BudgetExceededError)
        assert "nothing was sent" in state.error.message
        with pytest.raises(errors.BudgetExceededError):
            list(client.stream(GPT2, {"prompt": "a fox over-plain", "quality": "high"}))
        assert arrived(server, "over-") == 0
        assert client.spent == 0


def test_a_streamed_run_is_spent_once_done_and_released_when_cancelled(server: LocalServer) -> None:
    with Client(base_url=server.url, key=server.key, history=False, budget="1.00") as client:
        budget = client.budget
        assert budget is not None
        done = client.track(GPT2, low("spent-done"))
        state = done.wait(60)
        assert state.phase == "done" and state.streaming
        assert state.result is not None and state.result.cost is not None
        estimate = state.result.cost.amount
        assert estimate > 0 and client.spent == estimate and budget.used() == estimate

        going = client.track(GPT2, {**low("spent-cancel"), "quality": "high"})
        assert going.state.streaming
        wait_for(lambda: going.state.phase == "running")
        assert budget.used() > estimate  # in flight: reserved
        assert going.cancel().result(10)
        assert going.wait(10).phase == "cancelled"
        assert client.spent == estimate and budget.used() == estimate  # released: fal bills only outputs

        events = list(client.stream(GPT2, low("spent-plain")))  # read to its end: spent
        assert events and client.spent == estimate * 2


def test_a_streamed_run_is_recorded_before_it_is_sent_then_with_its_request_id(server: LocalServer) -> None:
    recorder = Recorder(server, "recorded-stream")
    with Client(base_url=server.url, key=server.key, history=recorder) as client:  # type: ignore[arg-type]
        state = client.track(GPT2, low("recorded-stream")).wait(60)
    assert state.phase == "done" and state.streaming
    kinds = [kind for kind, _ in recorder.events]
    assert kinds == ["sending", "submitted", "finished"]
    assert recorder.arrived_when_sending == [0]  # durable before the request left
    sending, submitted, finished = (event for _, event in recorder.events)
    assert sending.via == "stream" and submitted.via == "stream"
    assert submitted.intent_id == sending.intent_id and submitted.request_id == state.request_id
    assert finished.state == "done" and Decimal(finished.cost_amount) == state.result.cost.amount


def test_a_plain_stream_is_not_recorded(server: LocalServer) -> None:
    recorder = Recorder(server, "plain-unrecorded")
    with Client(base_url=server.url, key=server.key, history=recorder) as client:  # type: ignore[arg-type]
        assert list(client.stream(GPT2, low("plain-unrecorded")))
    assert recorder.events == []


def test_a_streamed_run_cancelled_before_it_was_sent_is_not_counted_once_it_says_cancelled(
    server: LocalServer, tmp_path: Path
) -> None:
    """With a history folder the reservation is made on a worker thread (under the folder's lock); a cancel
    that came first used to publish 'cancelled' while the reservation was still counted, released a moment later."""
    with Client(
        base_url=server.url, key=server.key, history=HistoryStore(tmp_path), budget="1", budget_since="today"
    ) as client:
        budget = client.budget
        assert budget is not None
        counted = []
        for i in range(12):
            going = client.track(GPT2, {**low(f"cancel-first-{i}"), "quality": "high"})
            assert going.cancel().result(10)
            assert going.wait(10).phase == "cancelled"
            counted.append(budget.used())
        assert counted == [0] * 12 and client.spent == 0
    recorder.flush()
    states = {json.loads(p.read_text())["state"] for p in HistoryStore(tmp_path).record_files()}
    assert states <= {"cancelled"}
