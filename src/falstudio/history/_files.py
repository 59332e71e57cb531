"""Crash-safe file writes: a temp file in the same folder, fsync, then an atomic rename."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp"
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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


def store_blob(folder: Path, data: bytes, content_type: str) -> tuple[str, str]:
    """Save ``data`` content-addressed in ``folder``; returns ``(file name, sha256)``. Idempotent."""
    digest = hashlib.sha256(data).hexdigest()
    name = f"{digest}.{extension(content_type)}"
    target = folder / name
    if not target.exists():
        atomic_write(target, data)
    return name, digest
