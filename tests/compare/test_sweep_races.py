"""Status updates that race with the result: a job that has ended stays ended, in the run and in its tile."""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

from falstudio.client import Client, InProgress
from falstudio.sweep import SweepRun, sweep
from falstudio.widgets import Compare

MINI = "fal-ai/gpt-image-1-mini"


class _ResultWinsTheRace:
    """The run's lock, except that the first time it is taken the job has just ended (as a worker would)."""

    def __init__(self, run: SweepRun, index: int) -> None:
        self.run, self.index, self.inner, self.fired = run, index, threading.Lock(), False

    def __enter__(self) -> Any:
        if not self.fired:
            self.fired = True
            self.run._jobs[self.index] = dataclasses.replace(self.run._jobs[self.index], state="done")
        return self.inner.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self.inner.__exit__(*exc)


def test_a_running_status_that_loses_the_race_to_the_result_does_not_undo_done() -> None:
    run = SweepRun(sweep({"prompt": "a red fox"}, endpoint=MINI), client=object())
    run._jobs[0] = dataclasses.replace(run._jobs[0], state="queued")
    run._lock = _ResultWinsTheRace(run, 0)  # type: ignore[assignment]
    run._on_status(0, InProgress())
    assert run.jobs[0].state == "done"


def test_a_stale_snapshot_arriving_late_leaves_the_tile_showing_the_newest_state(client: Client) -> None:
    compare = Compare(sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        compare.run()
        compare.wait(120)
        tile, done = compare._tiles[1], compare.jobs[1]
        assert done.state == "done" and "State:</span> done" in tile._view.value
        compare._job_changed(dataclasses.replace(done, state="running", result=None))  # a slower thread's snapshot
        assert tile.job.state == "done" and "State:</span> done" in tile._view.value
    finally:
        compare.close()
