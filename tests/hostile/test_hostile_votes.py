"""A hostile votes file (``votes.jsonl``) never hangs, exhausts memory or loses the good votes: each case runs
in a child under memory and time limits and gets one warning naming the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ._bounded import not_a_file, run_bounded

_GOOD = {"arena": "a1", "judge": "ana", "prompt": "a fox", "left": "quality=low", "right": "quality=high"}
_READ = """
import warnings
from falstudio.history import Vote, VoteBook
book = VoteBook(FOLDER)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    votes = book.votes()
    try:
        book.add(Vote(arena="a1", judge="bo", prompt="a cat", left="x", right="y", outcome="tie"))
        added = "added"
    except ValueError as exc:
        added = str(exc)
report(judges=[v.judge for v in votes], added=added,
       warnings=[str(w.message) for w in caught if w.category.__name__ == "HistoryWarning"])
"""


def _line(**fields: str) -> bytes:
    return json.dumps({**_GOOD, "outcome": "left", **fields}).encode() + b"\n"


def _one_warning(result: dict[str, object]) -> str:
    warned = result["warnings"]
    assert isinstance(warned, list) and len(warned) == 1, warned
    return str(warned[0])


def _read(folder: Path) -> dict[str, object]:
    return run_bounded(f"FOLDER = {str(folder)!r}\n" + _READ, memory=1024**3)


def test_a_two_gigabyte_line_is_skipped_in_bounded_memory(sparse_folder: Path) -> None:
    with open(sparse_folder / "votes.jsonl", "wb") as f:
        f.write(_line(judge="first"))
        f.truncate(2 * 1024**3)  # sparse: one line of 2 GB
        f.seek(0, os.SEEK_END)
        f.write(b"\n" + _line(judge="last"))
    result = _read(sparse_folder)
    assert result["judges"] == ["first", "last"] and result["added"] == "added"
    said = _one_warning(result)
    assert "line 2 is not a vote" in said and "votes.jsonl" in said


def test_many_bad_lines_and_deep_nesting_make_one_warning(tmp_path: Path) -> None:
    """60,000 ``[`` used to raise RecursionError out of votes(); 100,000 bad lines made 100,000 warnings."""
    bad = b"[" * 60_000 + b"\n" + b"not a vote\n" * 100_000
    (tmp_path / "votes.jsonl").write_bytes(_line(judge="first") + bad + _line(judge="last"))
    result = _read(tmp_path)
    assert result["judges"] == ["first", "last"]
    said = _one_warning(result)
    assert "line 2 is not a vote" in said and "and 99996 more such lines" in said


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_votes_file_that_is_not_a_file_is_refused_not_waited_on(tmp_path: Path, kind: str) -> None:
    not_a_file(tmp_path / "votes.jsonl", kind)
    result = _read(tmp_path)
    assert result["judges"] == [] and "is not a regular file: move it away" in str(result["added"])
    said = _one_warning(result)
    assert "is not a regular file" in said


def test_a_vote_on_a_long_prompt_is_read_back(tmp_path: Path) -> None:
    """fal takes prompts of 32,000 characters: in UTF-8 such a vote used to be stored, then skipped as overlong."""
    from falstudio.history import Vote, VoteBook

    book = VoteBook(tmp_path)
    stored = book.add(Vote(arena="a1", judge="ana", prompt="狐" * 32_000, left="x", right="y", outcome="left"))
    assert book.votes() == [stored]
