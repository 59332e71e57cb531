"""Load test of the local server over loopback (issue 4): full cycles per second, and 500 open status streams.

Runs ``falstudio serve`` in a subprocess (so server and load generator each get a core), then:

1. cycles: ``--clients`` concurrent clients each loop submit -> poll status (25 ms) -> GET result, with
   latency 0, until ``--cycles`` are done or ``--seconds`` pass. Prints cycles/s, cycle latency and HTTP
   requests/s, and as a peer the same machine's in-process engine rate (images/s at the same quality), so the
   protocol's share of the cost shows as a ratio.
2. streams: a second server (latency ``--stream-latency``, 4 workers) gets ``--stream-jobs`` jobs and
   ``--streams`` SSE status streams spread over them, all open at once; prints how many connected, how many
   ended with COMPLETED, and a plain status GET's latency while they are all open.

    /work/venv/bin/python bench/load_local.py [--cycles 200] [--clients 8] [--streams 500]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from _server import server_process  # bench/ is on sys.path when a bench runs

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=2, help="server workers for the cycles part")
    parser.add_argument("--seconds", type=float, default=60.0, help="time bound of each part")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--stream-jobs", type=int, default=20)
    parser.add_argument("--stream-latency", type=float, default=1.0)
    args = parser.parse_args()

    rate = engine_rate()
    print(f"peer: in-process engine, one thread: {rate:.1f} images/s at quality=low (1024x1024)")
    with serve("--latency", "0", "--concurrency", str(args.concurrency)) as (url, headers):
        asyncio.run(cycles(url, headers, args.cycles, args.clients, args.seconds))
    with serve("--latency", str(args.stream_latency), "--concurrency", "4") as (url, headers):
        asyncio.run(streams(url, headers, args.stream_jobs, args.streams, args.seconds))


if __name__ == "__main__":
    main()
