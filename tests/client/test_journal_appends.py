"""Appends to a spend journal go through a descriptor kept open (a stat and a write per line, issue 29): still to
the file the path names, never glued to a line left without its end, and with few files held open."""

from __future__ import annotations

import json
import os
import time
from decimal import Decimal
from pathlib import Path

from falstudio.client import _journal
from falstudio.client._journal import JOURNAL_NAME, MAX_OPEN, Journal


def _keys(path: Path) -> list[str]:
    return [json.loads(line)["k"] for line in path.read_text().splitlines() if line.strip()]


def test_a_journal_replaced_between_two_appends_gets_the_second_one(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_NAME
    journal = Journal(tmp_path, list)
    journal.reserve("intent:one", "local", Decimal("0.01"), time.time())
    moved = tmp_path / "spend.old"
    os.replace(path, moved)  # another process (or a person) put a new journal in its place
    path.write_text("")
    journal.reserve("intent:two", "local", Decimal("0.01"), time.time())
    assert (_keys(moved), _keys(path)) == (["intent:one"], ["intent:two"])
    path.unlink()  # gone: made again by the next reservation
    journal.reserve("intent:three", "local", Decimal("0.01"), time.time())
    assert _keys(path) == ["intent:three"]


def test_a_line_left_without_its_end_after_this_process_wrote_is_not_glued_to(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_NAME
    journal = Journal(tmp_path, list)
    journal.reserve("intent:mine", "local", Decimal("0.01"), time.time())
    with open(path, "a") as file:  # an edit after this process's own line, saved without a final newline
        file.write(json.dumps({"k": "intent:edited", "s": "reserved", "m": "local", "a": "0.04", "t": time.time()}))
    journal.reserve("intent:next", "local", Decimal("0.02"), time.time())
    assert _keys(path) == ["intent:mine", "intent:edited", "intent:next"]
    assert sum(journal.counted(None, "local").values()) == Decimal("0.07")


def test_a_process_recording_into_many_folders_keeps_few_journals_open(tmp_path: Path) -> None:
    def open_files() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = open_files()
    for number in range(MAX_OPEN * 3):
        folder = tmp_path / f"history-{number}"
        folder.mkdir()
        Journal(folder, list).reserve(f"intent:{number}", "local", Decimal("0.01"), time.time())
        assert _keys(folder / JOURNAL_NAME) == [f"intent:{number}"]
    assert open_files() - before <= MAX_OPEN
    assert len(_journal._APPENDERS) <= MAX_OPEN
