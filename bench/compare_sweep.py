"""fs.Compare: 16 variations at once against one variation, on a local server that runs 16 jobs at a time.

Each job is a low-quality 1024x1024 request, which the local server runs for 1 s x ``latency`` (0.5 s by
default). The time counted is from ``compare.run()`` until ``compare.wait()`` returns, i.e. until every tile
shows its thumbnail (image download and resize included). Several rounds; medians are printed.

Goal (issue 6): 16 variations within 1.2x the time of a single one. To tell the client's part from the
server's, it also prints the server-side time of the slowest job (queue wait + inference, as the results
report them), what the client adds on top (submit, status, result, image download and thumbnail), and the
same sweep through the plain ``fs.sweep(...).run()`` (results only, no thumbnails). The local server renders
with Pillow on the CPU in its own process (as fal runs on its own machines), sharing this machine's cores.

    /work/venv/bin/python bench/compare_sweep.py [--latency 0.5] [--variations 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from _server import server_process  # bench/ is on sys.path when a bench runs

ENDPOINT = "fal-ai/gpt-image-1-mini"
BASE = {"quality": "low", "image_size": "1024x1024"}


def timed_compare(variations: Any, client: Any, concurrency: int) -> tuple[float, list[dict[str, Any]]]:
    from falstudio.widgets import Compare

    compare = Compare(variations, client=client, concurrency=concurrency, confirm_above=None)
    try:
        started = time.perf_counter()
        compare.run()
        results = compare.wait(300)
        return time.perf_counter() - started, results
    finally:
        compare.close()


def timed_plain_run(variations: Any, client: Any, concurrency: int) -> float:
    started = time.perf_counter()
    records = variations.run(client, concurrency=concurrency, timeout=300)
    if any(r["state"] != "done" for r in records):
        raise SystemExit("a variation did not finish")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=0.5, help="server latency multiplier (low quality: 1 s x)")
    parser.add_argument("--variations", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from falstudio.client import Client
    from falstudio.sweep import sweep

    prompts = [f"a lighthouse on a cliff, variation {i}" for i in range(args.variations)]
    one = sweep({**BASE, "prompt": prompts[0]}, endpoint=ENDPOINT)
    many = sweep(BASE, endpoint=ENDPOINT, prompt=prompts)
    with server_process("--latency", str(args.latency), "--concurrency", str(args.variations)) as (url, key):
        client = Client(key, base_url=url, history=False)
        timed_compare(one, client, args.variations)  # warm up: connections, imports, the engine
        singles, sweeps, spans = [], [], {"one": [], "many": []}
        plain: dict[str, list[float]] = {"one": [], "many": []}
        for _ in range(args.rounds):
            plain["one"].append(timed_plain_run(one, client, args.variations))
            plain["many"].append(timed_plain_run(many, client, args.variations))
            for name, variations, walls in (("one", one, singles), ("many", many, sweeps)):
                wall, results = timed_compare(variations, client, args.variations)
                failed = [r for r in results if r["state"] != "done"]
                if failed:
                    raise SystemExit(f"{len(failed)} variations did not finish: {failed[0]['error']}")
                walls.append(wall)
                spans[name].append(max(r["queue_seconds"] + r["inference_seconds"] for r in results))
        client.close()

    single, together = statistics.median(singles), statistics.median(sweeps)
    span_one, span_many = statistics.median(spans["one"]), statistics.median(spans["many"])
    ratio = together / single
    print(f"\nlocal server: {args.variations} workers, latency x{args.latency}; medians of {args.rounds} rounds\n")
    print(f"{'':44}{'1 variation':>13}{f'{args.variations} variations':>15}")
    print(f"{'wall until every tile shows (s)':44}{single:13.2f}{together:15.2f}")
    print(f"{'server side, slowest job: queue+inference (s)':44}{span_one:13.2f}{span_many:15.2f}")
    print(f"{'client on top of that (s)':44}{single - span_one:13.2f}{together - span_many:15.2f}")
    plain_one, plain_many = statistics.median(plain["one"]), statistics.median(plain["many"])
    print(f"{'fs.sweep(...).run(), every result in (s)':44}{plain_one:13.2f}{plain_many:15.2f}")
    print(f"\n{args.variations} variations / 1 variation: {ratio:.2f}x (goal <= 1.2x: "
          f"{'met' if ratio <= 1.2 else 'NOT met'}); server side alone: {span_many / span_one:.2f}x; "
          f"plain run, results only: {plain_many / plain_one:.2f}x")


if __name__ == "__main__":
    main()
