"""A snapshot that arrives late: the tile keeps showing the run's newest state of its variation.

(That a request's end is final, whatever arrives later, is the tracked request's: tests/client/test_tracking.py.)
"""

from __future__ import annotations

import dataclasses

from falstudio.client import Client
from falstudio.sweep import sweep
from falstudio.widgets import Compare

MINI = "fal-ai/gpt-image-1-mini"


def test_a_stale_snapshot_arriving_late_leaves_the_tile_showing_the_newest_state(client: Client) -> None:
    compare = Compare(sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        compare.run()
        compare.wait(120)
        tile, done = compare._tiles[1], compare.jobs[1]
        assert done.state == "done" and "State:</span> done" in tile.html()
        assert done.latest is not None
        stale = dataclasses.replace(done.latest, phase="running", result=None)  # a slower thread's snapshot
        compare._job_changed(dataclasses.replace(done, latest=stale))
        assert tile.job.state == "done" and "State:</span> done" in tile.html()
    finally:
        compare.close()


def test_a_late_snapshot_of_an_earlier_run_never_reaches_the_next_run_s_tiles(client: Client) -> None:
    compare = Compare(sweep({"prompt": "a grey owl"}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        compare.run()
        compare.wait(120)
        first, earlier = compare._run, compare.jobs[1]
        assert first is not None and earlier.state == "done"
        compare.run()
        compare.wait(120)
        tile = compare._tiles[1]
        newer = tile.job
        assert newer.request_id != earlier.request_id
        first._on_change(earlier)  # type: ignore[misc]  # the first run's callback, delivering late
        assert tile.job.request_id == newer.request_id
    finally:
        compare.close()
