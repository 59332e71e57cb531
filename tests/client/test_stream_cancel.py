"""Cancel works at every moment of a streamed run (GPT Image 2 streams by default): while it is being sent,
while it waits in the server's queue and while it runs, cancel() closes the connection, the offline server drops
the job, the run ends "cancelled" at once, its record says so and nothing is counted as spent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from falstudio.client import Client, State, recorder
from falstudio.history import HistoryStore
from falstudio.local import Faults, LocalServer
from falstudio.testing import wait_for

GPT2 = "openai/gpt-image-2"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """One worker; a run that reaches its output waits there (never released): a run waits behind another for as
    long as the test needs, and runs until it is cancelled, however loaded the machine."""
    with LocalServer(port=0, latency=0, concurrency=1, faults=Faults(hold={"output"})) as srv:
        yield srv


def jobs_tagged(server: LocalServer, tag: str) -> list[Any]:
    return [j for j in server.app.state.backend.queue.jobs() if tag in str(getattr(j.request, "prompt", ""))]


def request(tag: str) -> dict[str, str]:
    return {"prompt": f"a lighthouse {tag}", "quality": "high", "image_size": "1024x1024"}


def test_cancelling_streamed_runs_waiting_in_the_queue_drops_them(server: LocalServer, tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    other = Client(base_url=server.url, key=server.key, history=False)
    with other, Client(base_url=server.url, key=server.key, history=store, budget="5") as client:
        blocker = other.submit(GPT2, request("blocker"))  # takes the only worker
        runs = [client.track(GPT2, request(f"waiting-{i}"), stream=True) for i in range(4)]
        wait_for(lambda: len(jobs_tagged(server, "waiting-")) == 4)
        wait_for(lambda: all(run.state.phase == "queued" for run in runs))  # the server's answer arrived
        seen: list[list[str]] = [[] for _ in runs]
        for phases, run in zip(seen, runs, strict=True):  # from here: Waiting, never "Submitting…" again
            run.on_change(lambda s, phases=phases: phases.append(s.phase))
        assert [run.cancel().result(5) for run in runs] == [True] * 4
        states: list[State] = [run.wait(5) for run in runs]  # the blocker never ends: none waited for a run
        assert [s.phase for s in states] == ["cancelled"] * 4
        assert all("submitting" not in phases for phases in seen)
        jobs = wait_for(lambda: (js := jobs_tagged(server, "waiting-")) and all(j.finished for j in js) and js)
        assert all(j.cancelled and j.output is None for j in jobs)  # dropped from the queue, never run
        blocker.cancel()
        recorder.flush()
        assert client.spent == 0 and client.budget is not None and client.budget.used() == 0
    records = [r for r in store if "waiting-" in r.prompt]  # no request id: the server had not answered yet
    assert len(records) == 4 and {r.state for r in records} == {"cancelled"}


def test_cancelling_a_running_streamed_run_stops_it(server: LocalServer, tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    with Client(base_url=server.url, key=server.key, history=store) as client:
        run = client.track(GPT2, request("running"), stream=True)
        wait_for(lambda: run.state.phase == "running")
        assert run.cancel().result(5) is True
        state = run.wait(2)
        assert state.phase == "cancelled"
        [job] = jobs_tagged(server, "running")
        wait_for(lambda: job.finished)
        assert job.cancelled and job.output is None
        assert run.cancel().result(5) is False  # ended: nothing to cancel
        recorder.flush()
        assert client.spent == 0
    record = store.find(GPT2, state.request_id or "")
    assert record is not None and record.state == "cancelled"


def test_cancelling_while_the_request_is_being_sent_closes_it(server: LocalServer, tmp_path: Path) -> None:
    with Client(base_url=server.url, key=server.key, history=HistoryStore(tmp_path)) as client:
        run = client.track(GPT2, request("sending"), stream=True)
        assert run.cancel().result(5) is True  # at once: it may not even have reached the server
        assert run.wait(2).phase == "cancelled"
        time.sleep(1.0)  # time to reach the server, had it been sent (an arrival cannot be observed otherwise)
        jobs = jobs_tagged(server, "sending")
        wait_for(lambda: all(j.finished for j in jobs))  # then dropped as the server notices the closed connection
        assert all(j.cancelled and j.output is None for j in jobs)
        assert client.spent == 0


def test_a_finished_streamed_run_cannot_be_cancelled() -> None:
    with LocalServer(port=0, latency=0) as fast, Client(base_url=fast.url, key=fast.key, history=False) as client:
        run = client.track(GPT2, {"prompt": "a fox", "quality": "low"}, stream=True)
        assert run.wait(30).phase == "done"
        assert run.cancel().result(5) is False
