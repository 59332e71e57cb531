"""What the budget guard says when it refuses a request: the estimate, what is spent, what is left, the fix."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from ._journal import LOCK_SECONDS
from .errors import BudgetExceededError

if TYPE_CHECKING:
    from falstudio.endpoints import CostEstimate

ZERO = Decimal(0)
ENV = "FALSTUDIO_BUDGET"


class Budget(Protocol):
    """What a refusal says of the budget (a :class:`~._budget.Budget`): its limit, where it comes from, what counts."""

    limit: Decimal
    source: str

    @property
    def scope(self) -> str: ...


def locked_error(budget: Budget | None, path: str) -> BudgetExceededError:
    return BudgetExceededError(
        f"nothing was sent: another kernel has held {path} for {LOCK_SECONDS:.0f} s, so what the shared history "
        "folder has spent cannot be checked",
        estimate=None,
        spent=None,
        budget=budget.limit if budget is not None else ZERO,
        hint="try again in a moment; if it persists, find the kernel that is stuck (or delete the lock file when "
        "no kernel uses this history folder)",
    )


def _how_to_raise(budget: Budget, needed: Decimal) -> str:
    amount = f"{math.ceil(needed * 100) / 100:.2f}"
    if budget.source == ENV:
        return (
            f"to allow it the budget must be at least ${amount}: ask whoever set {ENV}={budget.limit} to raise it "
            f"(or pass Client(budget={amount}))"
        )
    return f"to allow it the budget must be at least ${amount}: Client(budget={amount})"


def over_error(
    budget: Budget, requests: Sequence[tuple[str, CostEstimate | None]], total: Decimal, used: Decimal
) -> BudgetExceededError:
    from falstudio.endpoints.pricing import usd

    left = max(ZERO, budget.limit - used)
    estimates = [cost for _, cost in requests if cost is not None]
    # The same marks CostEstimate prints: an `auto` priced at its dearest is a bound, an off-table size a guess.
    mark = "≤ " if any(c.is_upper_bound for c in estimates) else "~" if any(c.is_approximate for c in estimates) else ""
    if len(requests) == 1:
        what = f"this request is estimated at {mark}{usd(total)}"
    else:
        what = f"these {len(requests)} requests are estimated at {mark}{usd(total)} in all"
    message = (
        f"refused by the budget, nothing was sent: {what}, but {usd(used)} of the {usd(budget.limit)} budget is "
        f"already spent or in flight, leaving {usd(left)} (counting {budget.scope})"
    )
    hint = _how_to_raise(budget, used + total) + "; or make it cheaper (lower quality, a smaller size, fewer images)"
    endpoints = {endpoint for endpoint, _ in requests}
    return BudgetExceededError(
        message,
        estimate=total,
        spent=used,
        budget=budget.limit,
        requests=len(requests),
        endpoint=endpoints.pop() if len(endpoints) == 1 else None,
        hint=hint,
    )


def unpriced_error(budget: Budget, endpoints: list[str], count: int) -> BudgetExceededError:
    from falstudio.endpoints.pricing import usd

    names = ", ".join(sorted(set(endpoints)))
    what = "this request" if count == 1 else f"{len(endpoints)} of these {count} requests"
    return BudgetExceededError(
        f"refused by the budget, nothing was sent: falstudio knows no price for {names}, so the "
        f"{usd(budget.limit)} budget cannot guard {what}",
        estimate=None,
        spent=None,
        budget=budget.limit,
        requests=count,
        endpoint=endpoints[0] if len(set(endpoints)) == 1 else None,
        hint="pass allow_unpriced=True to the client to send requests with no known price under a budget "
        "(they count as $0)",
    )
