"""A kernel killed after the server named its request but before the history recorded the id (the spend journal
binds it first) used to leave a record resume could only call lost ("no request id"), though fal ran and billed
the request: resume now finds the id in the folder's spend journal and fetches the result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

from falstudio.client import Client
from falstudio.history import HistoryStore, history
from falstudio.local import LocalServer

_KILLED = """
import os, signal
from falstudio.client import Client
from falstudio.history import HistoryStore
HistoryStore.submitted = lambda self, event: os.kill(os.getpid(), signal.SIGKILL)  # dies before writing the id
with Client(base_url=URL, key=KEY, history=HistoryStore(FOLDER), budget="0.015", budget_since="today") as client:
    client.submit("fal-ai/gpt-image-1-mini", {"prompt": "a fox", "quality": "low", "image_size": "1024x1024"})
"""


def test_resume_follows_the_request_id_the_journal_bound(tmp_path: Path) -> None:
    with LocalServer(port=0, latency=0) as server:
        code = f"URL, KEY, FOLDER = {server.url!r}, {server.key!r}, {str(tmp_path)!r}\n" + textwrap.dedent(_KILLED)
        env = {**os.environ, "FALSTUDIO_HISTORY": "1"}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
        [before] = history(path=tmp_path)
        assert before.request_id is None and before.state == "submitting"

        with Client(base_url=server.url, key=server.key, history=False) as client:
            [record] = history(path=tmp_path).resume(client=client)
        assert record.request_id and record.state == "done" and len(record.image_paths()) == 1
        assert [(r.request_id, r.state) for r in history(path=tmp_path)] == [(record.request_id, "done")]
        with Client(
            base_url=server.url, key=server.key, history=HistoryStore(tmp_path), budget="0.015", budget_since="today"
        ) as client:
            assert client.budget is not None and client.budget.used() == Decimal("0.01")  # spent, counted once
