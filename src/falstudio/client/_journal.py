"""A history folder's spend journal: one line per reservation and per settlement, so kernels sharing the folder
hold one budget.

A reservation is checked and appended under the folder's lock file (``spend.lock``, via ``filelock``), so of
several processes racing for the last room exactly one gets through. A reservation with no budget to check, and
settlements, are single ``O_APPEND`` writes without the lock (a check reads the journal whole before or after
such a line, as if it came just before or just after the lock was held). Each process reads only what was
appended since its last look: a check costs the same with 20,000 records in the folder as with none. A folder
without a journal yet is seeded once from its records.

Each line: ``{"k": key, "s": "reserved" | "spent" | "released", "m": mode, "a": "0.02", "t": time}``. A
reserved or spent request counts; a released one does not (fal bills only successful outputs). A reservation's
key is ``intent:<id>``, the intent id of the request's history record; once the server names the request,
``{"k": key, "s": "bound", "r": request id}`` lets a resume in any process settle it by its request id
(:meth:`Journal.settle_request`). Older journals' random keys are read the same way. A line that is
not readable, overlong, or whose amount is negative, not finite or huge, is ignored with one warning naming the
file; the journal is read in chunks, so a damaged one costs bounded memory. A journal that is not a regular file
(a FIFO, a symlink: to a device, or to a file of the user's) is refused as unusable instead of blocking, reading
forever or being written through.
"""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

JOURNAL_NAME = "spend.jsonl"
LOCK_NAME = "spend.lock"
LOCK_SECONDS = 30.0  # another kernel holds the folder's lock longer than this: refuse, saying so
CHUNK = 1 << 20  # bytes read at a time
MAX_LINE = 64 * 1024  # a line is ~120 bytes: a longer one is damage, skipped without being held
SeedEntry = tuple[str, str, Decimal, float]  # key, mode, amount, time
MAX_OPEN = 8  # journals whose file stays open for appending (the most recently used ones)
KEEP_OPEN = os.name != "nt"  # on Windows an open file cannot be removed or replaced by another process
_JOURNALS: dict[Path, Journal] = {}
_JOURNALS_LOCK = threading.Lock()
_APPENDERS: OrderedDict[Path, tuple[int, int, int]] = OrderedDict()  # path -> (descriptor, device, inode)
_APPENDERS_LOCK = threading.Lock()


