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
    # amounts that are not decimals make the whole record unreadable (skipped by the store); the others are read
    # and their amount ignored for spend: either way each file is named in exactly one warning
    assert len(named) == 5 and all("ignored for spend" in m or "not a readable run record" in m for m in named)
    assert sorted(m.split("-bad")[1][0] for m in named) == ["0", "1", "2", "3", "4"]


@pytest.fixture
def reply_lost() -> Iterator[str]:
    """A server that reads each request whole, then hangs up without a reply (it may have queued the job)."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    body += conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(5)
    listener.close()


def test_a_request_whose_reply_was_lost_keeps_its_reservation(reply_lost: str, tmp_path: Path) -> None:
    """It may have run and been billed: a one-request budget must not let a second one through, in this kernel
    or in another sharing the folder."""
    store = HistoryStore(tmp_path)
    request = {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"}
    with Client(base_url=reply_lost, key="id:secret", history=store, budget="0.015", budget_since="today") as client:
        with pytest.raises(errors.NetworkError):
            client.submit(T2I, request)
        assert client.budget is not None and client.budget.used() == Decimal("0.01")
        with pytest.raises(errors.BudgetExceededError):
            client.submit(T2I, request)
    other = Client(base_url=reply_lost, key="id:secret", history=store, budget="0.015", budget_since="today")
    with other, pytest.raises(errors.BudgetExceededError):
        other.submit(T2I, request)


def test_a_history_folder_that_cannot_be_written_warns_and_the_request_still_goes(
    server: LocalServer, tmp_path: Path
) -> None:
    where = tmp_path / "a-file"
    where.write_text("not a folder")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = Client(
            base_url=server.url, key=server.key, history=HistoryStore(where), budget="1", budget_since="today"
        )
        with client:
            client.subscribe(T2I, {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"})
            assert client.spent == Decimal("0.01")
    said = [str(w.message) for w in caught if "spend journal" in str(w.message)]
    assert len(said) == 1 and "budgets count only this kernel's requests" in said[0]


def test_a_client_without_a_budget_is_not_held_by_the_folders_lock_and_still_counts(
    server: LocalServer, tmp_path: Path
) -> None:
    """With no budget there is nothing to check: its reservation is appended at once, whoever holds the lock
    (it used to wait for the lock, on a thread, for every request), and a budget sharing the folder counts it."""
    import concurrent.futures

    import filelock

    store = HistoryStore(tmp_path)
    request = {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"}
    with Client(base_url=server.url, key=server.key, history=store) as client:
        client.subscribe(T2I, request)  # the folder's journal is made (under the lock) by the first request
        with filelock.FileLock(str(tmp_path / "spend.lock")), concurrent.futures.ThreadPoolExecutor(1) as pool:
            held = pool.submit(client.submit, T2I, request)  # another kernel holds the lock meanwhile
            handle = held.result(timeout=10)
            lines = [json.loads(line) for line in (tmp_path / "spend.jsonl").read_text().splitlines()]
            assert [line["s"] for line in lines].count("reserved") == 2
        guarded = Client(base_url=server.url, key=server.key, history=store, budget="0.015", budget_since="today")
        with guarded, pytest.raises(errors.BudgetExceededError, match="budget"):  # $0.01 + $0.01 + $0.01 > $0.015
            guarded.submit(T2I, request)
        handle.get()
