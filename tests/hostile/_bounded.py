"""Run a hostile case in a child process under a memory limit (``resource.setrlimit``) and a time limit.

The child runs ``code`` (a snippet, dedented) and prints one JSON object as its last line; the parent gets it
back, or a failure saying the limit the case broke (a hang, a MemoryError, a crash).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

MEMORY_BYTES = 1536 * 1024 * 1024  # address space: generous for Python + numpy + Pillow, far below a blow-up
SECONDS = 60.0  # a hang or a minutes-long computation fails; the fixed cases take well under a second of work

_PRELUDE = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
def report(**values):
    print(json.dumps(values, default=str))
"""


def run_bounded(
    code: str,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    memory: int = MEMORY_BYTES,
    seconds: float = SECONDS,
) -> dict[str, Any]:
    """The JSON object the child reported with ``report(...)``; fails the test when it broke a limit."""
    script = _PRELUDE.format(memory=memory) + textwrap.dedent(code)
    child_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=seconds,
            env=child_env,
            cwd=cwd,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"the case did not finish within {seconds:g} s: {exc.stderr!r:.2000}") from None
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, f"the child failed (exit {done.returncode}):\n{done.stderr[-4000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    result["stderr"] = done.stderr
    return result


def start_bounded(
    code: str, *, env: dict[str, str] | None = None, memory: int = MEMORY_BYTES, files: int | None = None
) -> subprocess.Popen[str]:
    """A long-running child under the memory limit (and an open-file limit, when given); the caller stops it."""
    script = _PRELUDE.format(memory=memory)
    if files is not None:
        script += f"resource.setrlimit(resource.RLIMIT_NOFILE, ({files}, {files}))\n"
    script += textwrap.dedent(code)
    child_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env,
    )


def not_a_file(path: Path, kind: str) -> None:
    """Put at ``path`` what a shared folder may hold instead of a file: ``fifo`` (a read would block forever)
    or ``device`` (a symlink to /dev/zero: a read never ends)."""
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
