"""Temporary folders of local servers, removed however the process ends.

A server without ``storage_dir`` keeps its files in ``<tmp>/falstudio-files-<pid>-<random>``, removed when it
stops, at interpreter exit, and on SIGTERM / SIGHUP (after which the signal does what it did before: the
previous handler runs, or the process ends as it would have). A process killed outright (SIGKILL, a crash)
cleans nothing, so each new folder first sweeps those whose process is gone (a zombie not yet reaped, or an id
now used by a newer process, counts as gone).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

PREFIX = "falstudio-files-"
SIGNALS = ("SIGTERM", "SIGHUP")

_live: set[Path] = set()
_lock = threading.Lock()
_hooked: set[int] = set()


def make() -> Path:
    """A new temporary folder, named after this process; stale folders of dead processes are removed first."""
    sweep_stale()
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    with _lock:
        _live.add(path)
    _hook_signals()
    return path


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    with _lock:
        _live.discard(path)


def remove_all() -> None:
    with _lock:
        paths = list(_live)
        _live.clear()
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)


atexit.register(remove_all)


def sweep_stale(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the servers' folders in ``folder`` (default: the temp dir) whose process has ended; returns them.

    POSIX only: elsewhere there is no safe way to ask whether a process id is alive.
    """
    if os.name != "posix":
        return []
    removed = []
    for entry in Path(folder or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = _pid_of(entry.name)
        if pid is None or pid == os.getpid():
            continue
        try:
            info = entry.lstat()
        except OSError:
            continue
        if _alive(pid, info.st_mtime):
            continue
        if entry.is_dir() and not entry.is_symlink() and info.st_uid == os.getuid():  # only our own folders
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _pid_of(name: str) -> int | None:
    pid, dash, _ = name[len(PREFIX) :].partition("-")
    return int(pid) if dash and pid.isdigit() else None


def _alive(pid: int, made_at: float) -> bool:
    """Whether the process that made a folder at ``made_at`` still runs: not a zombie (killed, not yet reaped by
    its parent), and not a newer process that was given the same id."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    started = _linux_start(pid)
    if started is None:
        return True  # no /proc: trust the id
    state, start_time = started
    return state != "Z" and start_time <= made_at + 1.0


def _linux_start(pid: int) -> tuple[str, float] | None:
    """``(state, start time as a POSIX time)`` of a process from /proc, or None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(line for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    try:
        return fields[0], int(boot.split()[1]) + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (IndexError, ValueError, OSError):
        return None


def _hook_signals() -> None:
    """Remove the folders on SIGTERM / SIGHUP, then let the signal do what it did before.

    Only the main thread may install handlers; a server started elsewhere tries again next time.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for name in SIGNALS:
        number = getattr(signal, name, None)
        if number is None or number in _hooked:
            continue
        previous = signal.getsignal(number)
        if previous is signal.SIG_IGN:  # the process ignores it: nothing is ending
            continue
        with contextlib.suppress(ValueError, OSError):  # e.g. an embedded interpreter that forbids it
            signal.signal(number, _Handler(previous))
            _hooked.add(number)


class _Handler:
    """Our signal handler, chained to the one it replaced."""

    def __init__(self, previous: Any) -> None:
        self.previous = previous

    def __call__(self, number: int, frame: FrameType | None) -> None:
        if callable(self.previous):
            # It decides whether the process ends; if it exits, the exit hook removes the folders.
            self.previous(number, frame)
            return
        remove_all()
        signal.signal(number, signal.SIG_DFL)  # end as the signal would have ended us
        sys.stderr.flush()
        os.kill(os.getpid(), number)
