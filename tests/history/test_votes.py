"""Votes kept with the history: appended as JSON lines, read back in order (other processes' too), exported as
CSV; a damaged line is skipped with a warning and bad votes are refused with the field named."""

from __future__ import annotations

import csv
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from falstudio.history import HistoryWarning, Vote, VoteBook


def vote(outcome: str = "left", judge: str = "ana", **kw: str) -> Vote:
    fields = {"arena": "a1", "judge": judge, "prompt": "a fox", "left": "quality=low", "right": "quality=high"}
    return Vote(**{**fields, **kw, "outcome": outcome})


def test_votes_are_appended_and_read_back_with_their_time(tmp_path: Path) -> None:
    book = VoteBook(tmp_path)
    stored = [book.add(vote("left")), book.add(vote("tie", judge="bo")), book.add(vote("right", arena="other"))]
    assert all(v.time.endswith("+00:00") for v in stored)
    assert book.votes() == stored and book.votes("a1") == stored[:2]
    assert (tmp_path / "votes.jsonl").read_text().count("\n") == 3


def test_votes_written_by_other_processes_survive_and_count(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        from falstudio.history import Vote, VoteBook
        book = VoteBook({str(tmp_path)!r})
        for k in range(20):
            book.add(Vote("a1", "judge-" + str(k % 3), "a fox", "quality=low", "quality=high", "left"))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", script]) for _ in range(3)]
    assert all(p.wait(60) == 0 for p in procs)
    votes = VoteBook(tmp_path).votes("a1")
    assert len(votes) == 60 and {v.judge for v in votes} == {"judge-0", "judge-1", "judge-2"}


def test_csv_export_has_one_row_a_vote(tmp_path: Path) -> None:
    book = VoteBook(tmp_path)
    book.add(vote("both_bad", prompt='a "quoted", prompt'))
    book.add(vote("right"))
    path = book.to_csv(tmp_path / "votes", "a1")
    assert path.name == "votes.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["outcome"] for r in rows] == ["both_bad", "right"]
    assert rows[0]["prompt"] == 'a "quoted", prompt' and rows[0]["judge"] == "ana"


def test_a_damaged_line_is_skipped_with_a_warning_naming_it(tmp_path: Path) -> None:
    book = VoteBook(tmp_path)
    book.add(vote())
    with (tmp_path / "votes.jsonl").open("a") as f:
        f.write('{"arena": "a1", "judge": "x", "outco\n' + "x" * 70_000 + "\n")
    book.add(vote("right"))
    with pytest.warns(HistoryWarning, match="line 2 is not a vote"):
        votes = book.votes()
    assert [v.outcome for v in votes] == ["left", "right"]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"outcome": "maybe"}, "outcome must be one of left, right, tie, both_bad"),
        ({"judge": " "}, "judge: give the judge's name"),
        ({"right": "quality=low"}, "left and right are the same"),
    ],
)
def test_a_bad_vote_is_refused_naming_the_field(kw: dict[str, str], message: str) -> None:
    fields = {"arena": "a1", "judge": "ana", "prompt": "p", "left": "quality=low", "right": "quality=high"}
    with pytest.raises(ValueError, match=message):
        Vote(**{**fields, "outcome": "left", **kw})
