"""Compare at real scale: 16, 64, 256 and 1024 variations run against a local server in its own process.

Printed per size, beside the targets of issue 24 (and main's figures at 256 tiles measured in that issue):

- widgets: ipywidgets models the Compare made (target: the same at every size);
- state/tile: the grid's saved widget state, JSON without binary buffers, per tile (target ≤ 2 KB), and the
  saved state of every other widget (the axis picker, buttons: the same at every size);
- reader total / final: bytes of the reader view published over the run (display and every update) against the
  size of the final one (target ≤ 3×); the reader view is published as a kernel would (``update_display``);
- messages: bytes of widget messages (state and custom, buffers included) sent over the run, and of thumbnails;
- CPU ms/tile: this process's CPU time (the client, the grid, thumbnails; the server is elsewhere) from run()
  to wait()'s return, per tile (target: about the same at every size, i.e. linear in the tiles).

    .venv/bin/python bench/compare_scale.py [--sizes 16 64 256 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from _server import server_process  # bench/ is on sys.path when a bench runs

ENDPOINT = "fal-ai/gpt-image-1-mini"
MAIN_AT_256 = "main at 256 (issue 24): 3,700 widgets, ~21 KB state/tile, reader 131 MB over the run, 6.4 s CPU"


class Meter:
    """Counts what the widgets send and what the reader view publishes, as a kernel would carry it."""

    def __init__(self) -> None:
        self.messages = 0
        self.buffers = 0
        self.reader: list[int] = []

    def install(self) -> None:
        """Count through public hooks: ``comm.create_comm`` (every widget's messages) and IPython's display
        functions, in a shell that says it has a kernel (so the widgets publish their reader views)."""
        import comm
        import IPython.display
        from comm.base_comm import BaseComm
        from IPython.core.interactiveshell import InteractiveShell

        meter = self

        class CountingComm(BaseComm):
            def publish_msg(
                self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
            ) -> None:
                meter.messages += len(json.dumps(data, default=str))
                meter.buffers += sum(len(b) for b in buffers or ())

        def display(data: dict[str, Any], **kw: Any) -> None:
            if kw.get("display_id") is not None:
                meter.reader.append(len(data.get("text/html", "").encode()))

        def update_display(data: dict[str, Any], **kw: Any) -> None:
            meter.reader.append(len(data.get("text/html", "").encode()))

        comm.create_comm = CountingComm
        IPython.display.display = display
        IPython.display.update_display = update_display
        InteractiveShell.instance().kernel = object()  # type: ignore[attr-defined]


def widget_state_bytes(widgets: list[Any]) -> int:
    from ipywidgets.widgets.widget import _remove_buffers

    total = 0
    for widget in widgets:
        state, _paths, _buffers = _remove_buffers(widget.get_state())
        total += len(json.dumps(state, default=str))
    return total


def measure(size: int, client: Any, meter: Meter) -> dict[str, float]:
    from ipywidgets.widgets.widget import _instances

    import falstudio as fs
    from falstudio.widgets import Compare

    before = set(_instances)
    prompts = [f"a lighthouse, study {k} of {size // 2} ({time.time_ns()})" for k in range(size // 2)]
    variations = fs.sweep({"quality": "low"}, endpoint=ENDPOINT, prompt=prompts, background=["auto", "opaque"])
    compare = Compare(variations, client=client, confirm_above=None, concurrency=16)
    meter.messages = meter.buffers = 0
    meter.reader.clear()
    compare._ipython_display_()  # as a kernel displays it: the live view and the reader view
    cpu = time.process_time()
    compare.run()
    records = compare.wait(1800)
    cpu = time.process_time() - cpu
    made = [w for k, w in _instances.items() if k not in before]
    failed = [r for r in records if r["state"] != "done"]
    if failed:
        raise SystemExit(f"{len(failed)} variations failed: {failed[0]['error']}")
    figures = {
        "widgets": len(made),
        "state_per_tile": widget_state_bytes([compare.grid]) / size,
        "fixed_state": widget_state_bytes([w for w in made if w is not compare.grid]),
        "reader_total": sum(meter.reader),
        "reader_final": meter.reader[-1],
        "messages": meter.messages,
        "buffers": meter.buffers,
        "cpu_ms_per_tile": 1000 * cpu / size,
    }
    compare.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 64, 256, 1024])
    args = parser.parse_args()
    # An empty history folder, as a new user's: the spend line under the grid re-reads today's records on each
    # finished job, which would measure this machine's history rather than the grid.
    os.environ["FALSTUDIO_HISTORY_DIR"] = tempfile.mkdtemp(prefix="falstudio-bench-history-")
    from falstudio.client import Client

    meter = Meter()
    meter.install()
    print(
        f"{'tiles':>6} {'widgets':>8} {'state/tile':>11} {'other state':>12} {'reader total/final':>24} {'ratio':>6} "
        f"{'messages':>10} {'thumbnails':>11} {'CPU ms/tile':>12}"
    )
    with server_process("--latency", "0", "--concurrency", "4") as (url, key):
        client = Client(key, base_url=url, history=False)
        try:
            for size in args.sizes:
                f = measure(size, client, meter)
                ratio = f["reader_total"] / f["reader_final"]
                print(
                    f"{size:>6} {f['widgets']:>8.0f} {f['state_per_tile']:>9.0f} B {f['fixed_state'] / 1e3:>9.1f} KB "
                    f"{f['reader_total'] / 1e6:>10.2f} / {f['reader_final'] / 1e6:.2f} MB {ratio:>6.2f} "
                    f"{f['messages'] / 1e6:>7.2f} MB {f['buffers'] / 1e6:>8.2f} MB {f['cpu_ms_per_tile']:>12.1f}",
                    flush=True,
                )
        finally:
            client.close()
    print("targets: widgets the same at every size; state/tile ≤ 2 KB; reader ratio ≤ 3; CPU ms/tile flat")
    print(MAIN_AT_256)


if __name__ == "__main__":
    main()
