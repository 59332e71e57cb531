"""Reading a file that anyone sharing a folder could have replaced: only a regular file, only up to a size.

A FIFO named like a record would block ``open()`` forever, a symlink to ``/dev/zero`` would never end, and a
file of gigabytes would exhaust memory; each becomes a ValueError naming the file instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["opened_regular", "read_open", "read_regular", "read_regular_info"]

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)  # never blocks on a FIFO
_CHUNK = 1 << 20  # bytes asked for at a time once past the size the file had when opened


def _open_regular(path: str | os.PathLike[str], max_bytes: int) -> tuple[int, os.stat_result]:
    """``(file descriptor, its stat)``, checked; the caller closes it. Closed here when the check fails."""
    fd = os.open(path, _FLAGS)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


@contextmanager
def opened_regular(path: str | os.PathLike[str], max_bytes: int) -> Iterator[tuple[int, os.stat_result]]:
    """``(file descriptor, its stat)`` of ``path``, checked to be a regular file of at most ``max_bytes``.

    ValueError when it is not; FileNotFoundError (an OSError) when it is not there. Opened without blocking,
    so a FIFO never hangs; the descriptor is closed on leaving.
    """
    fd, info = _open_regular(path, max_bytes)
    try:
        yield fd, info
    finally:
        os.close(fd)


def read_open(fd: int, path: str | os.PathLike[str], max_bytes: int, size: int | None = None) -> bytes:
    """The rest of an opened file, at most ``max_bytes`` (ValueError if it grew past that while being read).

    ``size``: what ``fstat`` said, so a file that did not grow is read in one call of its size.
    """
    chunks = []
    have = 0
    want = max_bytes + 1 if size is None else min(size + 1, max_bytes + 1)
    while have <= max_bytes:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        have += len(chunk)
        if size is not None and len(chunk) < want:
            break  # a short read of a regular file: its end
        want = min(_CHUNK, max_bytes + 1 - have)
    if have > max_bytes:
        raise ValueError(f"{path} grew past the {max_bytes:,}-byte limit while being read")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_regular_info(path: str | os.PathLike[str], max_bytes: int) -> tuple[bytes, os.stat_result]:
    """The bytes of ``path`` and its stat as opened; ValueError when it is not a regular file or is larger than
    ``max_bytes`` (one open, one ``fstat``, one read for a file that holds still)."""
    fd, info = _open_regular(path, max_bytes)
    try:
        return read_open(fd, path, max_bytes, info.st_size), info
    finally:
        os.close(fd)


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of ``path``; ValueError when it is not a regular file or is larger than ``max_bytes``."""
    return read_regular_info(path, max_bytes)[0]
