"""Run a hostile case in a child process under a memory limit (``resource.setrlimit``) and a time limit.

The child runs ``code`` (a snippet, dedented) and prints one JSON object as its last line; the parent gets it
back, or a failure saying the limit the case broke (a hang, a MemoryError, a crash). ``run_bounded``'s children are
forked from a process that has already imported falstudio (see ``_ZYGOTE``); ``start_bounded``'s are new Pythons.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
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
    child_env = {**os.environ, **_ONE_THREAD, **(env or {})}
    returncode, stdout, stderr = _forked(script, child_env, cwd, seconds)
    lines = stdout.strip().splitlines()
    assert returncode == 0 and lines, f"the child failed (exit {returncode}):\n{stderr[-4000:]}"
    result: dict[str, Any] = json.loads(lines[-1])
    result["stderr"] = stderr
    return result


def _forked(script: str, env: dict[str, str], cwd: Path | None, seconds: float) -> tuple[int, str, str]:
    """Run ``script`` as ``python -c`` would, in a child forked from :data:`_ZYGOTE`: ``(exit code, stdout,
    stderr)``. A child killed for its time is an AssertionError."""
    zygote = _zygote()
    assert zygote.stdin is not None and zygote.stdout is not None
    with tempfile.TemporaryDirectory(prefix="falstudio-bounded-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        case = {"script": script, "env": env, "cwd": str(cwd or os.getcwd()), "stdout": str(out), "stderr": str(err)}
        zygote.stdin.write(json.dumps(case) + "\n")
        zygote.stdin.flush()
        pid = int(zygote.stdout.readline())
        ended: list[str] = []  # the zygote's next line: the child's exit code
        waiter = threading.Thread(target=lambda: ended.append(zygote.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        waiter.start()
        waiter.join(seconds)
        timed_out = waiter.is_alive()
        if timed_out:
            os.kill(pid, signal.SIGKILL)
            waiter.join()
        assert ended and ended[0].strip(), "the zygote that forks the cases died"
        returncode = int(ended[0])
        stdout, stderr = out.read_text(errors="replace"), err.read_text(errors="replace")
    if timed_out:
        raise AssertionError(f"the case did not finish within {seconds:g} s: {stderr[-2000:]!r}")
    return returncode, stdout, stderr


# A Python that has imported what the cases use, and forks one child per case: a case then costs its own work, not
# ~0.5 s of CPU importing falstudio, its server, numpy and Pillow again (some 60 cases in the tier). The child takes
# the case's environment, folder and output files, then runs the script as ``python -c`` does (its limits are the
# script's first lines); the zygote answers with the child's pid, then with its exit code (as subprocess gives it).
_ZYGOTE = """
import json, os, sys
import falstudio, falstudio.client, falstudio.history, falstudio.local.server, falstudio.metadata, httpx, numpy
import PIL.Image

def serve():
    for line in sys.stdin:
        case = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            return case
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
    return None

case = serve()
if case is not None:
    written = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, case["stdout"], written), (2, case["stderr"], written)):
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, closefd=False)
    os.environ.clear()
    os.environ.update(case["env"])
    os.chdir(case["cwd"])
    sys.argv = ["-c"]
    script = compile(case["script"], "<string>", "exec")
    del case, serve
    exec(script, {"__name__": "__main__", "__builtins__": __builtins__})
"""
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}  # numpy's BLAS starts no threads (and forks)
_zygotes: list[subprocess.Popen[str]] = []


def _zygote() -> subprocess.Popen[str]:
    """This process's zygote, started on first use (again if it died) and stopped when this process exits."""
    if _zygotes and _zygotes[0].poll() is None:
        return _zygotes[0]
    _zygotes.clear()
    zygote = subprocess.Popen(
        [sys.executable, "-c", _ZYGOTE],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **_ONE_THREAD},
    )
    atexit.register(zygote.kill)
    _zygotes.append(zygote)
    return zygote


def start_bounded(
    code: str, *, env: dict[str, str] | None = None, memory: int = MEMORY_BYTES, files: int | None = None
) -> subprocess.Popen[str]:
    """A long-running child under the memory limit (and an open-file limit, when given); the caller stops it."""
    script = _PRELUDE.format(memory=memory)
    if files is not None:
        script += f"resource.setrlimit(resource.RLIMIT_NOFILE, ({files}, {files}))\n"
    script += textwrap.dedent(code)
    child_env = {**os.environ, **_ONE_THREAD, **(env or {})}
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
