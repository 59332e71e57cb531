"""One Compare run's progress over its tiles: each job snapshot to its tile, the jobs counted by state, the end."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ...sweep import Job
from ._tiles import CompareTile

_STATES = ("done", "failed", "cancelled", "running", "queued", "submitting", "waiting")


class RunProgress:
    """The tiles of one run, updated from the client's loop: O(1) per snapshot whatever the number of tiles
    (the states are counted as they change, not recounted), and the run's end noticed once."""

    def __init__(self, tiles: Sequence[CompareTile]) -> None:
        self.tiles = tiles
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(_STATES, 0) | {"waiting": len(tiles)}
        self._ended = 0  # how many of the run's jobs have ended
        self._settled_upto = 0  # tiles before this one have the picture they will show

    def update(self, job: Job) -> None:
        """Show ``job`` (a new snapshot) in its tile; a snapshot older than the one the tile shows is dropped."""
        index = job.variation.index
        if index >= len(self.tiles):
            return
        tile = self.tiles[index]
        with tile.lock:
            old = tile.job
            if old.done and not job.done:  # a slower thread's older snapshot: the tile shows the newest
                return
            if old.state != job.state:
                with self._lock:
                    self._counts[_waiting(old.state)] -= 1
                    self._counts[_waiting(job.state)] += 1
                    self._ended += job.done - old.done
            tile.update(job)

    @property
    def ended(self) -> bool:
        """Whether every job of the run has ended."""
        return self._ended >= len(self.tiles)

    def text(self) -> str:
        """The jobs by state, e.g. ``2 done, 1 running, 3 waiting`` (the run started: ``4 waiting``, not "not run")."""
        with self._lock:
            counts = [(s, n) for s, n in self._counts.items() if n]
        return ", ".join(f"{n} {s}" for s, n in counts)

    def pictures_settled(self) -> bool:
        """True once: when every tile shows the picture it will show. Each call resumes the scan where the last
        stopped, so a run's pictures cost one pass over the tiles in all."""
        with self._lock:
            tiles = self.tiles
            if self._settled_upto > len(tiles):
                return False
            while self._settled_upto < len(tiles) and not _awaits_picture(tiles[self._settled_upto]):
                self._settled_upto += 1
            if self._settled_upto < len(tiles):
                return False
            self._settled_upto += 1  # past the end: said once for this run
            return True


def _waiting(state: str) -> str:
    return "waiting" if state == "pending" else state


def _awaits_picture(tile: CompareTile) -> bool:
    """Whether ``tile``'s result is in but its picture (or the reason it has none) is not yet."""
    job = tile.job
    return not job.done or (
        job.state == "done"
        and bool(getattr(job.result, "images", None))
        and tile.thumbnail is None
        and tile.problem is None
    )
