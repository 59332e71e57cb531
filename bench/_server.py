"""A local server in its own process for the benchmarks, as fal runs on its own machines: its engine
threads must not share the measured client's GIL."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple


class Served(NamedTuple):
    url: str
    key: str
    pid: int


@contextmanager
def served(*options: str) -> Iterator[Served]:
    """``falstudio serve --port 0 *options`` in a subprocess; yields its url, key and pid, and stops it on exit."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "falstudio.cli", "serve", "--port", "0", *options], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().split(" at ")[-1]
        key = proc.stdout.readline().strip().removeprefix("key: ")
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the local server did not start: {url!r}")
        yield Served(url, key, proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


@contextmanager
def server_process(*options: str) -> Iterator[tuple[str, str]]:
    """``falstudio serve --port 0 *options`` in a subprocess; yields ``(url, key)`` and stops it on exit."""
    with served(*options) as server:
        yield server.url, server.key
