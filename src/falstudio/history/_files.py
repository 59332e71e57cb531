"""The history folder's files: crash-safe writes (a temp file in the same folder, fsync, then an atomic rename),
content-addressed images, and the names of record files."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import re
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
_TEMPORARIES = itertools.count()  # with the process id: a temporary name no other writer uses
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def atomic_write(path: Path, data: bytes, *, sync: bool = True) -> os.stat_result:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part; returns what the
    new file's stat says (its inode, size and modification time stay those through the rename).

    ``sync``: on disk before it replaces ``path`` (else a process killed next still leaves it whole, and
    :func:`sync_file` puts it on disk later). Plain descriptor calls (open, write, stat, close, rename): each system
    call is a turn at the interpreter a busy client loop may wait for, and a file object made three more.
    """
    fd, temporary = _create_temporary(path)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if sync:
                os.fsync(fd)
            info = os.fstat(fd)
        finally:
            os.close(fd)
        _replace(str(temporary), path)
        return info
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _create_temporary(path: Path) -> tuple[int, Path]:
    """A new file beside ``path``, open for writing, with a name no other writer uses."""
    for attempt in range(100):
        temporary = path.with_name(f".{path.name}.{os.getpid()}-{next(_TEMPORARIES)}{TEMP_SUFFIX}")
        try:
            return os.open(temporary, _CREATE, 0o600), temporary
        except FileNotFoundError:  # the folder's first file
            if attempt:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # left by a process killed long ago that had this process's id
            pass
    raise FileExistsError(f"no free temporary name beside {path}")


def sync_file(path: Path) -> None:
    """Put a file written with ``atomic_write(..., sync=False)`` on disk (FileNotFoundError: it is gone)."""
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))  # writable: Windows syncs only such handles
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace(src: str, dst: Path) -> None:
    # On Windows the rename fails while another process has ``dst`` open; such a reader is brief.
    for attempt in range(20):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if attempt == 19:
                raise
            time.sleep(0.05)


def extension(content_type: str) -> str:
    return _EXTENSIONS.get(content_type, "bin")


def store_blob(folder: Path, data: bytes, content_type: str, *, unsynced: list[Path] | None = None) -> tuple[str, str]:
    """Save ``data`` content-addressed in ``folder``; returns ``(file name, sha256)``. Idempotent. ``unsynced``: not
    put on disk before this returns; the file is added to that list, for :func:`sync_file` later."""
    digest = hashlib.sha256(data).hexdigest()
    name = f"{digest}.{extension(content_type)}"
    target = folder / name
    if not target.exists():
        atomic_write(target, data, sync=unsynced is None)
        if unsynced is not None:
            unsynced.append(target)
    return name, digest


def pixel_size(data: bytes) -> tuple[int | None, int | None]:
    """The width and height an image file's header says; ``(None, None)`` when it is not an image."""
    from falstudio._internal.images import pixel_size as header_size

    return header_size(data) or (None, None)


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def safe_name(request_id: str) -> str:
    """A file-name-safe form of a request id (ids that needed changing get a hash so they stay unique)."""
    safe = _UNSAFE.sub("_", request_id)[:80]
    if safe != request_id:
        safe += "_" + hashlib.sha256(request_id.encode()).hexdigest()[:10]
    return safe


def record_file_name(request_id: str, when: float) -> str:
    stamp = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{safe_name(request_id)}.json"


def intent_name(intent_id: str) -> str:
    return f"intent-{intent_id}"
