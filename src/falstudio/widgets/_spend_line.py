"""The one muted line the Studio and Compare show: what this kernel and today have spent, and the budget left."""

from __future__ import annotations

import asyncio
import threading
from decimal import Decimal
from typing import TYPE_CHECKING

import ipywidgets

from .._internal.theme import COLOR, FONT_SMALL, esc, style
from ..endpoints.pricing import usd
from ._pool import Latest

FLUSH_SECONDS = 5.0
EVERY_SECONDS = 0.25  # a burst of jobs ending re-reads the figures a few times a second, not once per job

if TYPE_CHECKING:
    from ..client import ClientLike


def spend_text(client: ClientLike) -> str:
    """``This kernel: $0.05 · today: $0.21 (offline runs, priced as fal would bill them) · budget ...``."""
    from ..client import process_spend, recorder
    from ..history import default_recorder, history

    mode = client.mode
    parts = [f"This kernel: {usd(process_spend(mode))}"]
    billed = ""
    if default_recorder() is not None:
        if not _on_a_loop():  # the jobs that just ended are counted: their records were queued first
            recorder.flush(FLUSH_SECONDS)
        try:
            spend = history(since="today").spent()
        except Exception:  # a broken history folder must not break the widget
            parts.append("today: unknown (history unreadable)")
        else:
            today = f"today: {usd(spend.estimated(mode))}"
            if client.recorder is None:  # history=False: its runs are in "this kernel" only
                today += " in the run history, which this client (history=False) does not write to"
            parts.append(today)
            units = [u for (u, _unit) in spend.billed_units().values()] if mode == "fal" else []
            if units:
                billed = f" · fal reported {sum(units, Decimal(0))} billable units today"
    else:
        parts.append("today: not recorded (FALSTUDIO_HISTORY=0)")
    kind = " (offline runs, priced as fal would bill them; nothing billed)" if mode == "local" else " (estimates)"
    text = " · ".join(parts) + kind + billed
    budget = client.budget
    if budget is not None:
        try:
            text += f" · budget {usd(budget.limit)}: {usd(budget.left())} left"
        except Exception:
            text += f" · budget {usd(budget.limit)}"
    return text


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True  # never block a loop: the history writer may need it


class SpendLine(ipywidgets.HTML):
    """The spend line as a widget; :meth:`refresh` re-reads the figures, :meth:`refresh_soon` does it on a
    widget worker (call that when a job ends: reading the history folder never holds up the client's loop)."""

    def __init__(self, client: ClientLike | None = None) -> None:
        super().__init__()
        self.client = client  # None: nothing to show yet
        self.text = ""
        self._soon: Latest[None] = Latest(lambda _: self.refresh(), every=EVERY_SECONDS)
        self.refresh()

    @property
    def idle(self) -> threading.Event:
        """Set while no refresh is pending or running."""
        return self._soon.idle

    def refresh_soon(self) -> None:
        """:meth:`refresh` on a widget worker (refreshes asked for while one runs, or within
        :data:`EVERY_SECONDS` of its start, become one more)."""
        self._soon.push(None)

    def refresh(self) -> None:
        if self.client is None:
            return
        self.text = spend_text(self.client)
        css = style(color=COLOR["muted"], font_size=FONT_SMALL, line_height="1.4")
        self.value = f'<div role="status" aria-live="polite" style="{css}">{esc(self.text)}</div>'
