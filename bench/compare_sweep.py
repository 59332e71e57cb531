"""16 variations at once against one variation, on a local server that runs 16 jobs at a time.

Each job is a low-quality 1024x1024 request, which the local server runs for 1 s x ``latency`` (0.5 s by
default). Goal (issue 6): 16 variations finish within 1.2x the time of a single one; "finish" is every result
in, through ``fs.sweep(...).run()``. Also printed: ``fs.Compare`` until its last job ends (it pulls the first
pictures meanwhile) and until every tile shows its thumbnail (16 full-size PNGs downloaded and decoded), and the
server-side time of the slowest job (queue wait + inference, as the results report them), and the Python
threads alive in this process while a Compare runs (goal, issue 14: the client's loop, the widgets' bounded
pool and the main thread; no thread per variation).

The local server renders with Pillow in its own process (as fal runs on its own machines) but on this
machine's cores, so its CPU work competes with the client's. Every round uses new prompts, so nothing a
round measures was computed by an earlier one. Several rounds; medians are printed. The simulated latency
hides what each variation costs the client: ``bench/sweep_clients.py`` measures that, beside fal-client.

    /work/venv/bin/python bench/compare_sweep.py [--latency 0.5] [--variations 16] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Any

from _server import server_process  # bench/ is on sys.path when a bench runs

ENDPOINT = "fal-ai/gpt-image-1-mini"
BASE = {"quality": "low", "image_size": "1024x1024"}


class Timings:
    """Seconds per round for one sweep size, under the names the table prints."""

    def __init__(self) -> None:
        self.plain: list[float] = []  # fs.sweep(...).run(): every result in
        self.results: list[float] = []  # fs.Compare: its last job ended
        self.tiles: list[float] = []  # fs.Compare: every tile shows its thumbnail
        self.server: list[float] = []  # the slowest job's queue + inference, as the server reports them
        self.threads: dict[str, int] = {}  # the most threads seen at once while a Compare ran, by name


def timed_compare(variations: Any, client: Any, concurrency: int, into: Timings) -> None:
    from falstudio.widgets import Compare

    compare = Compare(variations, client=client, concurrency=concurrency, confirm_above=None)
    try:
        started = time.monotonic()
        compare.run()
        while True:  # poll (sampling the threads meanwhile) rather than block in wait()
            note_threads(into)
            try:
                records = compare.wait(0.02)
                break
            except TimeoutError:
                if time.monotonic() - started > 300:
                    raise
        into.tiles.append(time.monotonic() - started)
        failed = [r for r in records if r["state"] != "done"]
        if failed:
            raise SystemExit(f"{len(failed)} variations did not finish: {failed[0]['error']}")
        into.results.append(max(job.latest.ended or 0.0 for job in compare.jobs if job.latest is not None) - started)
        into.server.append(max(r["queue_seconds"] + r["inference_seconds"] for r in records))
    finally:
        compare.close()


def note_threads(into: Timings) -> None:
    counts: dict[str, int] = {}
    for thread in threading.enumerate():
        name = thread.name.rstrip("0123456789_-").removesuffix("_")  # pool threads numbered
        counts[name] = counts.get(name, 0) + 1
    if sum(counts.values()) > sum(into.threads.values()):
        into.threads = counts


def timed_plain_run(variations: Any, client: Any, concurrency: int, into: Timings) -> None:
    started = time.monotonic()
    records = variations.run(client, concurrency=concurrency, timeout=300)
    into.plain.append(time.monotonic() - started)
    if any(r["state"] != "done" for r in records):
        raise SystemExit("a variation did not finish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.5, help="server latency multiplier (low quality: 1 s x)")
    parser.add_argument("--variations", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from falstudio.client import Client
    from falstudio.sweep import sweep

    def sweeps(tag: str) -> tuple[Any, Any]:
        prompts = [f"a lighthouse on a cliff, {tag} variation {i}" for i in range(args.variations)]
        return sweep({**BASE, "prompt": prompts[0]}, endpoint=ENDPOINT), sweep(BASE, endpoint=ENDPOINT, prompt=prompts)

    one, many = Timings(), Timings()
    with server_process("--latency", str(args.latency), "--concurrency", str(args.variations)) as (url, key):
        client = Client(key, base_url=url, history=False)
        warm_one, warm_many = sweeps("warm-up")  # connections, imports, the engine's caches
        timed_compare(warm_one, client, args.variations, Timings())
        timed_compare(warm_many, client, args.variations, Timings())
        for n in range(args.rounds):
            for kind, (single, multiple) in (
                ("plain", sweeps(f"round {n} plain")),
                ("compare", sweeps(f"round {n} compare")),
            ):
                timed = timed_plain_run if kind == "plain" else timed_compare
                timed(single, client, args.variations, one)
                timed(multiple, client, args.variations, many)
        client.close()

    def row(label: str, name: str) -> tuple[float, float]:
        a, b = statistics.median(getattr(one, name)), statistics.median(getattr(many, name))
        print(f"{label:50}{a:11.3f}{b:15.3f}{b / a:9.2f}x")
        return a, b

    print(f"\nlocal server: {args.variations} workers, latency x{args.latency}; medians of {args.rounds} rounds\n")
    print(f"{'seconds':50}{'1 variation':>11}{f'{args.variations} variations':>15}{'ratio':>10}")
    plain = row("every result in: fs.sweep(...).run()", "plain")
    results = row("every result in: fs.Compare (last job ended)", "results")
    tiles = row("every tile shows its thumbnail: fs.Compare", "tiles")
    row("server side, slowest job: queue + inference", "server")
    ratio = plain[1] / plain[0]
    print(
        f"\ngoal (issue 6): {args.variations} variations finish (every result in, fs.sweep(...).run()) within "
        f"1.2x one variation: {ratio:.2f}x, {'met' if ratio <= 1.2 else 'NOT met'}"
    )
    print(
        f"fs.Compare also downloads and decodes the first pictures while the last results come in: its last "
        f"result {results[1] / results[0]:.2f}x, its last thumbnail {tiles[1] / tiles[0]:.2f}x"
    )
    alive = ", ".join(f"{name} x{count}" for name, count in sorted(many.threads.items()))
    print(
        f"Python threads alive while {args.variations} variations ran in fs.Compare (most at once): "
        f"{sum(many.threads.values())} ({alive})"
    )


if __name__ == "__main__":
    main()
