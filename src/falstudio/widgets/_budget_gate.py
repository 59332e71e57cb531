"""A budget shown before pressing: a request's (or sweep's) estimate against what the client's budget has left,
and the reason Generate / Run is disabled when it would be refused."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from ..endpoints.pricing import usd

if TYPE_CHECKING:
    from ..client import ClientLike
    from ..endpoints import CostEstimate


@dataclass(frozen=True)
class Gate:
    """What the budget says of a request before it is sent: ``text`` to show beside its estimate (None: no
    budget), and ``refusal``, the reason it would be refused (None: it would be sent)."""

    text: str | None = None
    refusal: str | None = None


def budget_gate(client: ClientLike | None, requests: Sequence[tuple[str, CostEstimate | None]]) -> Gate:
    """The client's budget's view of ``requests`` (``(endpoint, estimate)`` each), checked the way sending
    checks them (what other kernels recorded in the shared folder included); nothing is reserved."""
    from ..client import errors

    budget = client.budget if client is not None else None
    if budget is None or not requests:
        return Gate()
    limit = budget.limit
    try:
        left = budget.left()
        budget.check(requests)
    except errors.BudgetExceededError as exc:
        if exc.estimate is None:
            reason = "No price is known for this endpoint, so the budget cannot guard it"
            return Gate(f"budget {usd(limit)}", f"{reason} (Client(allow_unpriced=True) sends it as $0)")
        left = max(limit - (exc.spent if exc.spent is not None else limit), Decimal(0))
        return Gate(
            f"{usd(left)} left of {usd(limit)} budget",
            f"Over budget: estimated {usd(exc.estimate)}, but only {usd(left)} of the {usd(limit)} budget is left",
        )
    except Exception as exc:  # a budget that cannot be read must not break the form
        return Gate(f"budget {usd(limit)}: unknown ({type(exc).__name__})")
    return Gate(f"{usd(left)} left of {usd(limit)} budget")
