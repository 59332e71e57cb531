"""Votes of blind comparisons, kept with the history: ``<history dir>/votes.jsonl``, one JSON object a line.

The file is only ever appended to, one whole line per ``os.write`` on a file opened ``O_APPEND``, so several
kernels can vote at once and a crash loses at most the vote being written. A line that cannot be read (cut
short, edited by hand) is skipped with a :class:`HistoryWarning` naming its line number; the rest still count.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from ._paths import history_dir
from ._store import HistoryWarning

OUTCOMES = ("left", "right", "tie", "both_bad")
FILE_NAME = "votes.jsonl"
_MAX_LINE = 64 * 1024  # a vote is a few hundred bytes: longer lines are not votes


@dataclass(frozen=True)
class Vote:
    """One judgement: which of two results (shown as left and right) was better, or ``tie`` / ``both_bad``.

    ``left`` and ``right`` name what was compared (e.g. ``quality=high``), ``left_id`` / ``right_id`` the
    requests whose images were shown.
    """

    arena: str
    judge: str
    prompt: str
    left: str
    right: str
    outcome: str
    left_id: str = ""
    right_id: str = ""
    time: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {self.outcome!r}")
        if not self.judge.strip():
            raise ValueError("judge: give the judge's name, e.g. judge='ana'")
        if self.left == self.right:
            raise ValueError(f"left and right are the same ({self.left!r}): a vote compares two different things")


class VoteBook:
    """The votes file of a history folder (``path`` as for :func:`history_dir`); created on the first vote."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.root = history_dir(path)
        self.file = self.root / FILE_NAME
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"VoteBook({str(self.file)!r})"

    def add(self, vote: Vote) -> Vote:
        """Append ``vote`` (stamped with the time now, in UTC, if it has none); returns what was stored."""
        if not vote.time:
            vote = Vote(**{**asdict(vote), "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")})
        line = (json.dumps(asdict(vote), ensure_ascii=False) + "\n").encode()
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        return vote

    def votes(self, arena: str | None = None) -> list[Vote]:
        """Every vote stored (of ``arena`` only, if given), oldest first."""
        return [v for v in self._read() if arena is None or v.arena == arena]

    def to_csv(self, path: str | os.PathLike[str], arena: str | None = None) -> Path:
        """Write the votes (of ``arena``, if given) as CSV, one row a vote; returns the path."""
        out = Path(path)
        if out.suffix.lower() != ".csv":
            out = out.with_name(out.name + ".csv")
        fields = list(Vote.__dataclass_fields__)
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for vote in self.votes(arena):
                writer.writerow(asdict(vote))
        return out

    def _read(self) -> Iterator[Vote]:
        try:
            f = self.file.open("rb")
        except FileNotFoundError:
            return
        with f:
            for number, raw in enumerate(f, 1):
                try:
                    if len(raw) > _MAX_LINE:
                        raise ValueError(f"{len(raw)} bytes long")
                    data = json.loads(raw)
                    yield Vote(**{k: str(data[k]) for k in Vote.__dataclass_fields__ if k in data})
                except (ValueError, TypeError, KeyError) as exc:
                    warnings.warn(
                        f"{self.file}: line {number} is not a vote and was skipped ({exc})",
                        HistoryWarning,
                        stacklevel=3,
                    )
