"""``fs.Studio()``: endpoint picker, request form, cost, Generate, job panels, gallery and recent history.

With no FAL_KEY the client starts falstudio's embedded offline server, so the Studio works out of the
box; a badge says which backend answers. Jobs run in the background (see :mod:`.job`): the kernel stays
free, and several jobs can run at once. For endpoints that stream (GPT Image 2), "Live previews" runs the
request through the stream: the picture forms in the job panel and the gallery, then the final image
replaces it (a streamed run cannot be resumed after a restart; untick it to use the queue).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets

from .._internal.theme import COLOR, FONT_SMALL, esc, message, style
from ..endpoints import DEFAULT_ENDPOINT, DEFAULT_PROMPT, REDACTED, REGISTRY, EndpointSpec, get
from ._html import StaticFallback, card, close_tree, grid_html, tile_html
from .form import RequestForm
from .gallery import Gallery, alt_text
from .job import JobView

if TYPE_CHECKING:
    from ..client import ClientLike

JOBS_SHOWN = 4
HISTORY_SHOWN = 6
_HISTORY_PX = 112

_BADGE = {
    "local": (
        "offline preview server",
        "accent",
        "Images are drawn by falstudio's embedded local server: nothing goes to fal.ai and nothing is "
        "billed. Set FAL_KEY (or pass a Client) to use fal.ai.",
    ),
    "fal": ("fal.ai", "success", "Requests go to fal.ai and are billed to your fal account."),
}


def edit_endpoint_for(spec: EndpointSpec) -> EndpointSpec | None:
    """The image-edit endpoint of the same model and billing as ``spec`` (``spec`` itself if it edits)."""
    if spec.kind == "image-edit":
        return spec
    for other in REGISTRY.values():
        if other.kind == "image-edit" and other.prices == spec.prices and other.is_byok == spec.is_byok:
            return other
    return None


def _chip_css(color: str) -> str:
    return style(color=color, border=f"1px solid {color}", border_radius="9px", padding="1px 8px", font_size=FONT_SMALL)


class Studio(StaticFallback, ipywidgets.VBox):
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
        self.mode: str = getattr(client, "mode", "fal")
        self._stream = stream
        self.jobs: list[JobView] = []
        self._lock = threading.RLock()
        self._history_enabled = history

        label, color, tip = _BADGE.get(self.mode, _BADGE["fal"])
        self.badge = ipywidgets.HTML(
            f'<span style="{_chip_css(COLOR[color])};font-weight:600">● {esc(label)}</span>', tooltip=tip
        )
        title = ipywidgets.HTML(f'<b style="font-size:1.15em;color:{COLOR["fg"]}">falstudio Studio</b>')
        self.picker = ipywidgets.Dropdown(
            options=[(f"{s.title} — {s.id}", s.id) for s in REGISTRY.values()],
            value=spec.id,
            description="Endpoint",
            tooltip="The fal endpoint to call; the form below follows it",
            layout=ipywidgets.Layout(width="auto", min_width="28em"),
        )
        self.status_chip = ipywidgets.HTML()
        self.live_previews = ipywidgets.Checkbox(
            value=stream is not False,
            description="Live previews",
            indent=False,
            tooltip="Stream the request and show the picture as it forms (a streamed run cannot be resumed "
            "after a kernel restart; untick to use the queue)",
            layout=ipywidgets.Layout(width="auto", margin="0 0 0 12px"),
        )
        self._form_box = ipywidgets.VBox()
        self._jobs_box = ipywidgets.VBox()
        self._history_box = ipywidgets.HBox(layout=ipywidgets.Layout(flex_flow="row wrap", grid_gap="8px"))
        self.gallery = Gallery(columns=columns, title="Images")
        self.gallery.on_use(self.use_as_input)
        self.form: RequestForm = self._new_form(spec.id, {"prompt": prompt})
        self._show_status_chip(spec)
        self.picker.observe(self._on_endpoint, "value")
        sections = [
            ipywidgets.HBox([title, self.badge], layout=ipywidgets.Layout(align_items="center", grid_gap="12px")),
            ipywidgets.HBox(
                [self.picker, self.status_chip, self.live_previews], layout=ipywidgets.Layout(align_items="center")
            ),
            self._form_box,
            self._heading("Jobs"),
            self._jobs_box,
            self.gallery,
        ]
        if history:
            sections += [self._heading("Recent history"), self._history_box]
        super().__init__(sections, layout=ipywidgets.Layout(padding="4px"))
        self.add_class("fs-studio")
        self._refresh_jobs()
        if history:
            self.refresh_history()

    # -- what people use ---------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return str(self.picker.value)

    @endpoint.setter
    def endpoint(self, endpoint_id: str) -> None:
        self.picker.value = get(endpoint_id).id

    def click_generate(self) -> JobView | None:
        """Press Generate; returns the new job (None when the form is not valid)."""
        before = len(self.jobs)
        self.form.generate_button.click()
        return self.jobs[0] if len(self.jobs) > before else None

    def generate(self, request: Any = None) -> JobView:
        """Start a job for ``request`` (default: the form's value) on the current endpoint."""
        request = self.form.value if request is None else request
        stream = self._stream if self._stream is not None else (None if self.live_previews.value else False)
        job = JobView.submit(self.client, self.endpoint, request, stream=stream)
        job.on_partial(lambda image, count: self._forming(job, image, count))
        job.on_done(self._job_done)
        with self._lock:
            self.jobs.insert(0, job)
            self._refresh_jobs()
        return job

    def wait(self, timeout: float | None = None) -> list[JobView]:
        """Block until every job started so far has ended (safe in a notebook cell: jobs run elsewhere)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in list(self.jobs):
            job.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
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
        """Put a request (a model, a dict, or a history record) into the form, switching endpoint if needed."""
        if hasattr(request, "endpoint") and hasattr(request, "request") and endpoint is None:
            endpoint, request = request.endpoint, request.request
        if endpoint is not None:
            self.endpoint = endpoint
        values = request.model_dump(exclude_unset=True) if hasattr(request, "model_dump") else dict(request)
        self.form.value = {k: v for k, v in values.items() if k in self.form.controls}

    def refresh_history(self) -> None:
        """Re-read the newest run records into the "Recent history" strip."""
        if not self._history_enabled:
            return
        from ..history import history

        try:
            records = list(history(limit=HISTORY_SHOWN))
        except Exception as exc:  # a broken history folder must not break the Studio
            self._history_box.children = [ipywidgets.HTML(message("warn", f"history unavailable: {exc}"))]
            return
        rows = [self._history_item(r) for r in records]
        empty = ipywidgets.HTML(message("muted", "No runs yet: they appear here, and can be run again."))
        with self._lock:
            old, self._history_box.children = self._history_box.children, rows or [empty]
        for widget in old:
            close_tree(widget)

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
        parts = [self.form._repr_html_()]
        if self.jobs:
            done = sum(j.state == "done" for j in self.jobs)
            parts.append(message("muted", f"{len(self.jobs)} job(s), {done} done"))
        if len(self.gallery):
            tiles = self.gallery.tiles[:4]
            parts.append(grid_html((t.static_html(128) for t in tiles), len(tiles)))
        parts.append(message("muted", "Static view of a falstudio Studio; run the cell for the live widget."))
        return card(f"<b>falstudio Studio</b> · {esc(label)}", "".join(parts))

    # -- internals ---------------------------------------------------------------------------------

    def _new_form(
        self, endpoint_id: str, values: Mapping[str, Any], secrets: Mapping[str, Any] | None = None
    ) -> RequestForm:
        form = RequestForm(endpoint_id)
        accepted: dict[str, Any] = {}
        for name, value in values.items():  # keep what the new endpoint accepts, field by field
            if name not in form.controls or value == REDACTED:
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

    def _on_endpoint(self, change: dict[str, Any]) -> None:
        old = self.form
        secrets = {n: c.get() for n, c in old.controls.items() if c.spec.kind == "secret"}
        self.form = self._new_form(change["new"], old.to_dict(), secrets)
        self._show_status_chip(get(change["new"]))
        close_tree(old)

    def _show_status_chip(self, spec: EndpointSpec) -> None:
        self.live_previews.layout.display = None if spec.streaming and self._stream is None else "none"
        if spec.status == "active":
            self.status_chip.value, self.status_chip.tooltip = "", None
            return
        color = COLOR["warn"] if spec.status == "deprecated" else COLOR["error"]
        self.status_chip.value = f'<span style="{_chip_css(color)};margin-left:8px">{esc(spec.status)}</span>'
        self.status_chip.tooltip = spec.note or spec.status

    def _forming(self, job: JobView, image: Any, count: int) -> None:
        prompt = str(getattr(job.request, "prompt", None) or (job.request or {}).get("prompt", ""))
        caption = [("Forming", f"partial image {count}"), ("Endpoint", job.endpoint)]
        self.gallery.show_forming(job, image, alt=alt_text(prompt), caption=caption)

    def _job_done(self, job: JobView) -> None:
        self.gallery.end_forming(job)
        if job.state == "done" and job.result is not None:
            self.gallery.add_result(job.result)
        self.refresh_history()

    def _refresh_jobs(self) -> None:
        shown = self.jobs[:JOBS_SHOWN]
        more = len(self.jobs) - len(shown)
        extra = [ipywidgets.HTML(message("muted", f"and {more} earlier job(s): see studio.jobs"))] if more else []
        if not self.jobs:
            extra = [ipywidgets.HTML(message("muted", "No jobs yet: press Generate."))]
        self._jobs_box.children = [*shown, *extra]

    def _history_item(self, record: Any) -> ipywidgets.Widget:
        try:
            thumb = record.thumbnail(0, _HISTORY_PX)
        except (OSError, ValueError):
            thumb = None
        data, mime = thumb if thumb else (None, "image/png")
        rows = [("", record.state), ("", record.endpoint.removeprefix("fal-ai/"))]
        tile = ipywidgets.HTML(tile_html(data, mime, alt_text(record.prompt), rows, px=_HISTORY_PX))
        known = record.endpoint in REGISTRY
        again = ipywidgets.Button(
            description="Run again",
            icon="redo",
            disabled=not known,
            tooltip=f"Load this request into the form: {record.prompt[:80]}"
            if known
            else f"{record.endpoint} is not a registered endpoint",
            layout=ipywidgets.Layout(width="auto"),
        )
        again.on_click(lambda _b: self._run_again(record))
        return ipywidgets.VBox([tile, again])

    def _run_again(self, record: Any) -> None:
        try:
            self.load(record)
        except (ValueError, TypeError, KeyError) as exc:  # e.g. a value this endpoint no longer accepts
            self.form.summary.value = message("error", f"could not load that run into the form: {exc}", role="alert")

    @staticmethod
    def _heading(text: str) -> ipywidgets.HTML:
        return ipywidgets.HTML(f'<div style="font-weight:600;margin-top:8px;color:{COLOR["fg"]}">{esc(text)}</div>')
