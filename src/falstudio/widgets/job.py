"""The panel of one request: state, elapsed time, a progress bar, a bounded log, Cancel, the error, and the
picture forming (partial images of a streamed run, then the final image).

A panel is a view of the client's tracked request (``client.track``): it is redrawn from the client's loop
at most ``max_hz`` times a second (and every half second for the elapsed time), with no thread of its own.
Thumbnails are made on the widgets' worker pool, never on the loop. Nothing is printed and no ``Output``
capture is used.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets

from .._internal.images import to_data_uri
from .._internal.theme import COLOR, FONT_SMALL, esc
from ..client import FINAL_PHASES, Image, LogEntry, Phase, State
from ._a11y import make_accessible
from ._html import STATIC_THUMBNAIL_PX, StaticFallback, card, close_tree, table
from ._job_html import BAR, error_box, error_text, format_seconds, log_html, prompt_html, status_html
from ._pool import Latest, run_in_pool
from ._reader_view import ReaderView, job_facts
from .form import human_title
from .gallery import prompt_of, request_params

if TYPE_CHECKING:
    from ..client import ClientLike, TrackedRequest

FINAL_STATES = FINAL_PHASES  # the client's one set, under the name this module has always exported
_TICK_SECONDS = 0.5  # elapsed time is redrawn at 2 Hz
PREVIEW_PX = 256

__all__ = ["FINAL_STATES", "JobView", "format_seconds"]


class JobView(ReaderView, StaticFallback, ipywidgets.VBox):
    """A live panel for one request. Start one with :meth:`JobView.submit`.

    ``state`` goes ``submitting -> queued -> running -> done | failed | cancelled``. ``future`` resolves
    to the client's ``Result`` (or its exception) once the panel shows the final state and its done-callbacks
    have run. ``stream`` (see ``Client.track``): streamed runs show their partial images as they arrive.
    """

    def __init__(
        self, endpoint: str, request: Any = None, *, log_lines: int = 200, max_hz: float = 10.0, picture: bool = True
    ) -> None:
        if log_lines < 1 or max_hz <= 0:
            raise ValueError("log_lines must be at least 1 and max_hz positive")
        self.endpoint = endpoint
        self.request = request
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.tracked: TrackedRequest | None = None
        self._client: ClientLike | None = None
        self._server_logs: tuple[LogEntry, ...] = ()  # what the offline server said of a streamed run
        self._log_lines = log_lines
        self._max_hz = max_hz
        self._picture = picture  # False: the picture is shown elsewhere (the Studio's stage)
        self._lock = threading.Lock()
        self._shown = State(endpoint)
        self._finished = threading.Event()
        self._final = False
        self._cancel_requested = False
        self._callbacks: list[Callable[[JobView], None]] = []
        self._callbacks_run = False
        self._partial_callbacks: list[Callable[[Image, int], None]] = []
        self._previews: Latest[tuple[Image, int]] = Latest(self._make_preview)
        self.renders = 0  # how many times the panel was redrawn (tests check the rate)

        self._status = ipywidgets.HTML(layout=ipywidgets.Layout(flex="1 1 auto"))
        self._cancel = ipywidgets.Button(
            description="Cancel",
            icon="stop",
            tooltip="Cancel this request",
            layout=ipywidgets.Layout(width="auto", flex="0 0 auto"),
        )
        self._cancel.on_click(lambda _button: self.cancel())
        self._bar = ipywidgets.HTML()
        # no tooltip: ipywidgets' Image view fails on one (it has no description); a11y.js gives the picture the
        # prompt as alt text (from the prompt line's data-fs-alt)
        self._preview = ipywidgets.Image(format="jpeg", layout=ipywidgets.Layout(max_width=f"{PREVIEW_PX}px"))
        self._preview_note = ipywidgets.HTML()
        self._preview_box = ipywidgets.VBox(
            [self._preview, self._preview_note], layout=ipywidgets.Layout(display="none", margin="4px 0")
        )
        self._preview_data: tuple[bytes, str] | None = None
        self._result_picture: tuple[bytes, str] | None = None  # the result's first image, small, for static views
        self._log = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))
        self._log_toggle = ipywidgets.ToggleButton(  # the Studio keeps the log folded: the picture comes first
            value=picture,
            description="Log",
            tooltip="Show or hide the request's log",
            layout=ipywidgets.Layout(width="auto", flex="0 0 auto", display="none"),
        )
        self._log_toggle.add_class("fs-disclosure")
        self._log_toggle.observe(lambda _change: self._show_log(), "value")
        self._error = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))
        header = ipywidgets.HBox(
            [self._status, self._log_toggle, self._cancel],
            layout=ipywidgets.Layout(align_items="center", grid_gap="6px"),
        )
        prompt = ipywidgets.HTML(prompt_html(prompt_of(request)), layout=ipywidgets.Layout(max_width="100%"))
        pictured = [self._preview_box] if picture else []
        super().__init__(
            children=[header, prompt, self._bar, *pictured, self._log, self._error],
            layout=ipywidgets.Layout(border=f"1px solid {COLOR['border']}", padding="4px 8px", margin="4px 0"),
        )
        self.add_class("fs-job")
        if picture:  # shown on its own: names, alt text (from the image's tooltip) and focus rings of its own
            make_accessible(self)
        self._render(self._shown)

    # -- starting ----------------------------------------------------------------------------------

    @classmethod
    def submit(
        cls,
        client: ClientLike,
        endpoint: str,
        arguments: Any,
        *,
        stream: bool | None = None,
        validate: bool = True,
        **options: Any,
    ) -> JobView:
        """Show a panel and start the request (``client.track``: ``stream`` and ``validate`` as there); returns
        at once."""
        view = cls(endpoint, arguments, **options)
        view.start(client, arguments, stream=stream, validate=validate)
        return view

    def start(self, client: ClientLike, arguments: Any, *, stream: bool | None = None, validate: bool = True) -> None:
        """Start the request on ``client`` and show it here."""
        if self.tracked is not None or self._final:
            raise RuntimeError("this JobView has already been started")
        self._client = client
        try:
            tracked = client.track(self.endpoint, arguments, stream=stream, validate=validate)
        except Exception as exc:  # e.g. a malformed endpoint id: it ends in the panel, not as a traceback
            from ..client.errors import FalError

            error = exc if isinstance(exc, FalError) else FalError(f"{type(exc).__name__}: {exc}")
            self._changed(
                State(self.endpoint, "failed", error=error, started=self._shown.started, ended=time.monotonic())
            )
            return
        self.follow(tracked)

    def follow(self, tracked: TrackedRequest) -> None:
        """Show a request that is already tracked (e.g. ``client.get_handle(...).track()``)."""
        self.tracked = tracked
        tracked.on_change(self._changed, max_hz=self._max_hz, heartbeat=_TICK_SECONDS)
        if self._cancel_requested:
            tracked.cancel()

    # -- what people use ---------------------------------------------------------------------------

    @property
    def state(self) -> Phase:
        return self._shown.phase

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def request_id(self) -> str | None:
        return self._shown.request_id

    @property
    def queue_position(self) -> int | None:
        return self._shown.queue_position

    @property
    def result(self) -> Any:
        return self._shown.result

    @property
    def error(self) -> BaseException | None:
        return self._shown.error

    @property
    def elapsed(self) -> float:
        """Seconds since the request was started (frozen once it has ended)."""
        return self._shown.elapsed

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        """The log lines kept (the newest ``log_lines``)."""
        return (self._shown.logs + self._server_logs)[-self._log_lines :]

    def cancel(self) -> None:
        """Ask for the request to end (no-op once it has ended)."""
        with self._lock:
            if self._final or self._cancel_requested:
                return
            self._cancel_requested = True
        self._cancel.disabled = True
        self._cancel.description = "Cancelling…"
        if self.tracked is not None:
            self.tracked.cancel()

    def on_done(self, callback: Callable[[JobView], None]) -> None:
        """Call ``callback(view)`` once the job has ended (at once if it already has).

        It runs on a falstudio worker thread; exceptions are shown in the panel, not raised.
        """
        with self._lock:
            if not self._callbacks_run:
                self._callbacks.append(callback)
                return
        self._call(callback)

    def on_partial(self, callback: Callable[[Image, int], None]) -> None:
        """Call ``callback(image, count)`` (on a worker thread) for each partial image shown, its thumbnail made."""
        self._partial_callbacks.append(callback)

    def wait(self, timeout: float | None = None) -> JobView:
        """Block until the job has ended and the panel shows it; raises TimeoutError after ``timeout`` s."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job on {self.endpoint} still {self.state} after {timeout} s")
        self._flush_reader()
        return self

    def close(self) -> None:
        if not self._picture:  # not among the children: close_tree would not reach it
            close_tree(self._preview_box)
        super().close()

    def __repr__(self) -> str:
        return f"JobView({self.endpoint!r}, state={self.state!r})"

    def _static_html(self) -> str:
        rows = [("State", esc(self.state)), ("Elapsed", esc(format_seconds(self.elapsed)))]
        facts = job_facts(self.endpoint, self.request, self.request_id)
        rows += [(esc(k), esc(v)) for k, v in facts]
        rows += [(esc(human_title(k)), esc(v)) for k, v in request_params(self.request).items()]
        picture = ""
        shown = self._result_picture or self._preview_data
        if shown is not None:
            alt = prompt_of(self.request) or "the generated image"
            src = to_data_uri(*shown)
            picture = f'<img src="{esc(src)}" alt="{esc(alt)}" style="max-width:{STATIC_THUMBNAIL_PX}px">'
        error = self._shown.error
        extra = error_box(error_text(error), cancelled=self.state == "cancelled") if error is not None else ""
        return card(f"<b>{esc(self.endpoint)}</b>", table(rows) + picture + extra)

    # -- following the request (on the client's loop) ----------------------------------------------

    def _changed(self, state: State) -> None:
        with self._lock:
            if self._final:
                return  # the end is drawn: nothing later undoes it
            self._final = state.done
            partial_is_new = state.partial is not None and state.partial is not self._shown.partial
            self._shown = state
        if partial_is_new and state.partial is not None:
            self._previews.push((state.partial, state.partials))
        self._render(state)
        if state.done:
            run_in_pool(lambda: self._finish(state))

    def _finish(self, state: State) -> None:
        """On a worker thread, once the end is drawn: the final picture, the callbacks, then the waiters."""
        try:
            self._offline_stream_logs(state)
            images = getattr(state.result, "images", None) or []
            if state.partials and images:
                self._show_preview(images[0], "the final image")
            if images:
                try:  # the reader view's picture (a queued run's panel shows none live: the gallery does)
                    self._result_picture = images[0].thumbnail(STATIC_THUMBNAIL_PX)
                except Exception:  # an image that cannot be fetched: the static view goes without it
                    self._result_picture = None
            self._reader_changed()
            with self._lock:
                callbacks, self._callbacks, self._callbacks_run = self._callbacks, [], True
            for callback in callbacks:
                self._call(callback)
        finally:  # whatever happens while drawing, waiters are released
            self._finished.set()
            try:  # what ``tracked.result()`` gives: the result, or the error it raises
                self.future.set_result(state.result_or_raise())
            except Exception as exc:
                self.future.set_exception(exc)

    def _offline_stream_logs(self, state: State) -> None:
        """A stream carries no log lines; the offline server keeps them (what it drew, and which words it could
        not, "Not drawn offline: ..."): read them once the run has ended, so the panel says it too."""
        client = self._client
        if not (state.streaming and state.request_id and getattr(client, "mode", None) == "local"):
            return
        try:
            status = client.status(self.endpoint, state.request_id, with_logs=True)  # type: ignore[union-attr]
        except Exception:  # the panel goes without them
            return
        seen = {entry.message for entry in state.logs}
        self._server_logs = tuple(e for e in getattr(status, "logs", ()) or () if e.message not in seen)
        if self._server_logs:
            logs = state.logs + self._server_logs
            self._log.value = log_html(logs[-self._log_lines :], len(logs))
            count = len(logs)
            self._log_toggle.description = f"Log ({count} line{'s' if count != 1 else ''})"

    def _make_preview(self, item: tuple[Image, int]) -> None:
        image, count = item
        if self._final and self._shown.phase == "done":
            return  # the final image is on its way
        if self._show_preview(image, f"forming: partial image {count}") and not self._final:
            # a run that ended (cancelled, failed) keeps its last partial here, never as a result elsewhere
            for callback in self._partial_callbacks:
                self._call_partial(callback, image, count)

    def _show_preview(self, image: Image, note: str) -> bool:
        try:
            data, mime = image.thumbnail(PREVIEW_PX)
        except Exception as exc:  # a partial that cannot be decoded: say so, keep the rest
            self._preview_note.value = f'<span style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">{esc(exc)}</span>'
            return False
        self._preview_data = (data, mime)
        if not self._picture:
            return True
        with self._preview.hold_sync():
            self._preview.format = mime.split("/")[-1]
            self._preview.value = data
        self._preview_note.value = (
            f'<span style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">{esc(note.capitalize())}</span>'
        )
        self._preview_box.layout.display = None
        return True

    def _show_log(self) -> None:
        self._log.layout.display = None if self._log_toggle.value and self._log.value else "none"

    def _call(self, callback: Callable[[JobView], None]) -> None:
        try:
            callback(self)
        except Exception as exc:
            self._show_callback_error(f"A done-callback failed: {type(exc).__name__}: {exc}")

    def _call_partial(self, callback: Callable[[Image, int], None], image: Image, count: int) -> None:
        try:
            callback(image, count)
        except Exception as exc:
            self._show_callback_error(f"A partial-image callback failed: {type(exc).__name__}: {exc}")

    def _show_callback_error(self, text: str) -> None:
        self._error.layout.display = None
        self._error.value += error_box(text, cancelled=False)

    # -- drawing -----------------------------------------------------------------------------------

    def _render(self, state: State) -> None:
        self.renders += 1
        detail = format_seconds(state.elapsed)
        if state.phase == "done" and state.result is not None:
            count = len(getattr(state.result, "images", ()) or ())
            detail += f" · {count} image{'s' if count != 1 else ''}"
        self._status.value = status_html(self.endpoint, state.phase, state.queue_position, detail)
        running = not state.done
        self._bar.value = BAR.replace("{label}", f"{self.endpoint}: {state.phase}") if running else ""
        self._cancel.disabled = not running or self._cancel_requested
        if not running:
            self._cancel.layout.display = "none"  # nothing left to cancel
        if state.logs:
            self._log.value = log_html(state.logs[-self._log_lines :], len(state.logs))
            count = len(state.logs)
            self._log_toggle.description = f"Log ({count} line{'s' if count != 1 else ''})"
            self._log_toggle.layout.display = None
            self._show_log()
        if state.error is not None:
            self._error.layout.display = None
            self._error.value = error_box(error_text(state.error), cancelled=state.phase == "cancelled")
