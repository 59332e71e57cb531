"""The enlarged view of the compare grid: one variation at full size, against its reference, over the grid
(a dialog-like overlay in the live view: Close or Escape returns to the tile). Previous and Next step through
the other variations with an image; Download saves the full image from the browser.

The reference is the edit's input image for edit endpoints, else the baseline variation (#0). Full-size
bytes are fetched on the widgets' worker pool only when asked for, and dropped again on Close.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import ipywidgets

from ..._internal.images import sniff_mime
from ..._internal.theme import COLOR, FONT_SMALL, esc, message
from ...client.results import Image
from ...sweep import Job
from .._a11y import OVERLAY, OVERLAY_CLOSE, OVERLAY_OPEN
from .._html import close_tree
from .._pool import run_in_pool
from ..before_after import BeforeAfter
from ._layout import alt_text


def reference(job: Job, baseline: Job) -> tuple[str, Any] | None:
    """``(label, image)`` to compare ``job``'s image against, or None (it is the baseline itself)."""
    urls = getattr(job.variation.request, "image_urls", None)
    if job.variation.spec.kind == "image-edit" and urls:
        return "input", Image.model_validate({"url": urls[0]})
    images = getattr(baseline.result, "images", None)
    if job.variation.index != baseline.variation.index and images:
        return f"#{baseline.variation.index} baseline", images[0]
    return None


class Viewer(ipywidgets.VBox):
    """Empty until :meth:`show`; then a header, Close, and the image or a before/after slider."""

    def __init__(self) -> None:
        self.header = ipywidgets.HTML()
        self.close_button = ipywidgets.Button(
            description="Close",
            icon="times",
            tooltip="Close the enlarged view (Escape)",
            layout=ipywidgets.Layout(width="auto"),
        )
        self.close_button.add_class(OVERLAY_CLOSE)
        self.close_button.on_click(lambda _b: self.clear())
        self.previous_button = ipywidgets.Button(
            description="Previous", icon="chevron-left", tooltip="The previous variation with an image"
        )
        self.next_button = ipywidgets.Button(description="Next", icon="chevron-right", tooltip="The next one")
        for b in (self.previous_button, self.next_button):
            b.layout = ipywidgets.Layout(width="auto")
        self.previous_button.on_click(lambda _b: self._step(-1))
        self.next_button.on_click(lambda _b: self._step(1))
        self.download = ipywidgets.HTML()  # a link to the full image, once it is loaded
        self._shown: int | None = None
        self._others: Sequence[int] = ()
        self._go: Callable[[int], None] | None = None
        self.body = ipywidgets.Box(layout=ipywidgets.Layout(max_width="1040px"))
        self._bar = ipywidgets.HBox(
            [self.header, self.previous_button, self.next_button, self.download, self.close_button],
            layout=ipywidgets.Layout(align_items="center", display="none", flex_flow="row wrap"),
        )
        self._generation = 0
        super().__init__([self._bar, self.body])
        self.add_class(OVERLAY)

    def show(
        self, job: Job, baseline: Job, *, others: Sequence[int] = (), go: Callable[[int], None] | None = None
    ) -> Future[object]:
        """Load and show ``job``'s full image (in the background); returns the loading job's future.
        ``others``: the variations Previous and Next step through, each shown by ``go(index)``."""
        self._generation += 1
        self._shown, self._others, self._go = job.variation.index, tuple(others), go
        place = self._others.index(self._shown) if self._shown in self._others else -1
        self.previous_button.disabled = go is None or place <= 0
        self.next_button.disabled = go is None or place < 0 or place >= len(self._others) - 1
        self.download.value = ""
        self.header.value = (
            f'<b style="color:{COLOR["fg"]}">#{job.variation.index}</b> '
            f'<span style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">'
            f"{esc(job.variation.label())} — loading the full image…</span>"
        )
        self._bar.layout.display = "flex"
        self.add_class(OVERLAY_OPEN)
        generation = self._generation
        return run_in_pool(lambda: self._load(job, baseline, generation))

    def clear(self) -> None:
        self._generation += 1
        self._shown = None
        self.download.value = ""
        self._close_children()
        self._bar.layout.display = "none"
        self.remove_class(OVERLAY_OPEN)

    def _load(self, job: Job, baseline: Job, generation: int) -> None:
        try:
            after = job.result.images[0].bytes()
            ref = reference(job, baseline)
            if ref is None:
                view: ipywidgets.Widget = ipywidgets.Image(value=after, layout=ipywidgets.Layout(max_width="100%"))
                note = "full size"
            else:
                view = BeforeAfter(
                    before=ref[1].bytes(),
                    after=after,
                    before_label=ref[0],
                    after_label=f"#{job.variation.index}",
                    alt=alt_text(job.variation),
                )
                note = f"against {ref[0]}: drag or use the arrow keys"
        except Exception as exc:  # an expired URL or a dead server: say so here
            if generation == self._generation:
                self.header.value = message("error", f"could not load the full image: {exc}")
            return
        if generation != self._generation:  # closed, or another tile asked meanwhile
            close_tree(view)
            return
        self._close_children()
        self.body.children = [view]
        self.download.value = _download_link(after, job.variation.index)
        self.header.value = (
            f'<b style="color:{COLOR["fg"]}">#{job.variation.index}</b> '
            f'<span style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">'
            f"{esc(job.variation.label())} — {esc(note)}</span>"
        )

    def _step(self, by: int) -> None:
        if self._shown is None or self._go is None or self._shown not in self._others:
            return
        place = self._others.index(self._shown) + by
        if 0 <= place < len(self._others):
            self._go(self._others[place])

    def _close_children(self) -> None:
        old, self.body.children = self.body.children, ()
        for child in old:
            close_tree(child)


def _download_link(data: bytes, index: int) -> str:
    """A link that saves the full image from the browser (the bytes leave the page again on Close)."""
    mime = sniff_mime(data, "image/png")
    ext = mime.split("/")[-1].replace("jpeg", "jpg")
    href = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return (
        f'<a download="falstudio-variation-{index}.{ext}" href="{href}" '
        f'style="color:{COLOR["accent"]};margin:0 8px">Download</a>'
    )
