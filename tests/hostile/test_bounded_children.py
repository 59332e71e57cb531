"""The hostile tier's own harness: a case forked from the zygote still fails on the limit it broke, and runs as
``python -c`` would (its environment, folder, name and arguments; its threads finished before it exits)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ._bounded import run_bounded


def test_a_case_that_hangs_is_killed_at_its_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(AssertionError, match="did not finish within 1 s"):
        run_bounded("import time\nprint('started', flush=True)\ntime.sleep(60)", seconds=1)
    assert time.monotonic() - started < 15
    assert run_bounded("report(alive=True)")["alive"]  # the zygote still forks the next case


def test_a_case_past_its_memory_limit_fails_with_the_memory_error() -> None:
    with pytest.raises(AssertionError, match="MemoryError"):
        run_bounded("blob = bytearray(2 * 1024**3)", memory=1024**3)


def test_a_case_runs_as_python_dash_c_would(tmp_path: Path) -> None:
    code = "import os, sys\nreport(env=os.environ['CASE'], cwd=os.getcwd(), argv=sys.argv, name=__name__)"
    result = run_bounded(code, env={"CASE": "hostile"}, cwd=tmp_path)
    assert (result["env"], result["cwd"], result["argv"], result["name"]) == (
        "hostile",
        str(tmp_path),
        ["-c"],
        "__main__",
    )


def test_a_case_s_threads_finish_before_it_exits_and_its_errors_reach_stderr() -> None:
    late = """
    import threading, time
    def later():
        time.sleep(0.3)
        report(late=True)
    threading.Thread(target=later).start()
    """
    assert run_bounded(late) == {"late": True, "stderr": ""}
    with pytest.raises(AssertionError, match=r"(?s)exit 1\):\n.*ZeroDivisionError: division by zero"):
        run_bounded("1 / 0")
