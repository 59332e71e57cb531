"""A sweep through falstudio (history on and off) beside fal-client (threads and asyncio), on one local server.

Each configuration runs in a fresh process of its own (so its CPU time and memory are its own), against one
local server in another process (as fal runs elsewhere), interleaved in the same run. Every job is a
low-quality 1024x1024 request with a prompt of its own; the server runs each for 1 s x ``latency`` (0: as fast
as it renders). Printed per configuration:

- wall: from the first submit to the last result in (falstudio: ``SweepRun``; fal-client: ``subscribe``);
- client CPU per job: the client process's CPU time (every thread) over the run, the history catching up
  included, divided by the jobs;
- request-id wait p50 / p90: from a job's slot being free (the run's start for the first wave, else the job's
  start, as an earlier one ended) to its request id known; then its p90 in the
  first wave (as many jobs as run at once, all free together), the second (started as the first ones end) and
  the rest, for every client: at 256 jobs the first two waves are a quarter of the jobs, and set the p90;
- RSS per job: the client process's resident memory after the run (results still held, history caught up)
  minus before it, divided by the jobs.

First it prints how long building a sweep of 8,192 variations takes (CPU time, best of 5).

Goals (issue 29): 8,192 variations build in <= 30 ms; history on: CPU per job <= 2x history off; request-id
wait p90 <= 50 ms; 1,024 one-second jobs at concurrency 32 within 1.05x fal-client's time (threads); <= 40 KB
per job. The machine's other work moves wall times; CPU times and the side-by-side ratios move less.

    .venv/bin/python bench/sweep_clients.py [--jobs 256 1024] [--latency 0 1] [--concurrency 32] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from _server import served  # bench/ is on sys.path when a bench runs

ENDPOINT = "fal-ai/gpt-image-1-mini"
BASE = {"quality": "low", "image_size": "1024x1024"}
CLIENTS = ("falstudio, history on", "falstudio, history off", "fal-client, threads", "fal-client, asyncio")


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def prompts(jobs: int) -> list[str]:
    token = uuid.uuid4().hex[:8]  # new prompts each run: nothing measured was rendered before
    return [f"a lighthouse on a cliff at dusk, take {i} ({token})" for i in range(jobs)]


def run_falstudio(url: str, key: str, jobs: int, concurrency: int, history: bool) -> dict[str, Any]:
    import falstudio as fs
    from falstudio.client import recorder
    from falstudio.sweep import SweepRun

    client = fs.Client(key, base_url=url, history=history)
    client.subscribe(ENDPOINT, {"prompt": "warm-up", **BASE})
    recorder.flush()
    variations = fs.sweep(BASE, endpoint=ENDPOINT, prompt=prompts(jobs))
    waits: dict[int, float] = {}
    opened = [0.0]

    def changed(job: Any) -> None:
        index = job.variation.index
        if job.request_id and index not in waits and job.latest is not None:
            waits[index] = time.monotonic() - slot_free(index, job.latest.started, opened[0], concurrency)

    def go() -> Any:
        run = SweepRun(variations, client, concurrency=concurrency, on_change=changed)
        opened[0] = time.monotonic()
        run.start()
        run.wait()
        return run.records()

    return measured(go, recorder.flush, waits, jobs)


def run_fal_threads(url: str, key: str, jobs: int, concurrency: int) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    fal_client = fal_module(url)
    client = fal_client.SyncClient(key=key)
    client.subscribe(ENDPOINT, {"prompt": "warm-up", **BASE})
    waits: dict[int, float] = {}
    opened = [0.0]

    def one(index: int, prompt: str) -> Any:
        started = slot_free(index, time.monotonic(), opened[0], concurrency)

        def enqueued(_: str) -> None:
            waits[index] = time.monotonic() - started

        return client.subscribe(ENDPOINT, {"prompt": prompt, **BASE}, on_enqueue=enqueued)

    def go() -> Any:
        opened[0] = time.monotonic()
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, range(jobs), prompts(jobs)))

    return measured(go, lambda: None, waits, jobs)


def run_fal_asyncio(url: str, key: str, jobs: int, concurrency: int) -> dict[str, Any]:
    import asyncio

    fal_client = fal_module(url)
    waits: dict[int, float] = {}

    async def main() -> Any:
        client = fal_client.AsyncClient(key=key)
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int, prompt: str) -> Any:
            async with gate:
                started = slot_free(index, time.monotonic(), opened, concurrency)

                def enqueued(_: str) -> None:
                    waits[index] = time.monotonic() - started

                return await client.subscribe(ENDPOINT, {"prompt": prompt, **BASE}, on_enqueue=enqueued)

        await client.subscribe(ENDPOINT, {"prompt": "warm-up", **BASE})
        opened = time.monotonic()
        return await measured_async(lambda: asyncio.gather(*(one(i, p) for i, p in enumerate(prompts(jobs)))))

    return dict(asyncio.run(main()), waits=sorted(waits.items()))


def slot_free(index: int, started: float, opened: float, concurrency: int) -> float:
    """When job ``index``'s slot was free: the run's start (``opened``) for the first wave, whenever the client
    starts it (all at once, or one after another), else when the job started (an earlier one ended)."""
    return opened if index < concurrency else started


def fal_module(url: str) -> Any:
    import fal_client
    import fal_client.client as module

    # fal-client has no base_url option: point its URL constants at the server (protocol notes §6.1).
    module.QUEUE_URL_FORMAT = f"{url}/"
    module.RUN_URL_FORMAT = f"{url}/run/"
    module.REST_URL = url
    module.CDN_URL = url
    return fal_client


def measured(go: Callable[[], Any], settle: Callable[[], object], waits: dict[int, float], jobs: int) -> dict[str, Any]:
    memory, cpu, started = rss(), time.process_time(), time.perf_counter()
    results = go()
    wall = time.perf_counter() - started
    settle()  # the history catching up is the client's work too
    figures = {"wall": wall, "cpu": time.process_time() - cpu, "rss": rss() - memory, "waits": sorted(waits.items())}
    assert len(results) == jobs
    return figures


async def measured_async(go: Callable[[], Any]) -> dict[str, Any]:
    memory, cpu, started = rss(), time.process_time(), time.perf_counter()
    results = await go()
    wall = time.perf_counter() - started
    return {"wall": wall, "cpu": time.process_time() - cpu, "rss": rss() - memory, "results": len(results)}


def child(name: str, url: str, key: str, jobs: int, concurrency: int) -> None:
    if name.startswith("falstudio"):
        figures = run_falstudio(url, key, jobs, concurrency, history=name.endswith("on"))
    elif name.endswith("threads"):
        figures = run_fal_threads(url, key, jobs, concurrency)
    else:
        figures = run_fal_asyncio(url, key, jobs, concurrency)
    print(json.dumps(figures))


def spawn(name: str, url: str, key: str, jobs: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="falstudio-bench-history-") as folder:
        env = {**os.environ, "FALSTUDIO_HISTORY_DIR": folder}
        command = [sys.executable, __file__, "--child", name, url, key, str(jobs), str(concurrency)]
        out = subprocess.run(command, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def merged(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several rounds of one configuration: the median of each figure, every request-id wait."""
    figures: dict[str, Any] = {k: statistics.median(run[k] for run in runs) for k in ("wall", "cpu", "rss")}
    figures["waits"] = [wait for run in runs for wait in run["waits"]]
    return figures


