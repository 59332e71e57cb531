"""Votes of blind comparisons, kept with the history: ``<history dir>/votes.jsonl``, one JSON object a line.

The file is only ever appended to, one whole line per ``os.write`` on a file opened ``O_APPEND``, so several
kernels can vote at once and a crash loses at most the vote being written. A line that cannot be read (cut
short, edited by hand, overlong) is skipped, with one :class:`HistoryWarning` a read naming the first such
lines; the rest still count. Lines are read one bounded piece at a time, and a votes file that is not a regular
file (a FIFO, a symlink to a device) is refused with that warning, so a damaged file costs bounded memory and time.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import json
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from falstudio._internal.regular_files import opened_regular

from ._paths import history_dir
from ._store import HistoryWarning

OUTCOMES = ("left", "right", "tie", "both_bad")
FILE_NAME = "votes.jsonl"
_MAX_LINE = 1024 * 1024  # a vote is a few hundred bytes (a 32,000-character prompt: ~128 KB); longer: not a vote
_SKIP_CHUNK = 1 << 20
_MAX_FILE = 1 << 40  # the file itself may grow as long as people vote; it is read a line at a time
_NAMED = 5  # bad lines named in the warning


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
        if len(line) > _MAX_LINE:
            raise ValueError(f"this vote is {len(line):,} bytes as a line, over {_MAX_LINE:,}: shorten its prompt")
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock:
            refusal = ValueError(f"{self.file} is not a regular file: move it away to vote here")
            try:
                fd = os.open(self.file, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o600)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # a FIFO nobody reads
                    raise refusal from None
                raise
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise refusal
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
        bad: list[str] = []
        try:
            with opened_regular(self.file, _MAX_FILE) as (fd, _), open(fd, "rb", closefd=False) as f:
                for number, raw in _lines(f):
                    try:
                        if raw is None:
                            raise ValueError(f"over {_MAX_LINE:,} bytes long")
                        data = json.loads(raw)
                        vote = Vote(**{k: str(data[k]) for k in Vote.__dataclass_fields__ if k in data})
                    except (ValueError, TypeError, KeyError, RecursionError) as exc:
                        bad.append(f"line {number} is not a vote and was skipped ({str(exc)[:200]})")
                        continue
                    yield vote
        except FileNotFoundError:
            return
        except ValueError as exc:  # not a regular file
            bad.append(f"{exc}; no votes read")
        if bad:
            more = f"; and {len(bad) - _NAMED} more such lines" if len(bad) > _NAMED else ""
            warnings.warn(f"{self.file}: {'; '.join(bad[:_NAMED])}{more}", HistoryWarning, stacklevel=3)


def _lines(f: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, line)``; None for a line over ``_MAX_LINE`` bytes, which is read past, never held."""
    number = 0
    while raw := f.readline(_MAX_LINE + 1):
        number += 1
        if len(raw) <= _MAX_LINE:
            yield number, raw
            continue
        if not raw.endswith(b"\n"):
            _skip_line(f)
        yield number, None


def _skip_line(f: BinaryIO) -> None:
    """Read past the rest of a line a chunk at a time (``readline`` pieces it together from small reads)."""
    while chunk := f.read(_SKIP_CHUNK):
        end = chunk.find(b"\n")
        if end >= 0:
            f.seek(end + 1 - len(chunk), os.SEEK_CUR)
            return
