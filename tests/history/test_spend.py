"""``history().spent(since=...)``: estimates and billed figures summed by endpoint, offline and fal apart, across
processes sharing one history folder; and what ``since`` accepts."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

import falstudio as fs
from falstudio._internal.since import since_timestamp
from falstudio.history import HistoryStore
from falstudio.local import LocalServer

from ._helpers import ENDPOINT, finished, submitted

HERE = Path(__file__).parent
MINI = "fal-ai/gpt-image-1-mini"


def test_spend_sums_estimates_by_endpoint_with_offline_and_fal_apart(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    now = time.time()
    events = [
        ("a", "local", "0.20", "done", "1"),  # the offline server reports units too: nothing is billed
        ("b", "local", "0.20", "failed", None),  # fal bills only successful outputs
        ("c", "fal", "0.20", "done", "3"),
        ("d", "fal", "0.20", "done", "1.5"),
        ("e", "fal", "0.20", None, None),  # still in flight
        ("f", "fal", "0.20", "cancelled", None),
    ]
    for request_id, mode, amount, state, billed in events:
        store.record_submitted(submitted(request_id, mode=mode, cost_amount=amount, at=now))
        if state:
            store.record_finished(finished(request_id, state=state, billed_units=billed))
    store.record_submitted(submitted("m", endpoint=MINI, mode="fal", cost_amount="0.01", at=now))
    store.record_finished(finished("m", endpoint=MINI))
    spend = fs.history(path=tmp_path).spent()
    assert (spend.fal, spend.offline, spend.in_flight("fal")) == (Decimal("0.41"), Decimal("0.20"), Decimal("0.20"))
    rows = {(r.mode, r.endpoint): r for r in spend.rows}
    fal = rows[("fal", ENDPOINT)]
    assert (fal.requests, fal.estimated, fal.in_flight, fal.billed_units, fal.billed_requests) == (
        2,
        Decimal("0.40"),
        1,
        Decimal("4.5"),
        2,
    )
    assert rows[("local", ENDPOINT)].billed_units == Decimal("1")  # as reported, never invented
    assert spend.billed_units() == {ENDPOINT: (Decimal("4.5"), None)}  # fal's only
    text = repr(spend)
    assert "$0.41 estimated on fal.ai" in text and "$0.20 offline" in text and "fal billed 4.5 units" in text
    assert "fal billed 1 " not in text and "1 units for 1 request(s) as billable (offline: nothing billed)" in text
    assert "<table>" in spend._repr_html_() and spend.records()[0]["server"] in ("offline", "fal.ai")


def test_since_filters_by_when_the_request_was_made(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    today = dt.date.today()
    midnight = dt.datetime.combine(today, dt.time()).timestamp()
    if time.time() - midnight < 2:  # run just after midnight: today needs a moment before and after the cut below
        time.sleep(2)
    elapsed = time.time() - midnight  # "new" and "newer" are today, either side of a cut half of it back from now
    new, newer = midnight + 0.2 * elapsed, midnight + 0.8 * elapsed
    for request_id, at in (("old", midnight - 3600), ("new", new), ("newer", newer)):
        store.record_submitted(submitted(request_id, at=at))
        store.record_finished(finished(request_id))
    history = fs.history(path=tmp_path)
    assert history.spent().offline == Decimal("0.60")
    assert history.spent(since="today").offline == Decimal("0.40")
    assert history.spent(since=today).offline == Decimal("0.40")
    assert history.spent(since=dt.timedelta(seconds=elapsed / 2)).offline == Decimal("0.20")
    assert history.spent(since=f"{elapsed / 120:.6f}m").offline == Decimal("0.20")
    assert history.spent(since=today.isoformat()).offline == Decimal("0.40")
    assert [r.request_id for r in fs.history(path=tmp_path, since="today")] == ["newer", "new"]
    assert len(fs.history(path=tmp_path, since="yesterday")) == 3
    with pytest.raises(ValueError, match="since must be one of 'today'"):
        history.spent(since="last week-ish")


def test_since_accepts_what_a_person_writes() -> None:
    day = dt.date(2026, 12, 2)
    midnight = dt.datetime(2026, 12, 2).timestamp()
    assert since_timestamp("today", today=lambda: day) == midnight
    assert since_timestamp("yesterday", today=lambda: day) == midnight - 86400
    assert since_timestamp("2h", now=lambda: 10_000.0) == 10_000.0 - 7200
    assert since_timestamp("1.5 days", now=lambda: 200_000.0) == 200_000.0 - 129_600
    assert since_timestamp(dt.datetime(2026, 12, 2, 9, 30)) == dt.datetime(2026, 12, 2, 9, 30).timestamp()
    assert since_timestamp("2026-12-02T09:30") == dt.datetime(2026, 12, 2, 9, 30).timestamp()
    assert since_timestamp(None) is None and since_timestamp("all") is None
    with pytest.raises(ValueError, match="budget_since must be"):
        since_timestamp(3.5, name="budget_since")
    with pytest.raises(ValueError, match=">= 0"):
        since_timestamp(dt.timedelta(hours=-1))


def test_spend_sums_across_two_processes_sharing_a_history_folder(server: LocalServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "FALSTUDIO_HISTORY_DIR": str(tmp_path),
        "FALSTUDIO_TEST_URL": server.url,
        "FALSTUDIO_TEST_KEY": server.key,
    }
    script = str(HERE / "_spend_process.py")
    procs = [subprocess.Popen([sys.executable, script, str(n), f"proc{n}"], env=env) for n in (2, 3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    history = fs.history(path=tmp_path)
    assert len(history) == 5 and len({r.request_id for r in history}) == 5
    spend = history.spent(since="today")
    assert spend.offline == Decimal("0.05") and spend.fal == 0  # five $0.01 requests from two processes
    row = spend.rows[0]
    assert (row.endpoint, row.mode, row.requests) == (MINI, "local", 5)
    assert fs.history(path=tmp_path, since="1h").spent().offline == Decimal("0.05")
