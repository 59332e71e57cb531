"""Loading an endpoint typed from fal's schema without blocking the notebook: the Studio's "Other endpoint…" row.

Fetching the schema can take up to the loader's deadline, so it runs on a worker thread; the row says it is
loading, offers Cancel (the result is then ignored), and on failure says what went wrong and the fix in a line
or two. The outcome is applied on the kernel's own thread when there is a kernel (else on the worker).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import ipywidgets

from .._internal.theme import message
from ..endpoints import EndpointSpec, UnknownEndpointError, get
from ..endpoints.loader import SchemaUnavailableError
from ..endpoints.openapi import BadSchemaError

_SHORT = 240  # characters of a reason shown in the row


class EndpointLoading:
    """Loads specs for a Load button and a status line; calls ``on_loaded(id)`` or ``on_given_up()``."""

    def __init__(
        self,
        status: ipywidgets.HTML,
        load_button: ipywidgets.Button,
        on_loaded: Callable[[str], None],
        on_given_up: Callable[[], None],
    ) -> None:
        self.status, self.load_button = status, load_button
        self.on_loaded, self.on_given_up = on_loaded, on_given_up
        self.cancel_button = ipywidgets.Button(
            description="Cancel",
            icon="times",
            tooltip="Stop waiting for fal's schema; the form stays as it is",
            layout=ipywidgets.Layout(width="auto", display="none"),
        )
        self.cancel_button.on_click(lambda _b: self.cancel())
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def loading(self) -> bool:
        """Whether a load is under way (and shown as such)."""
        return bool(self.load_button.disabled)

    def start(self, endpoint_id: str) -> None:
        """Begin loading ``endpoint_id`` (returns at once); an earlier load still running is abandoned."""
        text = endpoint_id.strip()
        if not text:
            self.status.value = message("warn", "type an endpoint id first, e.g. fal-ai/flux/dev")
            return
        with self._lock:
            self._generation += 1
            generation = self._generation
        self.status.value = message("muted", f"loading fal's schema for {text}…", role="status")
        self.load_button.disabled = True
        self.cancel_button.layout.display = None
        self._thread = threading.Thread(
            target=self._work, args=(generation, text), name="falstudio-endpoint-load", daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        """Stop waiting: whatever the load brings later is ignored; the picker goes back to the form's endpoint."""
        with self._lock:
            self._generation += 1
        self._idle()
        self.status.value = message("muted", "stopped waiting for fal's schema")
        self.on_given_up()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the current load to be applied (for scripts and tests); whether it was."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _work(self, generation: int, endpoint_id: str) -> None:
        try:
            spec: EndpointSpec | None = get(endpoint_id)
            problem = None
        except Exception as exc:  # shown in the row: a worker thread's traceback would never be seen
            spec, problem = None, short_reason(endpoint_id, exc)
        _on_kernel_thread(lambda: self._finish(generation, spec, problem))

    def _finish(self, generation: int, spec: EndpointSpec | None, problem: str | None) -> None:
        with self._lock:
            if generation != self._generation:
                return  # abandoned
        self._idle()
        if spec is not None:
            self.status.value = ""
            self.on_loaded(spec.id)
            return
        self.status.value = message("error", problem or "could not load it", role="alert")
        self.on_given_up()

    def _idle(self) -> None:
        self.load_button.disabled = False
        self.cancel_button.layout.display = "none"


def short_reason(endpoint_id: str, exc: BaseException) -> str:
    """One or two lines: what went wrong loading ``endpoint_id``, and the fix."""
    if isinstance(exc, SchemaUnavailableError):
        return (
            f"Could not fetch fal's schema for {endpoint_id} ({_cut(exc.problem)}). Fix: check the network and "
            "press Load again (once fetched, falstudio keeps it for offline use)."
        )
    if isinstance(exc, BadSchemaError):
        return f"fal's schema for {endpoint_id} cannot be used: {_cut(exc.problem)}."
    if isinstance(exc, UnknownEndpointError):
        hint = f" Did you mean {exc.suggestion}?" if exc.suggestion else ""
        return f"{endpoint_id}: {_cut(exc.reason or 'not an endpoint falstudio can type')}.{hint}"
    return f"Could not load {endpoint_id}: {type(exc).__name__}: {_cut(str(exc))}"


def _cut(text: str) -> str:
    text = text.strip().rstrip(".")
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _on_kernel_thread(work: Callable[[], None]) -> None:
    """Run ``work`` on the kernel's event loop when there is one (widget changes belong there), else now."""
    try:
        from IPython import get_ipython

        loop = getattr(getattr(get_ipython(), "kernel", None), "io_loop", None)
    except ImportError:
        loop = None
    if loop is not None and callable(getattr(loop, "add_callback", None)):
        loop.add_callback(work)
    else:
        work()
