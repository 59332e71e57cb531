"""A kernel killed (SIGKILL) while its request runs leaves the request's reservation in the history folder's spend
journal; ``resume()`` in another process settles that reservation: spent when fal completed the request, released
when it was cancelled or failed there, kept while it may still run. Real processes, one shared folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from falstudio.client import Client, errors
from falstudio.history import HistoryStore, HistoryWarning, history
from falstudio.local import Faults, LocalServer

SCRIPT = Path(__file__).with_name("_budget_killed_process.py")
T2I = "fal-ai/gpt-image-1-mini"  # low 1024x1024: $0.01
ONE = Decimal("0.01")


@pytest.fixture
def held() -> Iterator[tuple[LocalServer, Faults]]:
    faults = Faults(hold={"start"})  # each job waits, queued, until the test lets it go on
    with LocalServer(port=0, latency=0, faults=faults) as srv:
        yield srv, faults


def _run(server: LocalServer, verb: str, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "FALSTUDIO_TEST_URL": server.url, "FALSTUDIO_TEST_KEY": server.key}
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), verb, str(folder)],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _killed_after_submitting(server: LocalServer, folder: Path) -> str:
    """A kernel submits (its reservation and record have the request id), then is killed with SIGKILL."""
    proc = _run(server, "submit", folder)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line and line[0] == "SUBMITTED", line
    finally:
        proc.kill()  # SIGKILL: nothing of the client runs after this
        proc.wait(30)
    return line[1]


def _used_in_a_new_kernel(server: LocalServer, folder: Path) -> Decimal:
    proc = _run(server, "used", folder)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return Decimal(out.strip())


def _client(server: LocalServer, folder: Path) -> Client:
    return Client(
        base_url=server.url, key=server.key, budget="0.015", budget_since="today", history=HistoryStore(folder)
    )


def _still_counted(server: LocalServer, folder: Path, *, new_kernel: bool = False) -> None:
    """The dead kernel's request counts once (the journal and the history both know it), and blocks a second;
    ``new_kernel``: also as a kernel started now sees it."""
    if new_kernel:
        assert _used_in_a_new_kernel(server, folder) == ONE
    with _client(server, folder) as client:
        assert client.budget is not None and client.budget.used() == ONE
        with pytest.raises(errors.BudgetExceededError):
            client.submit(T2I, {"prompt": "a second one", "quality": "low", "image_size": "1024x1024"})


def test_a_request_of_a_killed_kernel_that_completed_is_spent_once_after_resume(
    held: tuple[LocalServer, Faults], tmp_path: Path
) -> None:
    server, faults = held
    request_id = _killed_after_submitting(server, tmp_path)
    assert faults.wait_held("start")
    _still_counted(server, tmp_path, new_kernel=True)  # running on the server: it may still be billed

    faults.release("start")  # fal runs it to its end (and bills it)
    with Client(base_url=server.url, key=server.key, history=False) as client:
        [record] = history(path=tmp_path).resume(client=client)
    assert record.request_id == request_id and record.state == "done"
    _still_counted(server, tmp_path, new_kernel=True)  # spent: counted once, not twice, not freed


@pytest.mark.parametrize("how", ["cancelled", "failed"])
def test_a_request_of_a_killed_kernel_that_did_not_complete_is_released_by_resume(
    held: tuple[LocalServer, Faults], tmp_path: Path, how: str
) -> None:
    server, faults = held
    request_id = _killed_after_submitting(server, tmp_path)
    assert faults.wait_held("start")
    _still_counted(server, tmp_path)

    with Client(base_url=server.url, key=server.key, history=False) as client:
        if how == "cancelled":
            assert client.cancel(T2I, request_id)
        else:
            faults.fail_prompt = "lighthouse"  # it fails on the server (fal bills no failed request)
        faults.release("start")
        [record] = history(path=tmp_path).resume(client=client)
    assert record.request_id == request_id and record.state == how
    assert _used_in_a_new_kernel(server, tmp_path) == 0  # nothing billed: its reservation is given back
    with _client(server, tmp_path) as client:
        assert client.budget is not None and client.budget.used() == 0
        client.submit(T2I, {"prompt": "now there is room", "quality": "low", "image_size": "1024x1024"})


def test_a_resume_that_cannot_tell_keeps_the_reservation(held: tuple[LocalServer, Faults], tmp_path: Path) -> None:
    server, faults = held
    _killed_after_submitting(server, tmp_path)
    assert faults.wait_held("start")
    with (
        Client(base_url=server.url, key=server.key, history=False) as client,
        pytest.warns(HistoryWarning, match="still running"),
    ):
        [record] = history(path=tmp_path).resume(client=client, timeout=0.5)
    assert record.in_flight
    _still_counted(server, tmp_path)  # still running: it may be billed
    faults.release("start")
