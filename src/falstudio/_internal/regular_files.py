"""Reading a file that anyone sharing a folder could have replaced: only a regular file, only up to a size.

A FIFO named like a record would block ``open()`` forever, a symlink to ``/dev/zero`` would never end, and a
file of gigabytes would exhaust memory; each becomes a ValueError naming the file instead.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["read_regular"]


def read_regular(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of ``path``; ValueError when it is not a regular file or is larger than ``max_bytes``.

    FileNotFoundError (an OSError) when it is not there. Opened without blocking, so a FIFO never hangs.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if info.st_size > max_bytes:
            raise ValueError(f"{path} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(max_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while we read
        raise ValueError(f"{Path(path)} grew past the {max_bytes:,}-byte limit while being read")
    return data
