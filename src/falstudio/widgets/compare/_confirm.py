"""Asking before a sweep that costs more than ``confirm_above``: the refusal for code, the question in the widget."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import ipywidgets

from ..._internal.errors import FalstudioError
from ..._internal.theme import COLOR, esc
from ...endpoints import CostEstimate
from ...sweep import Sweep


class CostConfirmationRequired(FalstudioError, RuntimeError):
    """The sweep costs more than ``confirm_above``: confirm in the widget or call ``run(confirm=True)``."""


def needs_confirmation(cost: CostEstimate, confirm_above: Decimal | None) -> bool:
    """Above ``confirm_above``, or not known to be below it (some prices unknown)."""
    return confirm_above is not None and (cost.amount > confirm_above or not cost.known)


def refusal(variations: Sweep, confirm_above: Decimal) -> CostConfirmationRequired:
    """The error ``run()`` raises for ``variations`` without ``confirm=True``: what it costs and how to go on."""
    cost = variations.cost
    why = (
        f"is estimated at {cost}, above"
        if cost.known
        else f"has {cost.unpriced} request(s) with no price known, so it cannot be checked against"
    )
    return CostConfirmationRequired(
        f"this sweep of {len(variations)} requests {why} confirm_above=${confirm_above:.2f}; "
        "call run(confirm=True) or click Run and confirm"
    )


class ConfirmBar(ipywidgets.HBox):
    """ "Run 6 requests for $1.56?" with Yes and No, hidden until :meth:`ask`; ``on_answer(yes)`` gets the click."""

    def __init__(self, on_answer: Callable[[bool], None]) -> None:
        self.text = ipywidgets.HTML()
        self.yes_button = ipywidgets.Button(description="Yes, run", button_style="warning")
        self.no_button = ipywidgets.Button(description="No")
        super().__init__(
            [self.text, self.yes_button, self.no_button],
            layout=ipywidgets.Layout(display="none", align_items="center"),
        )
        self.yes_button.on_click(lambda _b: self._answer(on_answer, True))
        self.no_button.on_click(lambda _b: self._answer(on_answer, False))

    def ask(self, variations: Sweep) -> None:
        cost = variations.cost
        price = f"for {esc(cost)}" if cost.known else f"({esc(cost)})"
        self.text.value = f'<b style="color:{COLOR["fg"]}">Run {len(variations)} requests {price}?</b>&nbsp;'
        self.layout.display = "flex"

    def hide(self) -> None:
        self.layout.display = "none"

    def _answer(self, on_answer: Callable[[bool], None], yes: bool) -> None:
        self.hide()
        on_answer(yes)
