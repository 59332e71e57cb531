"""The Studio's job list, one click away: running jobs as their live panels, finished ones as rows of one HTML
view (their widgets closed, so a long session stays light); and the toggles that fold such lists away."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets

from .._internal.theme import COLOR, message, style
from ..client import FINAL_PHASES
from ._html import close_tree, prompt_of
from ._job_html import error_text, format_seconds, job_row_html
from .job import JobView

ROWS = 12  # finished jobs listed (all of them stay in ``studio.jobs``)

_NO_JOB_CSS = style(
    border=f"1px dashed {COLOR['border']}",
    border_radius="4px",
    min_height="380px",  # about a job panel and a picture
    display="flex",
    align_items="center",
    justify_content="center",
    color=COLOR["muted"],
    padding="8px",
)
# where the picture will be: the Studio does not jump when the first one comes
NO_JOB = f'<div style="{_NO_JOB_CSS}">Press Generate: the job and its picture appear here.</div>'


def toggle(label: str, tooltip: str, box: ipywidgets.Box) -> ipywidgets.ToggleButton:
    """A button that shows and hides ``box`` (a list kept out of the way until asked for)."""
    button = ipywidgets.ToggleButton(
        value=False, description=label, tooltip=tooltip, layout=ipywidgets.Layout(width="auto")
    )
    button.add_class("fs-disclosure")

    def shown(change: dict[str, Any]) -> None:
        box.layout.display = "flex" if change["new"] else "none"

    button.observe(shown, "value")
    return button


def row(job: JobView) -> str:
    """A finished job as one row."""
    images = len(getattr(job.result, "images", ()) or ())
    detail = format_seconds(job.elapsed) + (f" · {images} image{'s' if images != 1 else ''}" if images else "")
    problem = error_text(job.error) if job.error is not None else ""
    return job_row_html(job.endpoint, job.state, prompt_of(job.request), detail, problem)


class JobList(ipywidgets.VBox):
    """The jobs other than the current one (``show(jobs)``, newest first); ``toggle`` shows and hides it."""

    def __init__(self) -> None:
        self.rows = ipywidgets.HTML(message("muted", "No jobs yet."))
        super().__init__([self.rows], layout=ipywidgets.Layout(display="none"))
        self.toggle = toggle("Jobs (0)", "Show the list of jobs of this Studio", self)
        self._retired: set[int] = set()  # ids of jobs whose widgets are closed

    def show(self, jobs: Sequence[JobView]) -> None:
        """``jobs`` newest first; the first is the current one (shown elsewhere, live)."""
        if not jobs:
            return
        current, earlier = jobs[0], jobs[1:]
        running = [j for j in earlier if j.state not in FINAL_PHASES]  # (``done`` waits for the callbacks)
        finished = [j for j in earlier if j.state in FINAL_PHASES]
        rows = "".join(row(j) for j in finished[:ROWS])
        more = len(finished) - ROWS
        if more > 0:
            rows += message("muted", f"and {more} earlier finished job{'s' if more != 1 else ''}")
        self.rows.value = f'<div role="list" aria-label="Earlier jobs">{rows}</div>'
        self.children = [*running, self.rows]
        for job in finished:  # a finished job off the stage is a row now: its widgets go
            if id(job) not in self._retired:
                self._retired.add(id(job))
                close_tree(job)
        live = len(running) + (current.state not in FINAL_PHASES)
        self.toggle.description = f"Jobs ({len(jobs)}{f', {live} running' if live else ''})"
