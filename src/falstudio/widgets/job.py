"""The panel of one request: state, elapsed time, a progress bar, a bounded log, Cancel, the error.

Each job runs on a daemon thread of its own: it submits the request, then redraws the panel at most
``max_hz`` times a second (and every half second for the elapsed time) until the result is in. Status
updates arrive on the client's loop thread and only record state, so the kernel is never blocked and two
jobs never share a widget. Nothing is printed and no ``Output`` capture is used.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import ipywidgets

from .._internal.theme import COLOR, FONT_CODE, FONT_SMALL, StaticFallback, card, esc, table
from ..client import Completed, InProgress, LogEntry, Queued, Status
from ..client.errors import FalError, RequestCancelledError
from .gallery import request_params

State = Literal["submitting", "queued", "running", "done", "failed", "cancelled"]
FINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
_TICK_SECONDS = 0.5  # elapsed time is redrawn at 2 Hz
_STATE_COLOR = {"done": "success", "failed": "error", "cancelled": "warn"}
_LEVEL_COLOR = {"ERROR": "error", "STDERR": "error", "WARN": "warn", "WARNING": "warn", "DEBUG": "muted"}

_BAR = (
    "<style>@keyframes fs-job-slide{0%{left:-40%}100%{left:100%}}"
    "@media (prefers-reduced-motion: reduce){.fs-job-slider{animation:none!important;left:0!important;"
    "width:100%!important;opacity:.5}}</style>"
    '<div role="progressbar" aria-label="{label}" aria-busy="true" style="position:relative;height:4px;'
    f'overflow:hidden;border-radius:2px;background:{COLOR["bg2"]}">'
    '<div class="fs-job-slider" style="position:absolute;top:0;bottom:0;width:40%;border-radius:2px;'
    f'background:{COLOR["accent"]};animation:fs-job-slide 1.4s ease-in-out infinite"></div></div>'
)


def format_seconds(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60}:{whole % 60:02d} min"


class JobView(StaticFallback, ipywidgets.VBox):  # type: ignore[misc]
    """A live panel for one request. Start one with :meth:`JobView.submit`.

    ``state`` goes ``submitting -> queued -> running -> done | failed | cancelled``. ``future`` resolves
    to the client's ``Result`` (or its exception) once the panel shows the final state.
    """

    def __init__(self, endpoint: str, request: Any = None, *, log_lines: int = 200, max_hz: float = 10.0) -> None:
        if log_lines < 1 or max_hz <= 0:
            raise ValueError("log_lines must be at least 1 and max_hz positive")
        self.endpoint = endpoint
        self.request = request
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self.request_id: str | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self._interval = 1.0 / max_hz
        self._lock = threading.Lock()
        self._state: State = "submitting"
        self._position: int | None = None
        self._logs: collections.deque[LogEntry] = collections.deque(maxlen=log_lines)
        self._log_total = 0
        self._started = time.monotonic()
        self._ended: float | None = None
        self._wake = threading.Event()
        self._finished = threading.Event()
        self._cancel_requested = False
        self._callbacks: list[Callable[[JobView], None]] = []
        self._callbacks_run = False
        self._thread: threading.Thread | None = None
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
        self._log = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))
        self._error = ipywidgets.HTML(layout=ipywidgets.Layout(display="none"))
        header = ipywidgets.HBox([self._status, self._cancel], layout=ipywidgets.Layout(align_items="center"))
        super().__init__(
            children=[header, self._bar, self._log, self._error],
            layout=ipywidgets.Layout(border=f"1px solid {COLOR['border']}", padding="4px 8px", margin="4px 0"),
        )
        self.add_class("fs-job")
        self._render()

    # -- starting ----------------------------------------------------------------------------------

    @classmethod
    def submit(cls, client: Any, endpoint: str, arguments: Any, **options: Any) -> JobView:
        """Show a panel and run ``client.submit(endpoint, arguments)`` in the background; returns at once."""
        view = cls(endpoint, arguments, **options)
        view.start(client, arguments)
        return view

    def start(self, client: Any, arguments: Any) -> None:
        if self._thread is not None:
            raise RuntimeError("this JobView has already been started")
        self._thread = threading.Thread(
            target=self._run, args=(client, arguments), name=f"falstudio-job-{self.endpoint}", daemon=True
        )
        self._thread.start()

    # -- what people use ---------------------------------------------------------------------------

    @property
    def state(self) -> State:
        return self._state

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def queue_position(self) -> int | None:
        return self._position

    @property
    def elapsed(self) -> float:
        """Seconds since the panel was created (frozen once the job has ended)."""
        return (self._ended or time.monotonic()) - self._started

    @property
    def logs(self) -> tuple[LogEntry, ...]:
        """The log lines kept (the newest ``log_lines``)."""
        with self._lock:
            return tuple(self._logs)

    def cancel(self) -> None:
        """Ask the server to cancel the request (no-op once it has ended)."""
        with self._lock:
            if self._state in FINAL_STATES or self._cancel_requested:
                return
            self._cancel_requested = True
        self._cancel.disabled = True
        self._cancel.description = "Cancelling…"
        self._wake.set()

    def on_done(self, callback: Callable[[JobView], None]) -> None:
        """Call ``callback(view)`` once the job has ended (at once if it already has).

        It runs on the job's thread; exceptions are shown in the panel, not raised.
        """
        with self._lock:
            if not self._callbacks_run:
                self._callbacks.append(callback)
                return
        self._call(callback)

    def wait(self, timeout: float | None = None) -> JobView:
        """Block until the job has ended and the panel shows it; raises TimeoutError after ``timeout`` s."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job on {self.endpoint} still {self._state} after {timeout} s")
        return self

    def __repr__(self) -> str:
        return f"JobView({self.endpoint!r}, state={self._state!r})"

    def _static_html(self) -> str:
        rows = [("state", esc(self._state)), ("elapsed", esc(format_seconds(self.elapsed)))]
        rows += [(esc(k), esc(v)) for k, v in request_params(self.request).items()]
        error = self._error_box(self._error_text()) if self.error else ""
        return card(f"<b>{esc(self.endpoint)}</b>", table(rows) + error)

    # -- the job thread ----------------------------------------------------------------------------

    def _run(self, client: Any, arguments: Any) -> None:
        try:
            handle = client.submit(self.endpoint, arguments)
            self.request_id = handle.request_id
            inner = handle.future(with_logs=True, on_update=self._on_status)
            inner.add_done_callback(lambda _f: self._wake.set())
            self._follow(handle, inner)
            result = inner.result()
        except BaseException as exc:  # every outcome ends in the panel, never in a stray traceback
            self._finish(error=exc)
        else:
            self._finish(result=result)

    def _follow(self, handle: Any, inner: concurrent.futures.Future[Any]) -> None:
        cancel_sent = False
        last = 0.0
        while not inner.done():
            self._wake.wait(_TICK_SECONDS)
            self._wake.clear()
            if self._cancel_requested and not cancel_sent:
                cancel_sent = True
                try:
                    accepted = handle.cancel()
                except FalError as exc:
                    accepted, reason = False, exc.message
                else:
                    reason = "it had already finished"
                if accepted is False:  # say why and keep following: the result may still come
                    self._add_logs([LogEntry(f"could not cancel: {reason}", level="WARN")])
            pause = last + self._interval - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            if inner.done():
                break
            self._render()
            last = time.monotonic()

    def _on_status(self, status: Status) -> None:
        """Called by the client (on its loop thread) for each status change: record it, wake the renderer."""
        with self._lock:
            if isinstance(status, Queued) and self._state not in FINAL_STATES:  # a late status cannot undo the end
                self._state, self._position = "queued", status.position
            elif isinstance(status, InProgress | Completed) and self._state in ("submitting", "queued"):
                self._state, self._position = "running", None
        self._add_logs(status.logs)

    def _add_logs(self, entries: Any) -> None:
        with self._lock:
            self._logs.extend(entries)
            self._log_total += len(entries)
        self._wake.set()

    def _finish(self, *, result: Any = None, error: BaseException | None = None) -> None:
        with self._lock:
            self._ended = time.monotonic()
            self._position = None
            if error is None:
                self._state, self.result = "done", result
            else:
                self._state = "cancelled" if isinstance(error, RequestCancelledError) else "failed"
                self.error = error
            callbacks, self._callbacks, self._callbacks_run = self._callbacks, [], True
        try:
            self._render()
            for callback in callbacks:
                self._call(callback)
        finally:  # whatever happens while drawing, waiters are released
            self._finished.set()
            if error is None:
                self.future.set_result(result)
            else:
                self.future.set_exception(error)

    def _call(self, callback: Callable[[JobView], None]) -> None:
        try:
            callback(self)
        except Exception as exc:
            self._error.layout.display = None
            self._error.value += self._error_box(f"A done-callback failed: {type(exc).__name__}: {exc}")

    # -- drawing -----------------------------------------------------------------------------------

    def _render(self) -> None:
        with self._lock:
            state, position, logs, total = self._state, self._position, list(self._logs), self._log_total
        self.renders += 1
        self._status.value = self._status_html(state, position)
        running = state not in FINAL_STATES
        self._bar.value = _BAR.replace("{label}", f"{self.endpoint}: {state}") if running else ""
        self._cancel.disabled = not running or self._cancel_requested
        if not running:
            self._cancel.layout.display = "none"  # nothing left to cancel
        if logs:
            self._log.layout.display = None
            self._log.value = self._log_html(logs, total)
        if self.error is not None:
            self._error.layout.display = None
            self._error.value = self._error_box(self._error_text())

    def _status_html(self, state: State, position: int | None) -> str:
        label = {
            "submitting": "Submitting…",
            "queued": "Queued",
            "running": "Running",
            "done": "Done",
            "failed": "Failed",
            "cancelled": "Cancelled",
        }[state]
        if state == "queued" and position is not None:
            label += f" #{position + 1} in line"
        color = COLOR[_STATE_COLOR.get(state, "accent")]
        chip = (
            f'<span style="display:inline-block;padding:0 8px;border:1px solid {color};border-radius:9px;'
            f'color:{color};font-weight:600">{esc(label)}</span>'
        )
        detail = f"{format_seconds(self.elapsed)}"
        if state == "done" and self.result is not None:
            count = len(getattr(self.result, "images", ()) or ())
            detail += f" · {count} image{'s' if count != 1 else ''}"
        muted = f'style="color:{COLOR["muted"]};font-size:{FONT_SMALL}"'
        return (
            f'<div role="status" aria-live="polite" style="color:{COLOR["fg"]}">{chip} '
            f'<code style="font-family:{FONT_CODE}">{esc(self.endpoint)}</code> '
            f"<span {muted}>{esc(detail)}</span></div>"
        )

    def _log_html(self, logs: list[LogEntry], total: int) -> str:
        lines = []
        for entry in logs:
            level = (entry.level or "INFO").upper()
            color = COLOR[_LEVEL_COLOR.get(level, "fg")]
            stamp = entry.timestamp.strftime("%H:%M:%S ") if entry.timestamp else ""
            when = f'<span style="color:{COLOR["muted"]}">{esc(stamp)}</span>'
            tag = f'<span style="color:{color};font-weight:600">[{esc(level)}]</span>'
            lines.append(f"<div>{when}{tag} {esc(entry.message)}</div>")
        kept = f", newest {len(logs)} shown" if total > len(logs) else ""
        # column-reverse keeps the box scrolled to its end, so the newest line is visible without JS.
        box = (
            f"display:flex;flex-direction:column-reverse;max-height:9em;overflow:auto;font-family:{FONT_CODE};"
            f"font-size:{FONT_SMALL};line-height:1.4;white-space:pre-wrap;overflow-wrap:anywhere;padding:2px 6px;"
            f"background:{COLOR['bg2']};border-radius:3px;color:{COLOR['fg']}"
        )
        return (
            f'<div style="color:{COLOR["muted"]};font-size:{FONT_SMALL}">Log ({total} lines{kept})</div>'
            f'<div role="log" aria-label="Log of the request" tabindex="0" style="{box}">'
            f"<div>{''.join(lines)}</div></div>"
        )

    def _error_text(self) -> str:
        error = self.error
        if isinstance(error, FalError):
            return f"{error.message}\nhint: {error.hint}" if error.hint else error.message
        return f"{type(error).__name__}: {error}"

    def _error_box(self, text: str) -> str:
        prefix = "Cancelled: " if self._state == "cancelled" else "Error: "
        color = COLOR["warn"] if self._state == "cancelled" else COLOR["error"]
        return (
            f'<div role="alert" style="color:{color};white-space:pre-wrap;font-size:{FONT_SMALL};'
            f'border-left:3px solid {color};padding-left:6px">{esc(prefix + text)}</div>'
        )
