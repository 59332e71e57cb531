"""A widget's reader view: the static copy of its *current* state that a saved notebook keeps.

JupyterLab and Notebook 7 save an output's ``text/html`` as it was when the cell displayed it, and an
``update_display`` of a widget's own output re-creates its live view (focus and place are lost: measured in
both). So a falstudio widget displayed by a kernel leaves two outputs: its live view, and right after it a plain
``text/html`` output with a display id, the reader view, which the widget replaces with ``update_display`` at
milestones (a job ends, a run finishes, favourites change). Replacing a plain HTML output touches nothing live.

Where the live view renders (a running kernel, or widget state restored) a ``<style>`` rule in the reader view
hides it next to the live view; where the live view cannot render (a reopened notebook without its kernel, an
nbconvert export offline, GitHub) the reader view is what people see. An untrusted notebook drops the rule: the
reader view then shows as well, and it is current.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Any

from ..endpoints import find
from ._html import prompt_of, small_thumbnail
from ._pool import Latest

LIVE_CLASS = "fs-live"  # on the root of every falstudio widget's live view
READER_CLASS = "fs-reader"

# The reader view next to a rendered live view is hidden: JupyterLab, Notebook 7 and nbconvert's lab template
# (.jp-OutputArea-child), the classic template (.output_area). And the other way round: a live view that has not
# drawn (still "Loading widget...", or never: a reopened notebook without its widget state) is hidden while the
# reader view stands in for it.
_HIDE_NEXT_TO_LIVE = (
    "<style>"
    f".jp-OutputArea-child:has(.{LIVE_CLASS})+.jp-OutputArea-child:has(.{READER_CLASS}),"
    f".output_area:has(.{LIVE_CLASS})+.output_area:has(.{READER_CLASS})"
    "{display:none}"
    f".jp-OutputArea-child:not(:has(.{LIVE_CLASS})):has(+.jp-OutputArea-child .{READER_CLASS}),"
    f".output_area:not(:has(.{LIVE_CLASS})):has(+.output_area .{READER_CLASS})"
    "{display:none}</style>"
)

__all__ = ["LIVE_CLASS", "READER_CLASS", "ReaderView", "StaticThumbnails", "job_facts", "reader_bundle"]


def reader_bundle(static_html: str, plain: str) -> dict[str, str]:
    """The reader view's output: the widget's static HTML (inline styles only) and its text repr."""
    # tex2jax_ignore / mathjax_ignore: two prices in one line ("$0.16 · today: $3.45") are not LaTeX to MathJax
    html = f'<div class="{READER_CLASS} tex2jax_ignore mathjax_ignore">{_HIDE_NEXT_TO_LIVE}{static_html}</div>'
    return {"text/html": html, "text/plain": plain}


def _in_kernel() -> bool:
    """Whether a Jupyter kernel is displaying (a terminal IPython shows text only: no reader view there)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _publish(
    data: dict[str, Any], metadata: dict[str, Any], *, display_id: str | None = None, update: bool = False
) -> None:
    from IPython.display import display, update_display

    if update:
        update_display(data, raw=True, display_id=display_id)  # type: ignore[no-untyped-call]
    elif display_id is not None:
        display(data, metadata=metadata, raw=True, display_id=display_id)  # type: ignore[no-untyped-call]
    else:
        display(data, metadata=metadata, raw=True)  # type: ignore[no-untyped-call]


class ReaderView:
    """Mixin for falstudio's widgets (first in the bases): a kernel displays the live view plus its reader view;
    :meth:`_reader_changed` re-publishes the reader view (coalesced, on the widgets' pool) and
    :meth:`_flush_reader` does it now, from the calling thread (e.g. at the end of ``wait()``, so that a
    notebook run by nbclient saves the final state).

    The class needs ``_static_html()`` and ``_repr_mimebundle_()`` (the widget's own, with a ``text/html``).
    """

    _reader_id: str | None = None

    def _ipython_display_(self) -> None:
        bundle = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        if not _in_kernel():
            _publish(data, metadata)
            return
        self.add_class(LIVE_CLASS)
        if self._reader_id is None:
            self._reader_id = f"falstudio-{uuid.uuid4().hex}"
            self._reader_lock = threading.Lock()
            self._reader_updates: Latest[None] = Latest(lambda _none: self._publish_reader())
            self.reader_error: BaseException | None = None
        # The live view's own output keeps only its text repr: the reader view below it is the static one.
        _publish({**data, "text/html": ""}, metadata)
        with self._reader_lock:
            self._reader_sent = self._reader_data()
            _publish(self._reader_sent, {}, display_id=self._reader_id)

    def _reader_changed(self) -> None:
        """The widget changed in a way a reader should see: publish its reader view soon (any thread)."""
        if self._reader_id is not None:
            self._reader_updates.push(None)

    def _flush_reader(self) -> None:
        """Publish the reader view now, from the calling thread (a no-op for a widget no kernel displayed).

        Sent even when unchanged: an update a worker thread sent carries another cell as its parent, and
        nbclient (``nbconvert --execute``) drops such messages, so the cell that waits re-sends what it shows."""
        if self._reader_id is not None:
            self._publish_reader(force=True)

    def _reader_data(self) -> dict[str, str]:
        return reader_bundle(self._static_html(), repr(self))

    if TYPE_CHECKING:  # what the widget class brings

        def _static_html(self) -> str: ...
        def _repr_mimebundle_(self, **kwargs: Any) -> Any: ...
        def add_class(self, className: str) -> Any: ...  # ipywidgets' name

    def _publish_reader(self, *, force: bool = False) -> None:
        try:
            with self._reader_lock:  # render and send together: an older copy never lands after a newer one
                data = self._reader_data()
                if not force and data == getattr(self, "_reader_sent", None):  # unchanged: not sent again
                    return
                _publish(data, {}, display_id=self._reader_id, update=True)
                self._reader_sent = data
        except Exception as exc:  # the live widget goes on; the saved copy stays at its last state
            self.reader_error = exc


class StaticThumbnails:
    """Small copies of pictures for a static view, made once per picture (a reader view is redrawn often)."""

    def __init__(self, max_px: int) -> None:
        self._max_px = max_px
        self._made: dict[object, tuple[bytes, tuple[bytes, str]]] = {}

    def get(self, key: object, data: bytes) -> tuple[bytes, str]:
        """The small copy of ``data`` (the picture now shown under ``key``): ``(bytes, mime)``."""
        made = self._made.get(key)
        if made is None or made[0] is not data:
            made = self._made[key] = (data, small_thumbnail(data, self._max_px))
        return made[1]


def job_facts(endpoint: str, request: Any, request_id: str | None) -> list[tuple[str, str]]:
    """What a static view says about one request beside its state: the prompt, the estimated cost, the id."""
    prompt = prompt_of(request)
    facts = [("Prompt", " ".join(prompt.split()))] if prompt else []
    spec = find(endpoint)
    if spec is not None and request is not None:
        try:
            facts.append(("Estimated cost", str(spec.estimate_cost(request))))
        except Exception:  # a request the endpoint's model refuses has no estimate: the state says why
            pass
    if request_id:
        facts.append(("Request ID", request_id))
    return facts
