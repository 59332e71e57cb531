"""A record's states are the client's words; records written with the older ones ("completed", "submitted") read
in today's words, and everything built on them (filters, in flight, spend, export, resume) keeps working."""

from __future__ import annotations

import csv
import json
import time
from decimal import Decimal
from pathlib import Path

import falstudio as fs
from falstudio.client import FINAL_PHASES
from falstudio.history import HistoryStore
from falstudio.history._files import record_file_name
from falstudio.history._record import IN_FLIGHT, STATES

from ._helpers import ENDPOINT, png
from .test_history_resume_offline import BASE, DONE, ScriptedFal


def _old_record(store: HistoryStore, request_id: str | None, state: str, **extra: object) -> None:
    """A record file as falstudio wrote it before the words changed."""
    body = {
        "version": 1,
        "endpoint": ENDPOINT,
        "request_id": request_id,
        "state": state,
        "request": {"prompt": f"a fox {request_id}"},
        "base_url": BASE,
        "mode": "fal",
        "submitted_at": time.time(),
        "cost_amount": "0.20",
        **extra,
    }
    name = record_file_name(request_id or f"intent-{extra.get('intent_id')}", time.time())
    (store.records_dir / name).write_text(json.dumps(body), encoding="utf-8")


def test_the_history_speaks_the_clients_words() -> None:
    assert set(STATES) - {"lost"} == FINAL_PHASES | set(IN_FLIGHT)
    assert set(IN_FLIGHT) <= {"submitting", "queued"}  # phases of falstudio.client.State, not words of its own


def test_records_in_the_older_words_read_in_todays(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.records_dir.mkdir(parents=True, exist_ok=True)
    _old_record(store, "old-done", "completed")
    _old_record(store, "old-queued", "submitted")
    _old_record(store, None, "submitted", intent_id="i1", writer="elsewhere:1")
    history = fs.history(path=tmp_path)
    states = {r.request_id: r.state for r in history}
    assert states == {"old-done": "done", "old-queued": "queued", None: "submitting"}
    assert {r.request_id for r in history.in_flight} == {"old-queued", None}
    assert [r.request_id for r in fs.history(path=tmp_path, state="completed")] == ["old-done"]
    assert {r.request_id for r in fs.history(path=tmp_path, state="submitted")} == {"old-queued", None}
    assert [r.request_id for r in fs.history(path=tmp_path, state="done")] == ["old-done"]
    spend = history.spent()
    assert (spend.fal, spend.in_flight("fal")) == (Decimal("0.20"), Decimal("0.40"))
    manifest = history.filter(state="done").export(tmp_path / "out")
    with (manifest / "manifest.csv").open(encoding="utf-8") as f:
        assert [row["state"] for row in csv.DictReader(f)] == ["done"]


def test_an_old_in_flight_record_resumes_and_is_written_in_todays_words(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.records_dir.mkdir(parents=True, exist_ok=True)
    _old_record(store, "r9", "submitted", mode="local")
    fal = ScriptedFal([DONE], images=[png((3, 3, 3))])
    with fal.client() as client:
        [updated] = fs.history(path=tmp_path).resume(client=client)
    assert updated.state == "done" and updated.image_bytes() == [png((3, 3, 3))]
    [path] = store.records_dir.glob("*-r9.json")
    assert json.loads(path.read_text(encoding="utf-8"))["state"] == "done"