def percentile(waits: list[list[float]], q: float, waves: range | None = None, concurrency: int = 1) -> float:
    """The ``q`` quantile of the request-id waits (``[index, seconds]`` pairs); ``waves``: of those jobs only (job
    ``i`` is in wave ``i // concurrency``: every client starts jobs in order)."""
    ordered = sorted(w for i, w in waits if waves is None or int(i) // concurrency in waves)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def table(latency: float, jobs: int, concurrency: int, rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{jobs} jobs at concurrency {concurrency}, server latency x{latency:g}")
    print(f"{'':26}{'wall s':>8}{'vs fal thr':>11}{'CPU ms/job':>11}{'id p50 ms':>10}{'id p90 ms':>10}{'KB/job':>8}")
    fal_wall = rows["fal-client, threads"]["wall"]
    for name, f in rows.items():
        print(
            f"{name:26}{f['wall']:8.2f}{f['wall'] / fal_wall:10.2f}x{f['cpu'] / jobs * 1000:11.2f}"
            f"{percentile(f['waits'], 0.5) * 1000:10.1f}{percentile(f['waits'], 0.9) * 1000:10.1f}"
            f"{f['rss'] / jobs / 1024:8.1f}"
        )
    waves = (("first wave", range(0, 1)), ("second", range(1, 2)), ("the rest", range(2, jobs)))
    print(f"{'request-id wait p90, ms':26}" + "".join(f"{name:>14}" for name, _ in waves))
    for name, f in rows.items():
        p90s = [percentile(f["waits"], 0.9, span, concurrency) * 1000 for _, span in waves]
        print(f"{name:26}" + "".join(f"{p90:14.1f}" for p90 in p90s))
    on, off = rows["falstudio, history on"], rows["falstudio, history off"]
    cpu_ratio = on["cpu"] / off["cpu"]
    p90 = percentile(on["waits"], 0.9) * 1000
    per_job = on["rss"] / jobs / 1024
    print("goals, history on:")
    print(f"  CPU per job <= 2x history off: {cpu_ratio:.2f}x ({'met' if cpu_ratio <= 2 else 'NOT met'})")
    print(f"  request-id wait p90 <= 50 ms: {p90:.1f} ms ({'met' if p90 <= 50 else 'NOT met'})")
    print(f"  <= 40 KB per job: {per_job:.1f} KB ({'met' if per_job <= 40 else 'NOT met'})")
    if latency == 1 and jobs >= 1024:
        ratio = on["wall"] / fal_wall
        print(f"  within 1.05x fal-client's time: {ratio:.2f}x ({'met' if ratio <= 1.05 else 'NOT met'})")


def build_time(variations: int = 8192, rounds: int = 5) -> None:
    """Building a sweep of ``variations`` (one prompt axis; each variation validated): CPU ms, best of rounds."""
    import falstudio as fs

    fs.sweep(BASE, endpoint=ENDPOINT, prompt=["warm-up"])
    times = []
    for _ in range(rounds):
        axis = prompts(variations)
        started = time.process_time()
        fs.sweep(BASE, endpoint=ENDPOINT, prompt=axis)
        times.append(time.process_time() - started)
    best = min(times) * 1000
    print(f"building {variations:,} variations: {best:.1f} ms CPU, best of {rounds} ", end="")
    print(f"(goal, issue 29: <= 30 ms: {'met' if best <= 30 else 'NOT met'})")


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        name, url, key, jobs, concurrency = sys.argv[2:7]
        child(name, url, key, int(jobs), int(concurrency))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--latency", type=float, nargs="+", default=[0.0, 1.0])
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--clients", nargs="+", default=list(CLIENTS), choices=CLIENTS)
    parser.add_argument("--rounds", type=int, default=1, help="runs of each configuration (medians printed)")
    args = parser.parse_args()
    build_time()
    for latency in args.latency:
        with served("--latency", str(latency), "--concurrency", str(args.concurrency)) as server:
            for jobs in args.jobs:
                runs: dict[str, list[dict[str, Any]]] = {name: [] for name in args.clients}
                for round_ in range(args.rounds):  # each round in another order: the machine's load drifts
                    order = args.clients[round_ % len(args.clients) :] + args.clients[: round_ % len(args.clients)]
                    for name in order:
                        runs[name].append(spawn(name, server.url, server.key, jobs, args.concurrency))
                rows = {name: merged(runs[name]) for name in args.clients}
                if set(rows) == set(CLIENTS):
                    table(latency, jobs, args.concurrency, rows)
                else:
                    print(f"\n{jobs} jobs at concurrency {args.concurrency}, server latency x{latency:g}")
                    for name, f in rows.items():
                        print(
                            f"{name:26} wall {f['wall']:.2f} s, CPU {f['cpu'] / jobs * 1000:.2f} ms/job, request-id "
                            f"wait p50 {percentile(f['waits'], 0.5) * 1000:.1f} / p90 "
                            f"{percentile(f['waits'], 0.9) * 1000:.1f} ms, {f['rss'] / jobs / 1024:.1f} KB/job"
                        )


if __name__ == "__main__":
    main()
