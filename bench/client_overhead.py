"""falstudio's subscribe vs fal-client's subscribe, against one local server, side by side.

Prints, for jobs of a fixed server time (the server's ``latency``):
- completion-detection overhead: wall time of ``subscribe`` minus the job's server time
  (``metrics.inference_time``), median over the jobs;
- HTTP requests per job (counted on the client side, at ``httpx`` ``send``; connection reuse aside);
- 16 concurrent jobs' wall time against one job's.

Goals (issue 3): overhead at most a quarter of fal-client's, at most 4 requests per job, 16 concurrent jobs
within 1.2x one job.

    /work/venv/bin/python bench/client_overhead.py [--latency 1.0] [--jobs 10]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from _server import server_process  # bench/ is on sys.path when a bench runs

ENDPOINT = "fal-ai/gpt-image-1-mini"
ARGUMENTS = {"prompt": "a red square on a white table", "quality": "low", "image_size": "1024x1024"}


class RequestCounter:
    """Counts every request httpx sends (sync and async clients, retries and streams included)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()
        sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send
        counter = self

        def counted_sync(client: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
            counter._add()
            return sync_send(client, request, **kw)

        async def counted_async(client: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> httpx.Response:
            counter._add()
            return await async_send(client, request, **kw)

        httpx.Client.send = counted_sync  # type: ignore[method-assign]
        httpx.AsyncClient.send = counted_async  # type: ignore[method-assign]

    def _add(self) -> None:
        with self._lock:
            self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=1.0, help="server time per job, seconds")
    parser.add_argument("--jobs", type=int, default=10, help="sequential jobs per client")
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of concurrent jobs (median taken)")
    args = parser.parse_args()

    import fal_client
    import fal_client.client as fal_module

    from falstudio.client import Client

    counter = RequestCounter()
    with server_process("--latency", str(args.latency), "--concurrency", str(args.concurrent * 2)) as (url, key):
        # fal-client has no base_url option: point its URL constants at the server (protocol notes §6.1).
        fal_module.QUEUE_URL_FORMAT = f"{url}/"
        fal_module.RUN_URL_FORMAT = f"{url}/run/"
        fal_module.REST_URL = url
        fal_module.CDN_URL = url
        fal = fal_client.SyncClient(key=key)
        ours = Client(key, base_url=url, history=False)
        probe = Client(key, base_url=url, history=False)  # reads server times, not counted

        def run_ours() -> str:
            return ours.subscribe(ENDPOINT, ARGUMENTS).request_id

        def run_fal() -> str:
            ids: list[str] = []
            fal.subscribe(ENDPOINT, ARGUMENTS, on_enqueue=ids.append)
            return ids[0]

        clients: dict[str, Callable[[], str]] = {"falstudio": run_ours, "fal-client": run_fal}
        for run in clients.values():  # warm up connections and imports
            run()

        def server_time(request_id: str) -> float:
            status = probe.status(ENDPOINT, request_id)
            return float(getattr(status, "metrics", {}).get("inference_time") or 0.0)

        overhead: dict[str, list[float]] = {name: [] for name in clients}
        requests: dict[str, int] = dict.fromkeys(clients, 0)
        single: dict[str, list[float]] = {name: [] for name in clients}
        served: list[float] = []
        for _ in range(args.jobs):
            for name, run in clients.items():  # interleaved, so drift hits both alike
                before = counter.count
                started = time.perf_counter()
                request_id = run()
                wall = time.perf_counter() - started
                requests[name] += counter.count - before
                served.append(server_time(request_id))
                overhead[name].append(wall - served[-1])
                single[name].append(wall)

        walls: dict[str, list[float]] = {name: [] for name in clients}
        slowest_times: dict[str, list[float]] = {name: [] for name in clients}
        for _ in range(args.rounds):  # the median of a few rounds: this machine's load comes and goes
            for name, run in clients.items():
                with ThreadPoolExecutor(args.concurrent) as pool:
                    started = time.perf_counter()
                    ids = list(pool.map(lambda _, run=run: run(), range(args.concurrent)))
                    walls[name].append(time.perf_counter() - started)
                slowest_times[name].append(max(server_time(i) for i in ids))
        together = {name: statistics.median(v) for name, v in walls.items()}
        slowest = {name: statistics.median(v) for name, v in slowest_times.items()}
        ours.close()
        probe.close()

    print(f"\n{args.jobs} jobs per client, server latency multiplier {args.latency:.2f}, server {url}\n")
    print(f"{'':38}{'falstudio':>12}{'fal-client':>12}")
    rows = [
        ("overhead, median (ms)", {n: statistics.median(v) * 1000 for n, v in overhead.items()}, "{:12.1f}"),
        ("overhead, max (ms)", {n: max(v) * 1000 for n, v in overhead.items()}, "{:12.1f}"),
        ("HTTP requests per job", {n: requests[n] / args.jobs for n in clients}, "{:12.1f}"),
        ("one job, median wall (s)", {n: statistics.median(v) for n, v in single.items()}, "{:12.2f}"),
        (f"{args.concurrent} concurrent jobs, median wall (s)", together, "{:12.2f}"),
        (
            f"{args.concurrent} concurrent / one job",
            {n: together[n] / statistics.median(single[n]) for n in clients},
            "{:11.2f}x",
        ),
        ("  the slowest job's server time (s)", slowest, "{:12.2f}"),
        ("  wall minus that (ms)", {n: (together[n] - slowest[n]) * 1000 for n in clients}, "{:12.1f}"),
    ]
    for label, values, fmt in rows:
        print(f"{label:38}" + "".join(fmt.format(values[n]) for n in clients))
    ours_overhead = statistics.median(overhead["falstudio"])
    fal_overhead = statistics.median(overhead["fal-client"])
    ratio = together["falstudio"] / statistics.median(single["falstudio"])
    print("\ngoals:")
    print(
        f"  overhead <= 1/4 of fal-client's: {ours_overhead * 1000:.1f} ms vs {fal_overhead * 1000:.1f} ms "
        f"-> {ours_overhead / fal_overhead:.2f} ({'met' if ours_overhead <= fal_overhead / 4 else 'NOT met'})"
    )
    per_job = requests["falstudio"] / args.jobs
    print(f"  <= 4 requests per job: {per_job:.1f} ({'met' if per_job <= 4 else 'NOT met'})")
    print(
        f"  {args.concurrent} concurrent within 1.2x one job: {ratio:.2f}x ({'met' if ratio <= 1.2 else 'NOT met'}; "
        f"the server's own time for the slowest job was {slowest['falstudio'] / statistics.median(served):.2f}x "
        "a lone job's)"
    )


if __name__ == "__main__":
    main()