class Journal:
    """One history folder's journal, shared by every ledger of the process recording there."""

    def __init__(self, root: Path, seed: Callable[[], Iterable[SeedEntry]]) -> None:
        import filelock  # loaded with the first budgeted request, not with the client

        self.path = root / JOURNAL_NAME
        self.lock = filelock.FileLock(str(root / LOCK_NAME), timeout=LOCK_SECONDS, thread_local=False)
        self._seed = seed
        self._mutex = threading.Lock()  # guards the reading state below
        self._turn = threading.Lock()  # one thread of this process at a time holds ``lock`` (it is reentrant)
        self._inode: int | None = None
        self._offset = 0
        self._tail = b""
        self._skipping = False  # inside an overlong line: drop bytes up to its end
        self._counted: dict[str, tuple[str, Decimal, float]] = {}  # key -> (mode, amount, time)
        self._bound: dict[str, str] = {}  # request id -> its reservation's key
        self._warned = False
        self._unusable = False
        self._end = -1  # the journal's size after this process's last line, as far as it knows (-1: unknown)

    # -- writing (reserve: under ``lock``) --------------------------------------------------------------

    def acquire(self) -> None:
        """Take the folder's lock (blocking; raises ``filelock.Timeout`` after ``LOCK_SECONDS``)."""
        import filelock

        if not self._turn.acquire(timeout=LOCK_SECONDS):
            raise filelock.Timeout(self.lock.lock_file)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
        except BaseException:
            self._turn.release()
            raise

    def release(self) -> None:
        self.lock.release()
        self._turn.release()

    def ensure(self) -> None:
        """Create the journal, seeded from the folder's records, if there is none (hold ``lock``)."""
        if self.path.exists():
            return
        lines = [_line(key, "reserved", mode, amount, at) for key, mode, amount, at in self._seed()]
        temporary = self.path.with_name(f".{JOURNAL_NAME}.{os.getpid()}.tmp")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(b"".join(lines))
        os.replace(temporary, self.path)

    def reserve(self, key: str, mode: str, amount: Decimal, at: float) -> None:
        self._append(_line(key, "reserved", mode, amount, at))

    def reserve_unchecked(self, key: str, mode: str, amount: Decimal, at: float) -> bool:
        """Append a reservation that has no budget to check, without the lock; False (nothing written) when the
        journal does not exist yet: it must first be made, seeded, under the lock (:meth:`ensure`)."""
        try:
            self._append(_line(key, "reserved", mode, amount, at), create=False)
        except FileNotFoundError:
            return False
        return True

    def settle(self, key: str, state: str) -> None:
        """``spent`` keeps the reservation counted, ``released`` ends it."""
        try:
            self._append(_line(key, state))
        except OSError as exc:
            self.unusable(exc)

    def bind(self, key: str, request_id: str) -> bool:
        """The reservation ``key`` is request ``request_id`` (written before its record has the id); False when
        the journal could not be written."""
        try:
            self._append(_line(key, "bound", request_id=request_id))
        except OSError as exc:
            self.unusable(exc)
            return False
        return True

    def settle_request(self, request_id: str, state: str) -> None:
        """Settle the reservation bound to ``request_id`` (a resumed request, maybe of a process that ended);
        nothing when the folder has no journal yet (it is seeded from the records, which say the same)."""
        if self.path.exists():
            self.settle(request_id, state)

    def bound_to(self, key: str) -> str | None:
        """The request id bound to the reservation ``key`` (the last one, if several), or None."""
        with self._mutex:
            self._catch_up()
            found = [request_id for request_id, bound in self._bound.items() if bound == key]
        return found[-1] if found else None

    def unusable(self, exc: OSError) -> None:
        """Say once that the journal cannot be used: other kernels' spend is not seen, nor this one's by them."""
        if not self._unusable:
            self._unusable = True
            warnings.warn(
                f"falstudio: the spend journal {self.path} cannot be used ({type(exc).__name__}: {exc}); budgets "
                "count only this kernel's requests until it can",
                RuntimeWarning,
                stacklevel=4,
            )

    def _append(self, line: bytes, *, create: bool = True) -> None:
        """One write of ``line`` (never interleaved with another process's), on a descriptor kept open while the
        path names the same file: a stat and a write, where opening and closing the file took four more system
        calls, each a turn at the interpreter the client's loop may wait for (issue 29)."""
        with _APPENDERS_LOCK:
            fd, size = self._appender(create)
            if size and size != self._end and _byte_at(fd, size - 1) != b"\n":
                line = b"\n" + line  # a last line left without its end (a hand edit): never glued to it
            os.write(fd, line)
            self._end = size + len(line)  # the size if no other process wrote meanwhile: no read of it next time
            if not KEEP_OPEN:
                os.close(_APPENDERS.pop(self.path)[0])

    def _appender(self, create: bool) -> tuple[int, int]:
        """This journal's open descriptor (opened again if the path now names another file) and its size."""
        try:
            info = os.stat(self.path, follow_symlinks=False)
        except FileNotFoundError:
            if not create:
                raise
            info = None
        held = _APPENDERS.get(self.path)
        if held is not None and info is not None and (held[1], held[2]) == (info.st_dev, info.st_ino):
            _APPENDERS.move_to_end(self.path)
            return held[0], info.st_size
        if held is not None:
            del _APPENDERS[self.path]
            os.close(held[0])
        fd, opened = _open(self.path, os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0))
        _APPENDERS[self.path] = (fd, opened.st_dev, opened.st_ino)
        while len(_APPENDERS) > MAX_OPEN:  # a process recording into many folders keeps few files open
            os.close(_APPENDERS.popitem(last=False)[1][0])
        self._end = -1
        return fd, opened.st_size

    # -- reading --------------------------------------------------------------------------------------

    def counted(self, since: float | None, mode: str) -> Mapping[str, Decimal]:
        """Per key, the amount of each ``mode`` request reserved or spent at or after ``since``."""
        with self._mutex:
            self._catch_up()
            return {
                key: amount
                for key, (m, amount, at) in self._counted.items()
                if m == mode and (since is None or at >= since)
            }

    def _catch_up(self) -> None:
        try:
            fd, info = _open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return
        with os.fdopen(fd, "rb") as file:
            inode = info.st_ino
            # new, replaced or emptied in place (``: > spend.jsonl``; lines appended since start at 0): from the start
            if inode != self._inode or info.st_size < self._offset:
                self._inode, self._offset, self._tail, self._skipping = inode, 0, b"", False
                self._counted, self._bound = {}, {}
            file.seek(self._offset)
            while chunk := file.read(CHUNK):
                self._offset += len(chunk)
                self._feed(chunk)

    def _feed(self, data: bytes) -> None:
        if self._skipping:  # inside an overlong line: look for its end without copying what comes before
            end = data.find(b"\n")
            if end < 0:
                return
            self._skipping, data = False, data[end + 1 :]
        *lines, tail = (self._tail + data).split(b"\n")
        for line in lines:
            if len(line) > MAX_LINE:
                self._warn(f"a line of {len(line):,} bytes")
            elif line.strip():
                self._fold(line)
        if len(tail) > MAX_LINE:
            self._warn(f"a line of more than {MAX_LINE:,} bytes")
            self._skipping, tail = True, b""
        self._tail = tail

    def _fold(self, line: bytes) -> None:
        try:
            entry = json.loads(line)
            key, state = str(entry["k"]), entry["s"]
        except (ValueError, KeyError, TypeError, RecursionError):  # RecursionError: a line of ``[[[[...``
            self._warn(f"an unreadable line ({line[:80]!r})")
            return
        if state == "released":
            self._counted.pop(self._bound.get(key, key), None)
        elif state == "bound":
            request_id = entry.get("r")
            if isinstance(request_id, str) and request_id:
                self._bound[request_id] = key
        elif state == "reserved":
            from falstudio.endpoints.pricing import sane_amount  # the endpoints load with the first request

            amount, at = sane_amount(entry.get("a")), entry.get("t")
            if amount is None or not isinstance(at, (int, float)) or not math.isfinite(at):
                self._warn(f"a line with a bad amount or time ({line[:80]!r}), not counted")
                return
            self._counted[key] = (str(entry.get("m")), amount, float(at))

    def _warn(self, what: str) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"falstudio: {self.path} has {what}; such lines are ignored for spend", RuntimeWarning, stacklevel=5
            )


