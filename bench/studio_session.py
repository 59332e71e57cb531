"""A long Studio session (issue 28): 100 jobs driven headless, one after another, against the offline server.

Every ``--every`` jobs it prints, for the Studio and side by side for a peer (the same jobs shown the way the
Studio did before: every job panel kept live, every result in a gallery), the live widgets, the bytes of their
saved widget state (what a saved notebook or a reconnecting browser carries: JSON plus binary buffers) and the
process's memory (RSS). The Studio's figures should level off after the first dozen jobs; the peer's grow with
every job.

    .venv/bin/python bench/studio_session.py [--jobs 100] [--every 10]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import tempfile
from typing import Any

import ipywidgets
from _server import server_process  # bench/ is on sys.path when a bench runs
from ipywidgets.widgets.widget import _instances, _remove_buffers

REQUEST = {"prompt": "a lighthouse on a cliff at sunset", "quality": "low", "image_size": "1024x768"}


def live_widgets() -> list[ipywidgets.Widget]:
    return [w for w in list(_instances.values()) if w.comm is not None]


def state_bytes(widgets: list[ipywidgets.Widget]) -> int:
    total = 0
    for widget in widgets:
        state, _paths, buffers = _remove_buffers(widget.get_state())
        total += len(json.dumps(state, default=str)) + sum(len(b) for b in buffers)
    return total


def rss_mb() -> float:
    try:
        with open(f"/proc/{os.getpid()}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure() -> tuple[int, int, float]:
    gc.collect()
    widgets = live_widgets()
    return len(widgets), state_bytes(widgets), rss_mb()


def run_studio(client: Any, jobs: int, every: int) -> list[tuple[int, int, int, float]]:
    from falstudio.widgets.studio import Studio

    studio = Studio(client, stream=False)
    rows = [(0, *measure())]
    for n in range(1, jobs + 1):
        studio.generate(REQUEST)
        studio.wait(120)
        if n % every == 0:
            rows.append((n, *measure()))
    studio.close()
    return rows


def run_peer(client: Any, jobs: int, every: int) -> list[tuple[int, int, int, float]]:
    """The same jobs the old way: each panel stays live and each result joins one gallery."""
    from falstudio.widgets import Gallery, JobView

    gallery, panels = Gallery(), []
    box = ipywidgets.VBox()
    rows = [(0, *measure())]
    for n in range(1, jobs + 1):
        panel = JobView.submit(client, "openai/gpt-image-2", REQUEST, stream=False)
        panel.wait(120)
        panels.insert(0, panel)
        box.children = [*panels[:4]]
        gallery.add_result(panel.result)
        if n % every == 0:
            rows.append((n, *measure()))
    for panel in panels:
        panel.close()
    gallery.close()
    box.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("FALSTUDIO_HISTORY_DIR", tempfile.mkdtemp(prefix="falstudio-bench-"))
    from falstudio.client import Client

    with server_process("--latency", "0") as (url, key), Client(base_url=url, key=key) as client:
        base = measure()
        studio = run_studio(client, args.jobs, args.every)
        peer = run_peer(client, args.jobs, args.every)
    print(f"Studio session: {args.jobs} jobs (openai/gpt-image-2, 1024x768, offline server); before: {base[0]} widgets")
    print(
        f"{'jobs':>5} | {'Studio widgets':>14} {'state KB':>9} {'RSS MB':>7} | {'peer widgets':>12} {'state KB':>9} "
        f"{'RSS MB':>7} | {'widgets ratio':>13} {'state ratio':>11}"
    )
    for (n, sw, sb, sm), (_n, pw, pb, pm) in zip(studio, peer, strict=True):
        print(
            f"{n:>5} | {sw:>14} {sb / 1024:>9.0f} {sm:>7.0f} | {pw:>12} {pb / 1024:>9.0f} {pm:>7.0f} | "
            f"{pw / max(sw, 1):>13.1f} {pb / max(sb, 1):>11.1f}"
        )
    (n0, w0, b0, m0), (n1, w1, b1, m1) = studio[min(2, len(studio) - 1)], studio[-1]
    if n1 > n0:
        per = n1 - n0
        print(
            f"Studio, jobs {n0}..{n1}: {(w1 - w0) / per:+.2f} widgets, {(b1 - b0) / per / 1024:+.1f} KB of state, "
            f"{(m1 - m0) / per:+.2f} MB of RSS per job"
        )


if __name__ == "__main__":
    main()
