"""A spend journal emptied in place (``: > spend.jsonl``, same file) while a kernel reads it: the lines other kernels
append afterwards start at its beginning again, and still count against the shared budget."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

from falstudio.client._journal import JOURNAL_NAME, Journal


def _line(key: str, amount: str) -> str:
    return json.dumps({"k": key, "s": "reserved", "m": "local", "a": amount, "t": time.time()}) + "\n"


def test_lines_appended_after_the_journal_was_emptied_in_place_count(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_NAME
    path.write_text(_line("intent:old-1", "0.04") + _line("intent:old-2", "0.04"))
    journal = Journal(tmp_path, list)
    assert sum(journal.counted(None, "local").values()) == Decimal("0.08")
    with open(path, "r+b") as file:  # emptied, not replaced: the same inode
        file.truncate(0)
    with open(path, "a") as file:  # another kernel reserves: a line shorter than what was read before
        file.write(_line("intent:new", "0.02"))
    assert journal.counted(None, "local") == {"intent:new": Decimal("0.02")}


def test_a_line_appended_after_a_last_line_without_its_newline_still_counts(tmp_path: Path) -> None:
    """A journal saved by an editor without the final newline: the next reservation used to be glued to that
    line, and both were read as one unreadable line (the new reservation not counted anywhere)."""
    (tmp_path / JOURNAL_NAME).write_text(_line("intent:edited", "0.04").rstrip("\n"))
    journal = Journal(tmp_path, list)
    journal.reserve("intent:new", "local", Decimal("0.02"), time.time())
    assert journal.counted(None, "local") == {"intent:edited": Decimal("0.04"), "intent:new": Decimal("0.02")}
