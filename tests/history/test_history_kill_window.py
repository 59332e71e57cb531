"""A process killed between the server accepting a (paid) request and the history recording its reply leaves an
honest record: written before the request was sent, it says the request may have been submitted at …; resume
follows it by the request id the spend journal bound, or (none bound) says it cannot be resumed without one.
Real processes, killed with SIGKILL inside that window."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import falstudio as fs
from falstudio.local import LocalServer

SCRIPT = Path(__file__).with_name("_submitting_process.py")
PROMPT = "a lighthouse in the kill window"


@pytest.fixture
def slow_server() -> Iterator[LocalServer]:
    """One worker and no added latency: a killed client's job runs on, and a resume waits only for its work."""
    with LocalServer(port=0, latency=0, concurrency=1) as srv:
        yield srv


def _spawn(server: LocalServer, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "FALSTUDIO_TEST_URL": server.url, "FALSTUDIO_TEST_KEY": server.key}
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), mode], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "READY"
    return proc


def _server_jobs(server: LocalServer) -> set[str]:
    return {job.id for job in server.app.state.backend.queue.jobs()}


def test_a_kill_after_the_server_accepted_leaves_an_honest_record(slow_server: LocalServer) -> None:
    proc = _spawn(slow_server, "stall")
    try:
        assert proc.stdout is not None
        accepted = proc.stdout.readline().split()
        assert accepted[0] == "ACCEPTED", accepted
    finally:
        proc.kill()
        proc.wait(30)
    assert accepted[1] in _server_jobs(slow_server)  # a real job, maybe billed, that nobody recorded by id
    [record] = fs.history()
    assert record.in_flight and record.unconfirmed and record.request_id is None
    assert record.prompt == PROMPT and record.base_url == slow_server.url and record.cost_estimate
    assert "no request id" in repr(record) and "no request id yet" in fs.history()._repr_html_()

    # the server named it before the kill, and the spend journal bound that name: resume follows it to its result
    [settled] = fs.history().resume()
    assert settled.request_id == accepted[1] and settled.state == "done" and settled.image_paths()
    [on_disk] = fs.history()
    assert on_disk.state == "done" and not fs.history().resume()  # settled once


def test_kills_aimed_at_the_window_never_leave_a_job_unrecorded(slow_server: LocalServer) -> None:
    """Kill each client the moment the server has its job: wherever the kill lands, the history knows."""
    outcomes = []
    for _ in range(6):
        before = _server_jobs(slow_server)
        proc = _spawn(slow_server, "submit")
        deadline = time.monotonic() + 30
        while len(slow_server.app.state.backend.queue.jobs()) == len(before):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.0002)
        proc.kill()
        proc.wait(30)
        [job] = _server_jobs(slow_server) - before
        records = [r for r in fs.history() if r.request_id == job or (r.unconfirmed and r.prompt == PROMPT)]
        assert records, f"job {job} was accepted by the server but is nowhere in the history"
        outcomes.append("recorded" if records[0].request_id == job else "unconfirmed")
        if records[0].unconfirmed:
            # the killed writer is gone: followed by the id the spend journal bound, else settled honestly
            [settled] = fs.history().resume()
            assert settled.request_id == job or (
                settled.state == "lost" and "may have been submitted at" in str(settled.error)
            )
        for path in fs.history().store.record_files():  # the next trial finds only its own
            path.unlink()
    print("outcomes of the aimed kills:", outcomes)


def test_a_refused_submit_leaves_no_record(slow_server: LocalServer) -> None:
    with fs.Client(base_url=slow_server.url, key="wrong-key") as client, pytest.raises(fs.errors.AuthError):
        client.submit("fal-ai/gpt-image-1-mini", {"prompt": PROMPT})
    assert len(fs.history()) == 0  # refused (401): it certainly never ran


def test_a_submit_whose_reply_was_lost_is_recorded_as_maybe_submitted(slow_server: LocalServer) -> None:
    from falstudio.client import RetryPolicy
    from falstudio.local import Faults

    slow_server.faults = Faults(ingress_503=1.0)
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
    with (
        fs.Client(base_url=slow_server.url, key=slow_server.key, retry=retry) as client,
        pytest.raises(fs.errors.ServerError),
    ):
        client.submit("fal-ai/gpt-image-1-mini", {"prompt": PROMPT})
    [record] = fs.history()
    assert record.state == "lost" and record.unconfirmed and record.error_type == "unconfirmed"
    assert record.error is not None and "may have been submitted at " in record.error and "503" in record.error
    assert fs.history().resume() == []  # nothing left in flight