def journal_for(root: Path, seed: Callable[[], Iterable[SeedEntry]]) -> Journal:
    """The process's one :class:`Journal` of the history folder ``root``."""
    key = Path(os.path.abspath(root))
    with _JOURNALS_LOCK:
        journal = _JOURNALS.get(key)
        if journal is None:
            journal = _JOURNALS[key] = Journal(key, seed)
        return journal


def _byte_at(fd: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fd, 1, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows: no pread (appends still go to the end: O_APPEND)
    return os.read(fd, 1)


def _reset_after_fork() -> None:
    global _APPENDERS_LOCK
    _APPENDERS_LOCK = threading.Lock()  # another thread of the parent may have held it


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


def _open(path: Path, flags: int) -> tuple[int, os.stat_result]:
    """``path`` opened without blocking on a FIFO, nor following a symlink (anyone sharing the folder could point
    it at a file of ours, to be appended to), and what it is; OSError unless it is a regular file."""
    try:
        fd = os.open(path, flags | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:  # ELOOP: it is a symlink
            raise
        fd = -1
    info = os.fstat(fd) if fd >= 0 else None
    if info is None or not stat.S_ISREG(info.st_mode):
        if fd >= 0:
            os.close(fd)
        raise OSError(
            errno.EINVAL, "not a regular file (remove it: it is made again from the folder's records)", str(path)
        )
    return fd, info


def _line(
    key: str,
    state: str,
    mode: str | None = None,
    amount: Decimal | None = None,
    at: float = 0.0,
    *,
    request_id: str | None = None,
) -> bytes:
    entry: dict[str, object] = {"k": key, "s": state}
    if request_id is not None:
        entry["r"] = request_id
    if mode is not None:
        entry.update(m=mode, a=str(amount if amount is not None else 0), t=at)
    return (json.dumps(entry, separators=(",", ":")) + "\n").encode()
