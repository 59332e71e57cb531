"""Reading a file that anyone sharing a folder could have replaced: only a regular file, only up to a size.

A FIFO named like a record would block ``open()`` forever, a symlink to ``/dev/zero`` would never end, and a
file of gigabytes would exhaust memory; each becomes a ValueError naming the file instead.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["opened_regular", "read_open", "read_regular"]


@contextmanager
def opened_regular(path: str | os.PathLike[str], max_bytes: int) -> Iterator[tuple[int, os.stat_result]]:
    """``(file descriptor, its stat)`` of ``path``, checked to be a regular file of at most ``max_bytes``.

    ValueError when it is not; FileNotFoundError (an OSError) when it is not there. Opened without blocking,
    so a FIFO never hangs; the descriptor is closed on leaving.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        yield fd, info
    finally:
        os.close(fd)


def read_open(fd: int, path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The rest of an opened file, at most ``max_bytes`` (ValueError if it grew past that while being read)."""
    chunks = []
    size = 0
    while size <= max_bytes:
        chunk = os.read(fd, max_bytes + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        raise ValueError(f"{path} grew past the {max_bytes:,}-byte limit while being read")
    return b"".join(chunks)


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of ``path``; ValueError when it is not a regular file or is larger than ``max_bytes``."""
    with opened_regular(path, max_bytes) as (fd, _info):
        return read_open(fd, path, max_bytes)
