"""``fs.Studio()``: endpoint picker, request form, cost, Generate, job panels, gallery and recent history.

A workbench: the form on the left and the current job on the right (its live picture, then the final image
large), one column when the output is narrow (CSS flex-wrap decides, not Python). Earlier images are a row of
thumbnails under it; earlier jobs and the run history are lists one click away. A finished job that leaves the
right pane becomes a row of one HTML view and its widgets are closed, so a long session stays light.

With no FAL_KEY the client starts falstudio's embedded offline server, so the Studio works out of the
box; a badge says which backend answers. Jobs run in the background (see :mod:`.job`): the kernel stays
free, and several jobs can run at once. For endpoints that stream (GPT Image 2), "Live previews" runs the
request through the stream: the picture forms in the job panel and the gallery, then the final image
replaces it (a streamed run cannot be resumed after a restart; untick it to use the queue).

This module lays the workbench out; ``_studio_endpoint_bar`` picks the endpoint, ``_studio_jobs`` holds the jobs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets

from .._internal.theme import COLOR, esc, message
from ..endpoints import DEFAULT_ENDPOINT, DEFAULT_PROMPT, REDACTED, EndpointSpec, SizeNotAccepted, fit_size, get
from ._a11y import make_accessible
from ._drop_zone import DropZone
from ._endpoint_choices import edit_endpoint_for, request_from_image
from ._html import StaticFallback, card, close_tree, grid_html, short_prompt
from ._job_list import toggle
from ._reader_view import ReaderView
from ._recent_runs import RecentRuns
from ._spend_line import SpendLine
from ._studio_endpoint_bar import EndpointBar, chip_css
from ._studio_jobs import StudioJobs
from .form import RequestForm
from .gallery import Gallery
from .job import JobView

if TYPE_CHECKING:
    from ..client import ClientLike

JOBS_SHOWN = 4  # jobs in the Studio's static (reader) view
STRIP_LIMIT = 12  # images kept in the Studio's gallery: the current result and the earlier ones
PANE = "1 1 26em"  # each pane's flex: two side by side from about 52em of output width, one column below

_BADGE = {
    "local": (
        "offline preview server",
        "accent",
        "Images are drawn by falstudio's embedded local server: nothing goes to fal.ai and nothing is "
        "billed. Set FAL_KEY (or pass a Client) to use fal.ai.",
    ),
    "fal": ("fal.ai", "success", "Requests go to fal.ai and are billed to your fal account."),
}


class Studio(ReaderView, StaticFallback, ipywidgets.VBox):
    """Everything to generate images in one widget. ``Studio(client=None, endpoint=...)``.

    ``studio.jobs`` (newest first), ``studio.gallery``, ``studio.form``; ``studio.click_generate()`` does
    what the Generate button does and ``studio.wait()`` blocks until running jobs have ended.
    """

    _owns_client = False

    def __init__(
        self,
        client: ClientLike | None = None,
        endpoint: str = DEFAULT_ENDPOINT,
        *,
        prompt: str = DEFAULT_PROMPT,
        columns: int = 3,
        history: bool = True,
        stream: bool | None = None,
    ) -> None:
        spec = get(endpoint)
        self._owns_client = client is None
        if client is None:
            from ..client import Client

            client = Client()
        self.client: ClientLike = client
        self.mode: str = client.mode
        self._stream = stream
        self._history_enabled = history

        label, color, tip = _BADGE.get(self.mode, _BADGE["fal"])
        self.badge = ipywidgets.HTML(
            f'<span style="{chip_css(COLOR[color])};font-weight:600">● {esc(label)}</span>', tooltip=tip
        )
        title = ipywidgets.HTML(f'<b style="font-size:1.15em;color:{COLOR["fg"]}">falstudio Studio</b>')
        self.spend = SpendLine(client)
        self.upload = DropZone(
            "Load from image…",
            button_tooltip="Pick, drop or paste an image falstudio saved: its endpoint and request fill the form "
            "(never a key)",
            hint="or drop one here",
            multiple=False,
        )
        self.upload.on_files(self._on_upload)
        self._form_box = ipywidgets.VBox(layout=ipywidgets.Layout(flex=PANE, min_width="0"))
        self._history_box = RecentRuns(self._run_again)
        self.gallery = Gallery(columns=columns, title="Earlier images", limit=STRIP_LIMIT, compact=True)
        self.gallery.on_use(self.use_as_input)
        self._jobs = StudioJobs(self.gallery, self._job_done)
        self.jobs: list[JobView] = self._jobs.jobs  # the same list, newest first
        self._stage, self._no_job, self._jobs_box = self._jobs.stage, self._jobs.no_job, self._jobs.job_list
        self.jobs_toggle = self._jobs_box.toggle
        bar = self._endpoint_bar = EndpointBar(spec.id, client, self._switch_form, stream)
        self.picker, self.search, self.search_toggle = bar.picker, bar.search, bar.search_toggle
        self.status_chip, self.live_previews, self.other_box = bar.status_chip, bar.live_previews, bar.other_box
        self.other_id, self.other_button, self.other_status = bar.other_id, bar.other_button, bar.other_status
        self.other_loading = bar.other_loading
        self.form: RequestForm = self._new_form(spec.id, {"prompt": prompt})
        right = ipywidgets.VBox([self._stage, self.gallery], layout=ipywidgets.Layout(flex=PANE, min_width="0"))
        right.add_class("fs-studio-stage")
        bench = ipywidgets.HBox(
            [self._form_box, right], layout=ipywidgets.Layout(flex_flow="row wrap", align_items="flex-start")
        )
        bench.add_class("fs-studio-bench")
        lists: list[ipywidgets.Widget] = [self.jobs_toggle]
        history_box = ipywidgets.VBox([self._history_box], layout=ipywidgets.Layout(display="none"))
        if history:
            self.history_toggle = toggle("Recent history", "Show the newest runs, to run again", history_box)
            lists.append(self.history_toggle)
        sections = [
            ipywidgets.HBox(
                [title, self.badge, self.spend],
                layout=ipywidgets.Layout(align_items="center", flex_flow="row wrap", grid_gap="4px 12px"),
            ),
            ipywidgets.HBox(
                # the endpoint picker's one place: whatever picks the endpoint sits first in this row
                [self.picker, self.search_toggle, self.status_chip, self.live_previews, self.upload],
                layout=ipywidgets.Layout(align_items="center", flex_flow="row wrap", grid_gap="8px"),
            ),
            self.search,
            self.other_box,
            bench,
            ipywidgets.HBox(lists, layout=ipywidgets.Layout(align_items="center", grid_gap="8px", margin="6px 0 0")),
            self._jobs_box,
            *([history_box] if history else []),
        ]
        super().__init__(sections, layout=ipywidgets.Layout(padding="4px"))
        self.add_class("fs-studio")
        make_accessible(self)
        if history:
            self.refresh_history()

    # -- what people use ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The endpoint the form is for."""
        return self._endpoint_bar.current

    @endpoint.setter
    def endpoint(self, endpoint_id: str) -> None:
        self._endpoint_bar.select(endpoint_id)  # raises UnknownEndpointError (with the reason) for an id it cannot type

    def load_endpoint(self, endpoint_id: str) -> EndpointSpec:
        """Switch to any fal endpoint, typed from fal's OpenAPI schema if it is not registered (what the picker's
        "Other endpoint…" entry does). Raises :class:`~falstudio.endpoints.UnknownEndpointError` naming the reason."""
        self.endpoint = endpoint_id.strip()
        return get(self.endpoint)

    def click_generate(self) -> JobView | None:
        """Press Generate; returns the new job (None when the form is not valid)."""
        before = len(self.jobs)
        self.form.generate_button.click()
        return self.jobs[0] if len(self.jobs) > before else None

    def generate(self, request: Any = None) -> JobView:
        """Start a job for ``request`` (default: the form's value) on the current endpoint."""
        request = self.form.value if request is None else request
        stream = self._stream if self._stream is not None else (None if self.live_previews.value else False)
        job = JobView.submit(self.client, self.endpoint, request, stream=stream, picture=False)
        self._jobs.add(job)
        self._reader_changed()
        return job

    def wait(self, timeout: float | None = None) -> list[JobView]:
        """Block until every job started so far has ended (safe in a notebook cell: jobs run elsewhere)."""
        self._jobs.wait(timeout)
        self._flush_reader()
        return list(self.jobs)

    def use_as_input(self, image: Any) -> None:
        """Switch to the matching edit endpoint and add ``image`` to its input images."""
        target = edit_endpoint_for(get(self.endpoint))
        if target is None:
            raise ValueError(f"no image-edit endpoint matches {self.endpoint}")
        self.endpoint = target.id
        url = getattr(image, "url", None)
        if isinstance(url, str) and url.startswith("https://"):
            self.form.add_image(url)  # a public URL: no need to send the bytes back up
        else:
            self.form.add_image(image.bytes() if callable(getattr(image, "bytes", None)) else image)

    def load(self, request: Any, endpoint: str | None = None) -> None:
        """Put a request into the form, switching endpoint if needed: a model, a dict, a history record, or an
        image falstudio saved (a path or its bytes: how it was made is in the file; keys never are)."""
        if isinstance(request, (str, os.PathLike, bytes, bytearray, memoryview)):
            endpoint, request = request_from_image(request)
        elif hasattr(request, "endpoint") and hasattr(request, "request") and endpoint is None:
            endpoint, request = request.endpoint, request.request
        if endpoint is not None:
            self.endpoint = endpoint
        values = request.model_dump(exclude_unset=True) if hasattr(request, "model_dump") else dict(request)
        self.form.value = {k: v for k, v in values.items() if k in self.form.controls}

    def refresh_history(self) -> None:
        """Re-read the newest run records into the "Recent history" strip."""
        if self._history_enabled:
            self._history_box.refresh()

    def close(self) -> None:
        """Close the widgets (and the client, if the Studio made it). Running jobs finish in the background."""
        for child in self.children:
            close_tree(child)
        super().close()
        if self._owns_client:
            self.client.close()

    def __repr__(self) -> str:
        return f"Studio(endpoint={self.endpoint!r}, server={self.mode!r}, jobs={len(self.jobs)})"

    def _static_html(self) -> str:
        label = _BADGE.get(self.mode, _BADGE["fal"])[0]
        parts = [message("muted", self.spend.text), self.form._repr_html_()]
        if self.jobs:
            done = sum(j.state == "done" for j in self.jobs)
            parts.append(message("muted", f"{len(self.jobs)} job(s), {done} done"))
            parts += [j._repr_html_() for j in self.jobs[:JOBS_SHOWN]]
        if len(self.gallery):
            tiles = self.gallery.tiles[:4]
            parts.append(grid_html((t.static_html(128) for t in tiles), len(tiles)))
        parts.append(message("muted", "Static view of a falstudio Studio; run the cell for the live widget."))
        return card(f"<b>falstudio Studio</b> · {esc(label)}", "".join(parts))

    # -- internals ---------------------------------------------------------------------------------

    def _new_form(
        self, endpoint_id: str, values: Mapping[str, Any], secrets: Mapping[str, Any] | None = None
    ) -> RequestForm:
        form = RequestForm(endpoint_id, offline=self.mode == "local")
        form.budget_client = self.client
        accepted: dict[str, Any] = {}
        for name, value in values.items():  # keep what the new endpoint accepts, field by field
            if name not in form.controls or value == REDACTED:
                continue
            if name == "image_size":
                try:  # a size in the new endpoint's own form: "1536x1024" <-> {"width": 1536, "height": 1024}
                    value = fit_size(form.model, name, value)
                except SizeNotAccepted:
                    continue
            try:
                form.value = {**accepted, name: value}
                accepted[name] = value
            except (ValueError, TypeError):
                continue  # the setter checks every value before it changes anything
        for name, value in (secrets or {}).items():
            if name in form.controls and form.controls[name].spec.kind == "secret" and value is not None:
                form.set_secret(name, value)
        form.on_submit(lambda request: self.generate(request))
        self._form_box.children = [form]
        return form

    def _switch_form(self, endpoint_id: str) -> None:
        """A form for a newly picked endpoint, keeping what it accepts of the old one's values and keys."""
        old = self.form
        secrets = {n: c.get() for n, c in old.controls.items() if c.spec.kind == "secret"}
        self.form = self._new_form(endpoint_id, old.to_dict(), secrets)
        close_tree(old)

    def _job_done(self, job: JobView) -> None:
        self.spend.refresh()
        self.form.recheck()  # what the budget has left changed
        self.refresh_history()
        self._reader_changed()

    def _on_upload(self, files: list[tuple[str, bytes]]) -> None:
        for name, data in files[:1]:
            try:
                self.load(data)
            except (ValueError, TypeError, KeyError) as exc:
                self.form.summary.value = message("error", f"could not load {name}: {exc}")
            else:
                self.form.summary.value = message("success", f"Loaded the request of {name}")

    def _run_again(self, record: Any) -> None:
        """Run a past request again: refill the form with it (so it can be tweaked next), then start it."""
        try:
            self.load(record)
            request = self.form.value
        except (ValueError, TypeError, KeyError) as exc:  # e.g. a value this endpoint no longer accepts
            self.form.summary.value = message("error", f"could not load that run into the form: {exc}", role="alert")
            return
        self.generate(request)
        self.form.summary.value = message(
            "success", f"Running again: “{short_prompt(record.prompt)}” (see the job panel)", role="status"
        )
