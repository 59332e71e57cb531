"""Load test of the local server over loopback (issues 4 and 16): full cycles per second, 500 open status
streams, and whether a long run stays bounded.

Runs ``falstudio serve`` in a subprocess (so server and load generator each get a core), then:

1. cycles: ``--clients`` concurrent clients each loop submit -> poll status (25 ms) -> GET result, with
   latency 0, until ``--cycles`` are done or ``--seconds`` pass. Prints cycles/s, cycle latency and HTTP
   requests/s, and as a peer the same machine's in-process engine rate (images/s at the same quality), so the
   protocol's share of the cost shows as a ratio.
2. streams: a second server (latency ``--stream-latency``, 4 workers) gets ``--stream-jobs`` jobs and
   ``--streams`` SSE status streams spread over them, all open at once; prints how many connected, how many
   ended with COMPLETED, and a plain status GET's latency while they are all open.
3. growth: a third server with retention limits (``--max-storage-mb``, ``--max-jobs``: the ``serve`` flags)
   gets ``--growth-jobs`` full cycles; every tenth of the way it prints the server's RSS and the bytes in its
   storage folder, which must level off at the limits instead of growing with every job.

    .venv/bin/python bench/load_local.py [--cycles 200] [--clients 8] [--streams 500] [--growth-jobs 5000]
    .venv/bin/python bench/load_local.py --parts growth   # only the third part
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _server import served, server_process  # bench/ is on sys.path when a bench runs

ENDPOINT = "fal-ai/gpt-image-1-mini"
BODY = {"prompt": "a cabin by a lake with mountains", "quality": "low"}


@contextmanager
def serve(*options: str) -> Iterator[tuple[str, dict[str, str]]]:
    with server_process(*options) as (url, key):
        yield url, {"Authorization": f"Key {key}"}


async def cycles(url: str, headers: dict[str, str], count: int, clients: int, seconds: float) -> None:
    latencies: list[float] = []
    requests = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:

        async def client() -> None:
            nonlocal requests
            while len(latencies) < count and time.monotonic() < deadline:
                start = time.monotonic()
                sub = (await http.post(f"/{ENDPOINT}", json=BODY)).json()
                requests += 1
                while True:
                    status = (await http.get(sub["status_url"])).json()
                    requests += 1
                    if status["status"] == "COMPLETED":
                        break
                    await asyncio.sleep(0.025)
                result = await http.get(sub["response_url"])
                requests += 1
                assert result.status_code == 200 and result.json()["images"], result.text
                latencies.append(time.monotonic() - start)

        start = time.monotonic()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - start
    done = len(latencies)
    q = statistics.quantiles(latencies, n=20) if done >= 20 else [max(latencies)] * 19
    print(
        f"cycles: {done} full submit->status->result cycles in {elapsed:.1f} s = {done / elapsed:.1f} cycles/s "
        f"({clients} clients); {requests / elapsed:.0f} HTTP requests/s"
    )
    print(f"cycle latency: median {statistics.median(latencies) * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms")
    return None


def engine_rate(runs: int = 8) -> float:
    from falstudio.local.engines import generate

    generate(BODY, ENDPOINT)
    start = time.perf_counter()
    for i in range(runs):
        generate({**BODY, "prompt": f"{BODY['prompt']} {i}"}, ENDPOINT)
    return runs / (time.perf_counter() - start)


async def streams(url: str, headers: dict[str, str], jobs: int, total: int, seconds: float) -> None:
    limits = httpx.Limits(max_connections=total + 20, max_keepalive_connections=20)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=httpx.Timeout(seconds), limits=limits) as http:
        subs = [(await http.post(f"/{ENDPOINT}", json={**BODY, "prompt": f"job {i}"})).json() for i in range(jobs)]
        connected = asyncio.Event()
        first_event: list[float] = []
        finals: list[str] = []

        async def listen(status_url: str) -> None:
            last = None
            async with http.stream("GET", status_url + "/stream", params={"logs": "1"}) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        if last is None:
                            first_event.append(time.monotonic() - start)
                            if len(first_event) == total:
                                connected.set()
                        last = json.loads(line[6:])["status"]
            finals.append(last or "none")

        start = time.monotonic()
        tasks = [asyncio.create_task(listen(subs[i % jobs]["status_url"])) for i in range(total)]
        try:
            await asyncio.wait_for(connected.wait(), seconds)
        except TimeoutError:
            pass
        opened = len(first_event)
        probe_start = time.monotonic()
        probe = await http.get(subs[-1]["status_url"])
        probe_ms = (time.monotonic() - probe_start) * 1000
        await asyncio.wait(tasks, timeout=seconds)
        elapsed = time.monotonic() - start
        for task in tasks:
            task.cancel()
    completed = finals.count("COMPLETED")
    waits = sorted(first_event) or [float("nan")]
    print(
        f"streams: {opened}/{total} open at once over {jobs} jobs (first event after median "
        f"{statistics.median(waits) * 1000:.0f} ms, slowest {waits[-1] * 1000:.0f} ms); "
        f"{completed}/{total} ended with COMPLETED after {elapsed:.1f} s"
    )
    print(f"a status GET while {opened} streams were open: HTTP {probe.status_code} in {probe_ms:.0f} ms")


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def disk_mb(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass  # removed by retention while we looked
    return total / 1024 / 1024


async def growth(url: str, headers: dict[str, str], pid: int, folder: Path, jobs: int, clients: int) -> None:
    started_jobs = done = 0
    step = max(1, jobs // 10)
    samples: list[tuple[int, float, float]] = [(0, rss_mb(pid), disk_mb(folder))]
    limits = httpx.Limits(max_connections=clients * 2, max_keepalive_connections=clients * 2)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:

        async def client() -> None:
            nonlocal started_jobs, done
            while started_jobs < jobs:
                started_jobs += 1
                body = {**BODY, "prompt": f"{BODY['prompt']} {started_jobs}"}
                sub = (await http.post(f"/{ENDPOINT}", json=body)).json()
                while (await http.get(sub["status_url"])).json()["status"] != "COMPLETED":
                    await asyncio.sleep(0.01)
                result = await http.get(sub["response_url"])
                assert result.status_code == 200, result.text
                done += 1
                if done % step == 0:
                    samples.append((done, rss_mb(pid), disk_mb(folder)))

        await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.monotonic() - started
    print(f"growth: {jobs} jobs in {elapsed:.0f} s; server RSS and storage folder as the jobs went by:")
    print("     jobs   RSS MB   disk MB")
    for count, rss, disk in samples:
        print(f"  {count:7d}  {rss:7.1f}  {disk:8.1f}")
    half = [s for s in samples if s[0] >= jobs // 2]
    rss_spread = max(s[1] for s in half) - min(s[1] for s in half)
    disk_spread = max(s[2] for s in half) - min(s[2] for s in half)
    print(
        f"second half: RSS within {rss_spread:.1f} MB, disk within {disk_spread:.1f} MB "
        f"(+{(samples[-1][1] - half[0][1]) * 1024 / max(1, samples[-1][0] - half[0][0]):.2f} KB RSS per job)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2, help="server workers for the cycles part")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound of each part")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--stream-jobs", type=int, default=20)
    parser.add_argument("--stream-latency", type=float, default=1.0)
    parser.add_argument("--growth-jobs", type=int, default=5000)
    parser.add_argument("--growth-storage-mb", type=float, default=64.0, help="the server's --max-storage-mb")
    parser.add_argument("--growth-max-jobs", type=int, default=500, help="the server's --max-jobs")
    parser.add_argument("--parts", default="cycles,streams,growth", help="which parts to run (comma-separated)")
    args = parser.parse_args()
    parts = set(args.parts.split(","))

    if "cycles" in parts:
        rate = engine_rate()
        print(f"peer: in-process engine, one thread: {rate:.1f} images/s at quality=low (1024x1024)")
        with serve("--latency", "0", "--concurrency", str(args.concurrency)) as (url, headers):
            asyncio.run(cycles(url, headers, args.cycles, args.clients, args.seconds))
    if "streams" in parts:
        with serve("--latency", str(args.stream_latency), "--concurrency", "4") as (url, headers):
            asyncio.run(streams(url, headers, args.stream_jobs, args.streams, args.seconds))
    if "growth" in parts:
        with tempfile.TemporaryDirectory(prefix="falstudio-bench-") as folder:
            options = ["--latency", "0", "--concurrency", str(args.concurrency), "--storage-dir", folder]
            options += ["--max-storage-mb", str(args.growth_storage_mb), "--max-jobs", str(args.growth_max_jobs)]
            print(
                f"growth: falstudio serve {' '.join(options[:-5])} ... --max-storage-mb {args.growth_storage_mb:g} "
                f"--max-jobs {args.growth_max_jobs}"
            )
            with served(*options) as server:
                headers = {"Authorization": f"Key {server.key}"}
                asyncio.run(growth(server.url, headers, server.pid, Path(folder), args.growth_jobs, args.clients))


if __name__ == "__main__":
    main()
