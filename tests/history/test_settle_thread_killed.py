"""A process killed after writing a request id's record but before its settle thread synced it and removed the early
record leaves both files: every reader (history with or without ``since``, spend, the budget's journal seed) sees
the request once, by its request id, so it stays resumable and is never counted twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

import falstudio as fs
from falstudio.history import HistoryStore, HistoryWarning

from ._helpers import ENDPOINT

_KILLED_BEFORE_SETTLING = """
import os, signal, threading, time
from falstudio.client.recorder import SETTLE, Sending, Submitted
from falstudio.history import HistoryStore
store = HistoryStore(FOLDER)
SETTLE.submit(threading.Event().wait)  # the settle thread never reaches this request
now = time.time()
common = dict(endpoint=ENDPOINT, request={"prompt": "a fox"}, base_url="http://127.0.0.1:9", mode="fal",
              cost_estimate="$0.04", cost_amount="0.04")
store.sending(Sending(intent_id="i1", sent_at=now, writer="host:1", **common))
store.submitted(Submitted(request_id="req-1", submitted_at=now, intent_id="i1", **common))
os.kill(os.getpid(), signal.SIGKILL)
"""


def _killed_before_settling(folder: Path) -> None:
    code = f"FOLDER = {str(folder)!r}\nENDPOINT = {ENDPOINT!r}\n" + textwrap.dedent(_KILLED_BEFORE_SETTLING)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def test_both_files_left_by_the_kill_read_as_one_request_everywhere(tmp_path: Path) -> None:
    _killed_before_settling(tmp_path)
    assert len(list((tmp_path / "records").glob("*.json"))) == 2  # the early record and its request id's twin

    for records in (fs.history(path=tmp_path), fs.history(path=tmp_path, since="today")):
        assert [(r.request_id, r.state) for r in records] == [("req-1", "queued")]
        assert records.spent().in_flight("fal") == Decimal("0.04")  # not 0.08
    assert [key for key, *_ in HistoryStore(tmp_path).spend_entries()] == ["req-1"]  # the journal's seed


def test_resume_finishes_what_the_settle_thread_left(tmp_path: Path) -> None:
    _killed_before_settling(tmp_path)
    with pytest.warns(HistoryWarning):  # its local server is gone: lost, saying so
        [resumed] = fs.history(path=tmp_path).resume()
    assert resumed.request_id == "req-1"
    [left] = (tmp_path / "records").glob("*.json")  # the early record is gone, the request id's stays
    assert "req-1" in left.name
