"""``fs.Compare``: variations of one request side by side — pick axes, see the count and cost, run, compare.

The variations run concurrently (``concurrency`` at a time) as one batch on the client's loop; each tile fills
in as its result arrives (streamed runs show the picture forming first), and a failure stays in its tile.
``compare.results`` gives one record per variation (``pandas.DataFrame(compare.results)`` works);
``compare.export_png(path)`` one labelled picture to share, ``compare.export_folder(path)`` the full images with
manifests, ``compare.export_html(path)`` a web page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import ipywidgets

from ..._internal.theme import COLOR, message
from ...endpoints import RequestModel
from ...sweep import Job, Sweep, SweepError, SweepRun
from .._a11y import make_accessible
from .._budget_gate import budget_gate
from .._html import StaticFallback, close_tree
from .._pool import Latest
from .._reader_view import ReaderView, StaticThumbnails
from .._spend_line import SpendLine
from ._axes import AxisPicker, as_sweep, same_requests
from ._compare_exports import STATIC_PX, CompareExports
from ._confirm import ConfirmBar, needs_confirmation, refusal
from ._grid import CompareGrid
from ._layout import states_text
from ._run_progress import RunProgress
from ._summary import SummaryLine
from ._tiles import CompareTile
from ._viewer import Viewer

if TYPE_CHECKING:
    from ...client import ClientLike

MAX_HZ = 10.0  # tile updates per second and variation, at most
PROGRESS_EVERY = 0.25  # seconds between updates of the line counting a run's jobs by state (each redraws it)


class Compare(CompareExports, ReaderView, StaticFallback, ipywidgets.VBox):
    """A grid of variations of one request.

    ``Compare(fs.sweep(base, quality=[...], image_size=[...]))``, or ``Compare(base)`` and tick values in the
    form. Sweeps estimated above ``confirm_above`` USD ask before they run (``None``: never ask).
    """

    def __init__(
        self,
        sweep_or_base: Sweep | RequestModel | Mapping[str, Any] | None = None,
        *,
        client: ClientLike | None = None,
        endpoint: str | None = None,
        confirm_above: float | None = 1.00,
        concurrency: int = 4,
        thumbnail_px: int = 384,
        stream: bool | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        start = as_sweep(sweep_or_base, endpoint)
        self.client = client
        self.stream = stream
        self.confirm_above = None if confirm_above is None else Decimal(str(confirm_above))
        self.concurrency = concurrency
        self.thumbnail_px = thumbnail_px
        self.favourites: set[int] = set()
        self._sweep: Sweep | None = start
        self._problem: str | None = None
        self._run: SweepRun | None = None
        self._tiles: list[CompareTile] = []
        self._grid_sweep: Sweep | None = None  # the variations the tiles were built for
        self._progress: RunProgress | None = None  # the run's, over its tiles
        self._lock = threading.RLock()
        self._finished = threading.Event()
        self._finished.set()
        self._static_thumbnails = StaticThumbnails(STATIC_PX)

        self.picker = AxisPicker(start, self._axes_changed)
        self.summary = SummaryLine()
        self._progress_line: Latest[None] = Latest(lambda _: self._show_progress(), every=PROGRESS_EVERY)
        self.run_button = ipywidgets.Button(
            description="Run", icon="play", button_style="primary", tooltip="Run every variation"
        )
        self.cancel_button = ipywidgets.Button(
            description="Cancel", icon="stop", disabled=True, tooltip="Cancel the variations that have not finished"
        )
        self.confirm_box = ConfirmBar(self._confirmed)
        self.confirm_text, self.yes_button, self.no_button = (
            self.confirm_box.text,
            self.confirm_box.yes_button,
            self.confirm_box.no_button,
        )
        self.run_button.on_click(lambda _b: self._clicked_run())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.grid = CompareGrid(on_favourite=self._favourite_from_view, on_enlarge=self._enlarge_from_view)
        self.viewer = Viewer()
        self.spend = SpendLine(client)  # empty until there is a client (made on the first run)
        title = ipywidgets.HTML(f'<b style="font-size:1.15em;color:{COLOR["fg"]}">Compare variations</b>')
        controls = ipywidgets.HBox(
            [self.run_button, self.cancel_button, self.summary],
            layout=ipywidgets.Layout(align_items="center", flex_flow="row wrap"),
        )
        super().__init__(
            [title, self.picker, controls, self.spend, self.confirm_box, self.grid, self.viewer],
            layout=ipywidgets.Layout(padding="4px"),
        )
        self.add_class("fs-compare")
        make_accessible(self)
        self._show_sweep()

    # -- what people use ---------------------------------------------------------------------------

    @property
    def sweep(self) -> Sweep:
        """The variations the form describes; raises :class:`SweepError` while it describes none."""
        if self._sweep is None:
            raise SweepError([self._problem or "no variations"])
        return self._sweep

    def run(self, *, confirm: bool = False) -> None:
        """Start every variation in the background (returns at once; see :meth:`wait`).

        Above ``confirm_above`` this raises :class:`CostConfirmationRequired` unless ``confirm=True``.
        """
        variations = self.sweep
        if not confirm and self.confirm_above is not None and needs_confirmation(variations.cost, self.confirm_above):
            raise refusal(variations, self.confirm_above)
        self._start(variations)

    def cancel(self) -> None:
        """Cancel the running sweep: waiting variations never start, running ones are cancelled."""
        run: SweepRun | None = getattr(self, "_run", None)
        if run is not None:
            run.cancel()

    def wait(self, timeout: float | None = None) -> list[dict[str, Any]]:
        """Block until every variation has ended and shows in the grid; returns :attr:`results`."""
        if self._run is None:
            raise RuntimeError("nothing is running: call compare.run() first")
        deadline = None if timeout is None else time.monotonic() + timeout

        def left() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        settled = self._run.wait(timeout) and self._finished.wait(left()) and self.spend.idle.wait(left())
        if not settled or not all(tile.settled.wait(left()) for tile in list(self._tiles)):
            raise TimeoutError(f"the sweep has not finished after {timeout} s")
        self.grid.sync()
        self._flush_reader()
        return self.results

    @property
    def jobs(self) -> tuple[Job, ...]:
        """The state of every variation (all ``pending`` before the first run)."""
        return self._run.jobs if self._run is not None else tuple(Job(v) for v in self._sweep or ())

    @property
    def results(self) -> list[dict[str, Any]]:
        """One record per variation: endpoint, axis values, state, request id, latency, cost, error,
        favourite, image URLs, the full request and the typed ``result``."""
        return [job.record(favourite=job.variation.index in self.favourites) for job in self.jobs]

    def set_favourite(self, index: int, favourite: bool = True) -> None:
        """Mark variation ``index`` as a favourite (or not): starred in the grid, its record and the exports."""
        self._starred(index, favourite)
        self._flush_reader()

    def enlarge(self, index: int) -> None:
        """Show variation ``index`` at full size over the grid (against the baseline, or an edit's input);
        the view's Previous and Next go through the other variations that have an image."""
        jobs = self.jobs
        if jobs[index].state != "done":
            raise ValueError(f"variation #{index} has no image to enlarge (it is {jobs[index].state})")
        shown = [j.variation.index for j in jobs if j.state == "done" and getattr(j.result, "images", None)]
        self.viewer.show(jobs[index], jobs[0], others=shown, go=self.enlarge)

    def close(self) -> None:
        """Cancel what still runs and close every widget inside (their comms too)."""
        self.cancel()
        if self.children:  # empty when __init__ failed part way (ipywidgets closes widgets on garbage collection)
            self.viewer.clear()
            self.grid.close()
        for child in self.children:
            close_tree(child)
        super().close()

    # -- internals ---------------------------------------------------------------------------------

    def _shown_sweep(self) -> Sweep:
        return self._run.sweep if self._run is not None else self.sweep

    def _axes_changed(self) -> None:
        try:
            self._sweep, self._problem = self.picker.build(), None
        except SweepError as exc:
            self._sweep, self._problem = None, "; ".join(exc.problems)
        self._show_sweep()

    def _show_sweep(self) -> None:
        """The count and the cost of what the form describes; before any run, a preview grid of pending tiles.

        Once a run has filled the grid, changing the form keeps that grid (and its favourites) until the new
        variations are run: the summary says what Run would replace.
        """
        self.confirm_box.hide()
        if self._sweep is None:
            self.summary.problem(self._problem or "no variations")
            self.run_button.disabled = True
            return
        gate = budget_gate(self.client, [(v.endpoint, v.cost) for v in self._sweep])
        self.run_button.disabled = not self._finished.is_set() or gate.refusal is not None
        self.run_button.tooltip = gate.refusal or "Run every variation"
        budget = f" · {gate.refusal or gate.text}" if gate.text else ""
        if self._run is None:
            self.summary.show(self._sweep, budget)
            self._build_grid(self._sweep, [Job(v) for v in self._sweep])
            self._reader_changed()
        elif not same_requests(self._sweep, self._run.sweep):
            self.summary.show(self._sweep, f" · Run replaces the grid below, which shows the last run{budget}")
        else:
            self.summary.show(self._sweep, f" · last run: {states_text(self._run.jobs)}")

    def _build_grid(self, variations: Sweep, jobs: list[Job]) -> None:
        with self._lock:
            self.favourites.clear()
            self.viewer.clear()
            if variations is self._grid_sweep:
                # The grid already shows these variations (the preview before a run, or the last run):
                # reset its tiles rather than build new ones.
                for tile, job in zip(self._tiles, jobs, strict=True):
                    tile.reset(job)
                self.grid.sync()
                return
            self._tiles = [
                CompareTile(
                    j, jobs[0], thumbnail_px=self.thumbnail_px, on_change=self._tile_changed, on_picture=self._picture
                )
                for j in jobs
            ]
            self._grid_sweep = variations
            self.grid.show_tiles(variations, self._tiles)

    def _clicked_run(self) -> None:
        if self._sweep is None:
            return
        if needs_confirmation(self._sweep.cost, self.confirm_above):
            self.confirm_box.ask(self._sweep)
            return
        self._start_from_button(self._sweep)

    def _confirmed(self, yes: bool) -> None:
        if yes and self._sweep is not None:
            self._start_from_button(self._sweep)

    def _start_from_button(self, variations: Sweep) -> None:
        try:
            self._start(variations)
        except Exception as exc:  # a click handler's traceback is never seen: say it here
            self.summary.problem(f"could not start the sweep: {type(exc).__name__}: {exc}")

    def _start(self, variations: Sweep) -> None:
        with self._lock:
            if not self._finished.is_set():
                raise RuntimeError("a sweep is already running: wait() for it or cancel() it first")
            if self.client is None:
                from ...client import Client

                self.client = Client()
            if self.spend.client is None:
                self.spend.client = self.client
            self._finished.clear()
            run = SweepRun(
                variations,
                self.client,
                concurrency=self.concurrency,
                on_change=lambda job: self._job_changed(job, run),
                stream=self.stream,
                max_hz=MAX_HZ,
            )
            self._build_grid(variations, list(run.jobs))
            self._run, self._progress = run, RunProgress(self._tiles)
            self.summary.show(variations, f" · {self._progress.text()}")
            self.picker.disabled = True
            self.run_button.disabled, self.cancel_button.disabled = True, False
        try:
            run.start()
        except BaseException:
            self._done()
            raise

    def _job_changed(self, job: Job, of: SweepRun | None = None) -> None:
        """Called on the client's loop with each new job snapshot of run ``of`` (at most ``MAX_HZ`` a second per
        tile); a late one of an earlier run never reaches this run's tiles."""
        with self._lock:
            run, progress = self._run, self._progress
            if of is not None and of is not run:
                return
        try:
            if run is not None and progress is not None:
                progress.update(job)
        finally:  # whatever a tile did, the run's end must end the widget's run (wait() depends on it)
            if job.done:
                self.spend.refresh_soon()
            if run is not None and progress is not None:
                if not self._finished.is_set():
                    self._progress_line.push(None)
                if progress.ended:
                    self._done()

    def _show_progress(self) -> None:
        """The status line counts the running run's jobs as they are now (the run's end writes its own)."""
        with self._lock:
            run, progress = self._run, self._progress
            if run is not None and progress is not None and not self._finished.is_set():
                self.summary.show(run.sweep, f" · {progress.text()}")

    def _done(self) -> None:
        with self._lock:
            if self._finished.is_set():
                return
            self.picker.disabled = False
            self.cancel_button.disabled = True
            sweep = self._sweep
            refusal = budget_gate(self.client, [(v.endpoint, v.cost) for v in sweep]).refusal if sweep else None
            self.run_button.disabled = sweep is None or refusal is not None
            if self._run is not None:
                self.summary.show(self._run.sweep, f" · {states_text(self._run.jobs)}")
            self._finished.set()
        self.grid.sync()
        self._republish_when_settled()

    def _tile_changed(self, tile: CompareTile) -> None:
        self.grid.changed(tile)
        if self._finished.is_set() and self._run is not None:
            self._republish_when_settled()

    def _picture(self, tile: CompareTile, final: bool) -> None:
        self.grid.picture(tile, final)

    def _republish_when_settled(self) -> None:
        """After a run, once every tile shows the picture it will show: the reader view, once."""
        progress = self._progress
        if progress is not None and progress.pictures_settled():
            self.grid.sync()
            self._reader_changed()

    def _favourite_from_view(self, index: int, on: bool) -> None:
        self._starred(index, on)
        self._reader_changed()

    def _enlarge_from_view(self, index: int) -> None:
        try:
            self.enlarge(index)
        except ValueError as exc:
            self.viewer.header.value = message("error", str(exc))

    def _starred(self, index: int, on: bool) -> None:
        tile = self._tiles[index]
        tile.favourite = on
        (self.favourites.add if on else self.favourites.discard)(index)
        self.grid.changed(tile)
        self.grid.sync()
