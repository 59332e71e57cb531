"""The line beside Compare's Run button: how many requests, what they cost, and a note (budget, run states)."""

from __future__ import annotations

import ipywidgets

from ..._internal.theme import COLOR, FONT_SMALL, esc, message
from ...sweep import Sweep
from ._layout import total_text


class SummaryLine(ipywidgets.HTML):
    """``4 requests · estimated $0.06 in all`` and a note; or the problem that leaves nothing to run."""

    def __init__(self) -> None:
        super().__init__()
        self._sweep_text: tuple[Sweep, str] | None = None  # the count and cost, of that sweep

    def show(self, variations: Sweep, note: str = "") -> None:
        cached = self._sweep_text
        if cached is None or cached[0] is not variations:  # a sweep's cost sums every variation: once a sweep
            count = f"{len(variations)} request{'s' if len(variations) != 1 else ''}"
            cached = self._sweep_text = (variations, f"{count} · {total_text(variations.cost)}")
        self.value = (
            f'<span role="status" style="color:{COLOR["fg"]};font-size:{FONT_SMALL};'
            f'margin-left:8px">{esc(cached[1] + note)}</span>'
        )

    def problem(self, text: str) -> None:
        self.value = message("error", text, role="alert")
