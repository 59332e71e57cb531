"""What ``import falstudio`` costs next to ``import fal_client``: fresh interpreters, several runs, medians.

Each run starts a new Python process that times only the import statement (interpreter start-up excluded).
Goal (issue 17): ``import falstudio`` <= 1.0x ``import fal_client``. Also printed: ``import falstudio; fs.Client``
(the client itself, loaded on first use).

    .venv/bin/python bench/import_time.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys

CASES = {
    "import fal_client": "import fal_client",
    "import falstudio": "import falstudio",
    "import falstudio; fs.Client": "import falstudio as fs; fs.Client",
}


def seconds(statement: str) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):  # interleaved, so that a busy moment of the machine hits every case alike
        for name, statement in CASES.items():
            times[name].append(seconds(statement))
    base = statistics.median(times["import fal_client"])
    print(f"\nmedian of {args.runs} fresh processes each\n")
    print(f"{'':32}{'ms':>8}{'vs fal_client':>16}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:32}{median * 1000:8.1f}{median / base:15.2f}x")
    ratio = statistics.median(times["import falstudio"]) / base
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"\ngoal (issue 17): import falstudio <= 1.0x import fal_client: {ratio:.2f}x, {verdict}")


if __name__ == "__main__":
    main()
