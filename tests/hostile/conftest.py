"""Fixtures of the hostile tier."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def sparse_folder(tmp_path: Path) -> Iterator[Path]:
    """A fresh folder where a sparse file's holes read fast: on tmpfs (``/dev/shm``) when there is one.

    ext4 fills each page of a hole on its first read (seconds for 2 GB on a small VM); tmpfs reads a hole
    as its zero page, so a two-gigabyte line still passes through the reader, in a tenth of the time.
    """
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="falstudio-test-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
