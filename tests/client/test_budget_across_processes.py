"""A budget shared through one history folder holds across processes (kernels), and damaged amounts in the
folder never turn it off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from falstudio.client import Client, errors
from falstudio.history import HistoryStore
from falstudio.local import LocalServer

HERE = Path(__file__).parent
T2I = "fal-ai/gpt-image-1-mini"  # low 1024x1024: $0.01
PROCESSES, ROUNDS = 8, 20


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0, concurrency=4) as srv:
        yield srv


def test_eight_processes_racing_for_one_request_of_room_let_exactly_one_through(
    server: LocalServer, tmp_path: Path
) -> None:
    env = {**os.environ, "FALSTUDIO_TEST_URL": server.url, "FALSTUDIO_TEST_KEY": server.key}
    script = str(HERE / "_budget_racer.py")
    workers = [
        subprocess.Popen([sys.executable, script, str(tmp_path), str(ROUNDS), str(i)], env=env)
        for i in range(PROCESSES)
    ]
    try:
        for r in range(ROUNDS):
            deadline = time.monotonic() + 120
            while len(list(tmp_path.glob(f"ready-{r}-*"))) < PROCESSES:
                assert time.monotonic() < deadline, f"round {r}: workers not ready"
                assert all(w.poll() is None for w in workers), "a worker died"
                time.sleep(0.01)
            (tmp_path / f"go-{r}").touch()  # all at once
        for worker in workers:
            assert worker.wait(300) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for r in range(ROUNDS):
        sent = len(list(tmp_path.glob(f"{r}-*.sent")))
        refused = len(list(tmp_path.glob(f"{r}-*.refused")))
        assert (sent, refused) == (1, PROCESSES - 1), f"round {r}: {sent} sent, {refused} refused"


def test_a_damaged_amount_in_the_folder_is_ignored_with_one_warning(server: LocalServer, tmp_path: Path) -> None:
    """One record saying -100 (or a huge, non-finite, unreadable amount) used to turn the guard off."""
    store = HistoryStore(tmp_path)
    with Client(base_url=server.url, key=server.key, history=store) as client:
        client.subscribe(T2I, {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"})
    from falstudio.client import recorder

    recorder.flush()
    [path] = store.record_files()
    (tmp_path / "spend.jsonl").unlink()  # a folder from before the spend journal: it is seeded from records
    good = json.loads(path.read_text())
    assert good["cost_amount"] == "0.01"
    for i, bad in enumerate(["-100", "1E+400000", "NaN", "twelve", "99999999"]):
        damaged = {**good, "request_id": f"bad-{i}", "cost_amount": bad}
        path.with_name(f"{path.name[:23]}-bad{i}.json").write_text(json.dumps(damaged))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Client(
            base_url=server.url, key=server.key, history=store, budget="0.025", budget_since="today"
        ) as guarded:
            assert guarded.budget is not None and guarded.budget.used() == Decimal("0.01")
            guarded.submit(T2I, {"prompt": "a second fox", "quality": "low", "image_size": "1024x1024"})
            with pytest.raises(errors.BudgetExceededError):
                guarded.submit(T2I, {"prompt": "a third fox", "quality": "low", "image_size": "1024x1024"})
    named = [str(w.message) for w in caught if "bad" in str(w.message) and "cost_amount" in str(w.message)]
    assert len(named) == 5 and all("ignored for spend" in m for m in named)
