"""The Studio's jobs: the current one on the stage, earlier ones in the job list, their pictures in the gallery."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets

from ._job_list import NO_JOB, JobList
from .gallery import Gallery, alt_text, prompt_of
from .job import JobView


class StudioJobs:
    """``jobs`` (newest first) shown as ``stage`` (the current job) and ``job_list``; ``on_done(job)`` is called
    once an ended job's picture is in the gallery."""

    def __init__(self, gallery: Gallery, on_done: Callable[[JobView], None]) -> None:
        self.jobs: list[JobView] = []
        self.lock = threading.RLock()
        self.gallery = gallery
        self.stage = ipywidgets.VBox()  # the current job's panel
        self.no_job = ipywidgets.HTML(NO_JOB)
        self.job_list = JobList()
        self._on_done = on_done
        self._show()

    def add(self, job: JobView) -> None:
        """A started job takes the stage; the last result joins the earlier images."""
        job.on_partial(lambda image, count: self._forming(job, image, count))
        with self.lock:
            self.gallery.demote()
            self.jobs.insert(0, job)
            self._show()
        job.on_done(self._done)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every job added so far has ended (or ``timeout`` seconds in all have passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in list(self.jobs):
            job.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _is_current(self, job: JobView) -> bool:
        with self.lock:
            return bool(self.jobs) and self.jobs[0] is job

    def _forming(self, job: JobView, image: Any, count: int) -> None:
        prompt = prompt_of(job.request)
        caption = [("Prompt", prompt), ("Forming", f"partial image {count}"), ("Endpoint", job.endpoint)]
        self.gallery.show_forming(job, image, alt=alt_text(prompt), caption=caption, lead=self._is_current(job))

    def _done(self, job: JobView) -> None:
        self.gallery.end_forming(job)
        if job.state == "done" and job.result is not None:
            self.gallery.add_result(job.result, lead=self._is_current(job))
        with self.lock:
            self._show()
        self._on_done(job)

    def _show(self) -> None:
        """The current job on the stage, the others in the job list. Called with the lock held (or alone)."""
        self.stage.children = [self.jobs[0] if self.jobs else self.no_job]
        self.job_list.show(self.jobs)
