"""The client loop's HTTP cost: CPU per request through httpx's default async transport (anyio, httpcore's pool)
and through falstudio's loop transport (``falstudio.client._transport``), side by side, against one local server
in its own process; a blocking ``httpx.Client`` as the floor.

Each figure is the calling thread's CPU time over ``--rounds`` batches of N requests sent at once (N = 1 and
32: a sweep's first wave), divided by the requests; a cheap GET (an unknown request's status), so the figure is
the client's cost, not the server's. Rounds alternate the transports (the machine's load drifts).

    .venv/bin/python bench/transport.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx
from _server import server_process  # bench/ is on sys.path when a bench runs

from falstudio._internal.tls import default_context
from falstudio.client._transport import loop_transport

LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=32)  # the client's own


async def per_request(client: httpx.AsyncClient, url: str, at_once: int, rounds: int) -> float:
    """CPU ms per request: ``rounds`` batches of ``at_once`` requests sent together."""
    await asyncio.gather(*(client.get(url) for _ in range(at_once)))  # connections opened before measuring
    started = time.thread_time()
    for _ in range(rounds):
        await asyncio.gather(*(client.get(url) for _ in range(at_once)))
    return (time.thread_time() - started) / (rounds * at_once) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with server_process("--latency", "0") as (url, key):
        status = f"{url}/fal-ai/gpt-image-1-mini/requests/none/status"
        headers = {"Authorization": f"Key {key}"}
        figures: dict[tuple[str, int], list[float]] = {}

        async def measure() -> None:
            for _ in range(3):
                for name in ("httpx default", "falstudio loop"):
                    transport = loop_transport(verify=default_context(), limits=LIMITS) if "loop" in name else None
                    async with httpx.AsyncClient(headers=headers, limits=LIMITS, transport=transport) as client:
                        for at_once in (1, 32):
                            cost = await per_request(client, status, at_once, args.rounds)
                            figures.setdefault((name, at_once), []).append(cost)

        asyncio.run(measure())
        with httpx.Client(headers=headers) as blocking:
            blocking.get(status)
            started = time.thread_time()
            for _ in range(args.rounds * 8):
                blocking.get(status)
            floor = (time.thread_time() - started) / (args.rounds * 8) * 1000
    print("CPU ms per request (median of 3 runs)")
    print(f"{'':18}{'1 at once':>12}{'32 at once':>12}")
    for name in ("httpx default", "falstudio loop"):
        print(f"{name:18}" + "".join(f"{statistics.median(figures[name, n]):12.3f}" for n in (1, 32)))
    print(f"{'blocking httpx':18}{floor:12.3f}{'':>12}  (one at a time)")
    ratio = statistics.median(figures["httpx default", 32]) / statistics.median(figures["falstudio loop", 32])
    print(f"32 at once: the loop transport costs 1/{ratio:.1f} of httpx's default")


if __name__ == "__main__":
    main()
