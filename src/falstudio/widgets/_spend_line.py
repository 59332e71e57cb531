"""The one muted line the Studio and Compare show: what this kernel and today have spent, and the budget left."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING

import ipywidgets

from .._internal.theme import COLOR, FONT_SMALL, esc, style
from ._pool import Latest

if TYPE_CHECKING:
    from ..client import ClientLike


def spend_text(client: ClientLike) -> str:
    """``This kernel: $0.05 · today: $0.21 (offline runs, priced as fal would bill them) · budget ...``."""
    from ..client import process_spend
    from ..history import default_recorder, history

    mode = client.mode
    parts = [f"This kernel: ${process_spend(mode):.2f}"]
    billed = ""
    if default_recorder() is not None:
        try:
            spend = history(since="today").spent()
        except Exception:  # a broken history folder must not break the widget
            parts.append("today: unknown (history unreadable)")
        else:
            parts.append(f"today: ${spend.estimated(mode):.2f}")
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
            text += f" · budget ${budget.limit:.2f}: ${budget.left():.2f} left"
        except Exception:
            text += f" · budget ${budget.limit:.2f}"
    return text


class SpendLine(ipywidgets.HTML):
    """The spend line as a widget; :meth:`refresh` re-reads the figures, :meth:`refresh_soon` does it on a
    widget worker (call that when a job ends: reading the history folder never holds up the client's loop)."""

    def __init__(self, client: ClientLike | None = None) -> None:
        super().__init__()
        self.client = client  # None: nothing to show yet
        self.text = ""
        self._soon: Latest[None] = Latest(lambda _: self.refresh())
        self.refresh()

    @property
    def idle(self) -> threading.Event:
        """Set while no refresh is pending or running."""
        return self._soon.idle

    def refresh_soon(self) -> None:
        """:meth:`refresh` on a widget worker (refreshes asked for while one runs become one more)."""
        self._soon.push(None)

    def refresh(self) -> None:
        if self.client is None:
            return
        self.text = spend_text(self.client)
        css = style(color=COLOR["muted"], font_size=FONT_SMALL, line_height="1.4")
        self.value = f'<div role="status" aria-live="polite" style="{css}">{esc(self.text)}</div>'
