"""Time to the first partial image visible vs time to the final image, for one streamed request, offline.

A ``JobView`` runs one high-quality request through the endpoint's stream on the local server (latency 1:
about 5 s of simulated model time). "Visible" is the moment the panel's preview shows the picture (its
thumbnail made and set), for the first partial image and for the final one. Goal (issue 14): the first
partial within 0.35x the time of the final image. Several rounds, new prompts each; medians printed.

That ratio is mostly the server's own schedule (when it sends each partial); what the client adds is its lag
(issue 29): from the server sending the first partial (or finishing the job) to the panel showing it. The server
runs in this process, so both moments are read from one clock.

GPT Image 2 streams on fal; until its registry rows are here, a seed endpoint is given the streaming
capability for the run (the local server then streams it like GPT Image 2).

    .venv/bin/python bench/streaming.py [--latency 1.0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import threading
import time

ENDPOINT = "openai/gpt-image-2"
FALLBACK = "fal-ai/gpt-image-1-mini"


def streaming_endpoint() -> str:
    from falstudio.endpoints import registry

    if ENDPOINT in registry.REGISTRY:
        return ENDPOINT
    spec = registry.REGISTRY[FALLBACK]
    registry.REGISTRY[FALLBACK] = dataclasses.replace(spec, streaming=True)  # type: ignore[index]
    print(f"({ENDPOINT} is not in the registry yet: {FALLBACK} streams for this run)")
    return FALLBACK


class ServerClock:
    """When the in-process server sent each job's first partial image and finished it (time.monotonic())."""

    def __init__(self) -> None:
        from falstudio.local import jobs

        self.first_partial: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        add_partial, complete = jobs.Job.add_partial, jobs.Job.complete
        clock = self

        def noted_partial(job: jobs.Job, event: dict[str, object]) -> None:
            clock.first_partial.setdefault(job.id, time.monotonic())
            add_partial(job, event)

        def noted_complete(job: jobs.Job, output: dict[str, object]) -> None:
            clock.finished.setdefault(job.id, time.monotonic())
            complete(job, output)

        jobs.Job.add_partial = noted_partial  # type: ignore[method-assign, assignment]
        jobs.Job.complete = noted_complete  # type: ignore[method-assign, assignment]


def one_round(client: object, endpoint: str, prompt: str, clock: ServerClock) -> tuple[float, float, int, float, float]:
    from falstudio.widgets import JobView

    first: list[float] = []
    ended = threading.Event()
    started = time.monotonic()
    job = JobView(endpoint)
    job.on_partial(lambda _image, _count: first.append(time.monotonic()) if not first else None)
    job.on_done(lambda _view: ended.set())
    job.start(client, {"prompt": prompt, "quality": "high"})  # type: ignore[arg-type]
    if not ended.wait(120) or job.state != "done" or not first:
        raise SystemExit(f"the streamed request did not show a partial and finish: {job.state} {job.error}")
    final = time.monotonic()  # on_done runs right after the final image is shown in the panel
    request_id = job.tracked.state.request_id if job.tracked else None
    job.close()
    if request_id not in clock.finished or request_id not in clock.first_partial:
        raise SystemExit(f"the server did not report request {request_id}")
    lag_first = first[0] - clock.first_partial[request_id]
    lag_final = final - clock.finished[request_id]
    partials = job.tracked.state.partials if job.tracked else 0
    return first[0] - started, final - started, partials, lag_first, lag_final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency", type=float, default=1.0, help="server latency multiplier (high: 5 s x)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from falstudio.client import Client
    from falstudio.local import LocalServer

    endpoint = streaming_endpoint()
    firsts, finals, lags_first, lags_final = [], [], [], []
    clock = ServerClock()
    with LocalServer(port=0, latency=args.latency) as server, Client(server.key, base_url=server.url) as client:
        one_round(client, endpoint, "warm-up: a lighthouse", clock)
        for n in range(args.rounds):
            first, final, partials, lag_first, lag_final = one_round(
                client, endpoint, f"a lighthouse on a cliff, round {n}", clock
            )
            firsts.append(first)
            finals.append(final)
            lags_first.append(lag_first)
            lags_final.append(lag_final)
            print(
                f"  round {n}: first partial {first:.2f} s, final image {final:.2f} s ({partials} partials); "
                f"client lag {lag_first * 1000:.0f} / {lag_final * 1000:.0f} ms"
            )
    first, final = statistics.median(firsts), statistics.median(finals)
    ratio = first / final
    print(f"\n{endpoint}, quality high, local server latency x{args.latency}; medians of {args.rounds} rounds")
    print(f"first partial image visible  {first:6.2f} s")
    print(f"final image visible          {final:6.2f} s")
    print("the client's lag behind the server's schedule (server sent it -> the panel shows it):")
    print(f"  first partial image        {statistics.median(lags_first) * 1000:6.0f} ms")
    print(f"  final image                {statistics.median(lags_final) * 1000:6.0f} ms")
    print(f"\ngoal (issue 14): first partial <= 0.35x the final: {ratio:.2f}x, {'met' if ratio <= 0.35 else 'NOT met'}")


if __name__ == "__main__":
    main()
