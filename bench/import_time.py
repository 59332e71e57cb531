"""What ``import falstudio`` costs next to ``import fal_client``: fresh interpreters, several runs, medians.

Each run starts a new Python process that times only the import statement (interpreter start-up excluded):
wall time, and CPU time (steadier on a busy machine). Every case imports from compiled bytecode, as an installed
package does (pip writes fal_client's ``.pyc`` files; falstudio's, installed editable, are written by a first
run into a cache of this bench's own even where ``PYTHONDONTWRITEBYTECODE`` is set), so the figures compare
import work, not one side compiling its source each time. The last lines say which heavy modules
``fs.Client`` loads (none of pydantic and ``falstudio.endpoints``: they load with the first request). The last case
is what a notebook's first ``fs.Client()`` costs with no key: the client and the embedded offline server it starts
(and closes), from a fresh process.

Goals: ``import falstudio`` <= 1.0x ``import fal_client`` (issue 17); ``import falstudio; fs.Client`` (the client
itself, loaded on first use) <= 1.2x (issue 29).

    .venv/bin/python bench/import_time.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

CASES = {
    "import fal_client": "import fal_client",
    "import falstudio": "import falstudio",
    "import falstudio; fs.Client": "import falstudio as fs; fs.Client",
    "fs.Client() with no key": "import falstudio as fs; fs.Client().close()",
}


HEAVY = ("pydantic", "falstudio.endpoints", "PIL", "numpy", "filelock")


def seconds(statement: str, env: dict[str, str]) -> tuple[float, float]:
    """``(wall, CPU)`` seconds of ``statement`` in a fresh interpreter."""
    code = (
        "import time; t, c = time.perf_counter(), time.process_time(); "
        f"{statement}; print(time.perf_counter() - t, time.process_time() - c)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    wall, cpu = out.stdout.split()
    return float(wall), float(cpu)


def loaded(statement: str, env: dict[str, str]) -> list[str]:
    """The packages of :data:`HEAVY` that ``statement`` loads."""
    code = f"import sys; {statement}; print(' '.join(h for h in {HEAVY!r} if h in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="falstudio-import-bench-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE" and not k.startswith("FAL_KEY")}
    home = tempfile.mkdtemp(prefix="falstudio-import-bench-home-")  # no `fal auth login`; a history of its own
    env |= {"PYTHONPYCACHEPREFIX": cache, "FAL_HOME_DIR": home, "FALSTUDIO_HISTORY_DIR": home}
    for statement in CASES.values():  # the first run of each writes its bytecode
        seconds(statement, env)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    cpu: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):  # interleaved, so that a busy moment of the machine hits every case alike
        for name, statement in CASES.items():
            wall, used = seconds(statement, env)
            times[name].append(wall)
            cpu[name].append(used)
    base = statistics.median(times["import fal_client"])
    cpu_base = statistics.median(cpu["import fal_client"])
    print(f"\nmedian of {args.runs} fresh processes each\n")
    print(f"{'':32}{'wall ms':>8}{'vs fal_client':>15}{'CPU ms':>9}{'vs fal_client':>15}")
    for name in CASES:
        wall, used = statistics.median(times[name]), statistics.median(cpu[name])
        print(f"{name:32}{wall * 1000:8.1f}{wall / base:14.2f}x{used * 1000:9.1f}{used / cpu_base:14.2f}x")
    ratio = statistics.median(times["import falstudio"]) / base
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"\ngoal (issue 17): import falstudio <= 1.0x import fal_client: {ratio:.2f}x, {verdict}")
    client = statistics.median(cpu["import falstudio; fs.Client"]) / cpu_base
    verdict = "met" if client <= 1.2 else "NOT met"
    print(f"goal (issue 29): import falstudio; fs.Client <= 1.2x import fal_client (CPU): {client:.2f}x, {verdict}")
    heavy = loaded(CASES["import falstudio; fs.Client"], env)
    print(f"heavy modules fs.Client loads: {', '.join(heavy) or 'none'} (of {', '.join(HEAVY)})")


if __name__ == "__main__":
    main()
