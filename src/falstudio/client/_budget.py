"""Spend tracking and the budget guard: every request's estimate is reserved before it is sent.

What counts as spent (the guard's definition):

* a request counts with its **estimate** (what fal would bill; offline runs are priced the same way) while it is
  in flight and once it has succeeded; a failed or cancelled request is released (fal bills only successful
  outputs). Only requests of the client's own kind count: an offline client's budget counts offline runs, a fal
  client's fal runs, so a rehearsal on the offline server behaves like the class.
* ``Client(budget=2.00)`` counts **this client's requests** from its creation.
* ``budget_since=`` (e.g. ``"today"``) also counts every request recorded in the client's history folder since
  then, by any process: kernels sharing one folder share one budget, and a kernel restart does not reset it.
* ``FALSTUDIO_BUDGET=2.00`` gives every client created without ``budget=`` that budget with
  ``budget_since="today"``: the classroom setting (one folder per student, or one shared folder for the class).
  ``"today"`` (and a duration such as ``"2h"``) is read from the clock at each check: a kernel that lives past
  midnight starts the new day's budget.

Checks and reservations happen under one process-wide lock, so concurrent submits from threads or event loops
can never together pass the limit. Clients of one process that share a history folder (``budget_since``) also
see each other's reservations before they reach the folder. Processes sharing a folder reserve through its
spend journal (:mod:`._journal`), under a lock file, so of several racing for the last room exactly one gets
through. A request whose reply was lost keeps its reservation (it may have run and been billed) until a resume,
in any process, settles it (a request's reservation moves only through its :mod:`._settlement`).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, cast

from .._internal.since import describe_since, since_timestamp
from ._journal import Journal, SeedEntry, journal_for
from ._refusals import ENV, ZERO, locked_error, over_error, unpriced_error

if TYPE_CHECKING:
    from falstudio.endpoints import CostEstimate

ENV_SINCE = "today"
RELEASE_WAIT_SECONDS = 2.0  # a cancelled request waits this long for its reservation to be given back
TicketState = Literal["reserved", "spent", "released"]
_MODE_WORDS = {"local": "offline", "fal": "fal.ai"}
# One lock for every ledger of the process: a check must see the reservations of every client that shares its
# history folder, and make its own before any of them can check again.
_LOCK = threading.Lock()
_LEDGERS: weakref.WeakSet[Ledger] = weakref.WeakSet()


class SpendReader(Protocol):
    """What the history offers the guard: its folder, and (to seed a new spend journal) every counted record
    as ``(request id or intent:<id>, mode, estimate, time)``."""

    root: os.PathLike[str] | str

    def spend_entries(self) -> list[SeedEntry]: ...


def spend_reader(recorder: object) -> SpendReader | None:
    """The recorder (a history folder) as the guard's view of other processes' spend, if it offers one."""
    return cast(SpendReader, recorder) if callable(getattr(recorder, "spend_entries", None)) else None


def parse_amount(value: object, *, name: str) -> Decimal:
    """A budget in USD (``2``, ``"2.00"``, ``"$2"``) as a Decimal >= 0; ValueError naming ``name`` otherwise."""
    example = f"{name}=2.00" if name == ENV else f"{name}=2.00 (USD)"
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError(f"{name} must be an amount in USD such as 2.00; got {value!r}. Example: {example}")
    try:
        amount = Decimal(str(value).strip().removeprefix("$").strip())
    except InvalidOperation:
        raise ValueError(f"{name} must be an amount in USD such as 2.00; got {value!r}. Example: {example}") from None
    if not amount.is_finite():
        raise ValueError(f"{name} must be a finite amount in USD such as 2.00; got {value!r}. Example: {example}")
    if amount < 0:
        raise ValueError(f"{name} must be 0 or more (USD); got {value!r}. Example: {example}")
    return amount


@dataclass(eq=False)
class Ticket:
    """One request's place in the ledger: its estimate, reserved before sending."""

    endpoint: str
    amount: Decimal
    at: float
    ledger: Ledger = field(repr=False)
    request_id: str | None = None
    intent_id: str | None = None  # its record in the history while it is being sent (see SpendReader)
    state: TicketState = "reserved"
    intent: str = field(default_factory=lambda: uuid.uuid4().hex)  # the intent id its history record gets

    @property
    def key(self) -> str:
        """Its lines in the folder's spend journal: its history record's intent (see SpendReader)."""
        return f"intent:{self.intent}"

    def bind(self, request_id: str) -> bool:
        """The request was queued (or answered) as ``request_id``; True when the folder's spend journal says so
        (a process killed from now on leaves the id there for a resume)."""
        return self.ledger.bind(self, request_id)

    def settle(self, state: str) -> None:
        """The request ended: see :meth:`Ledger.settle` (only the first call counts)."""
        self.ledger.settle(self, state)


class _ProcessTally:
    """What every client of this process (this kernel) has spent, by mode."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spent: dict[str, Decimal] = {}

    def add(self, mode: str, amount: Decimal) -> None:
        with self._lock:
            self._spent[mode] = self._spent.get(mode, ZERO) + amount

    def get(self, mode: str | None = None) -> Decimal:
        with self._lock:
            return self._spent.get(mode, ZERO) if mode else sum(self._spent.values(), ZERO)


PROCESS = _ProcessTally()


def process_spend(mode: str | None = None) -> Decimal:
    """Estimates of the requests that succeeded in this process (this kernel), all clients; ``mode`` "local"/"fal"."""
    return PROCESS.get(mode)


class Ledger:
    """One client's requests and their estimates, and the budget they are checked against (if any)."""

    def __init__(self, mode: str, reader: SpendReader | None = None) -> None:
        self.mode = mode
        self.reader = reader
        self.journal: Journal | None = (
            journal_for(Path(reader.root), reader.spend_entries) if reader is not None else None
        )
        self.budget: Budget | None = None
        self.lock = _LOCK  # held by the ledger and its Budget while they read or change tickets
        self.tickets: list[Ticket] = []
        _LEDGERS.add(self)

    # -- the request lifecycle -----------------------------------------------------------------------

    async def reserve(self, endpoint: str, cost: CostEstimate | None) -> Ticket:
        """Reserve ``cost`` for a request about to be sent; raises BudgetExceededError (nothing sent) if over.

        With a history folder, the reservation is a line in its journal: with a budget, checked and written under
        the folder's lock; without one, appended at once.
        """
        journal = self.journal
        if journal is None:
            return self._reserve(endpoint, cost, {})
        if self.budget is None:  # nothing to check: no lock, no thread; the line is one short append
            ticket = self._unchecked(journal, endpoint, cost)
            if ticket is not None:
                return ticket
        # One thread does lock, check and release: the default executor is small, and a holder waiting for a
        # second worker behind others waiting for the lock would deadlock.
        reserving = asyncio.ensure_future(asyncio.to_thread(self._reserve_in, journal, endpoint, cost))
        try:
            return await asyncio.shield(reserving)
        except asyncio.CancelledError:  # the reservation may still be made: then give it back
            reserving.add_done_callback(_release_if_made)
            # wait (briefly) for it, so that a request cancelled before it was sent is no longer counted once
            # its cancellation is published; a lock held by another kernel gets it released later instead
            await asyncio.wait([reserving], timeout=RELEASE_WAIT_SECONDS)
            raise

    def _reserve_in(self, journal: Journal, endpoint: str, cost: CostEstimate | None) -> Ticket:
        import filelock  # loaded with the first budgeted request, not with the client

        try:
            journal.acquire()
        except filelock.Timeout:
            raise locked_error(self.budget, journal.lock.lock_file) from None
        except OSError as exc:  # a folder we cannot write: the history warns too; this client's own count holds
            journal.unusable(exc)
            return self._reserve(endpoint, cost, {})
        try:
            budget = self.budget
            since = budget.since if budget is not None else None
            try:
                journal.ensure()
                others = journal.counted(since, self.mode) if budget is not None and since is not None else {}
            except OSError as exc:
                journal.unusable(exc)
                return self._reserve(endpoint, cost, {})
            ticket = self._reserve(endpoint, cost, others)
            try:
                journal.reserve(ticket.key, self.mode, ticket.amount, ticket.at)
            except OSError as exc:
                journal.unusable(exc)
            return ticket
        finally:
            journal.release()

    def _unchecked(self, journal: Journal, endpoint: str, cost: CostEstimate | None) -> Ticket | None:
        """A reservation with no budget to check, in the journal without its lock; None when the folder has no
        journal yet (it is made, seeded from the records, under the lock)."""
        ticket = Ticket(endpoint, _amount(cost), time.time(), self)
        try:
            if not journal.reserve_unchecked(ticket.key, self.mode, ticket.amount, ticket.at):
                return None
        except OSError as exc:
            journal.unusable(exc)
        with self.lock:
            self.tickets.append(ticket)
        return ticket

    def _reserve(self, endpoint: str, cost: CostEstimate | None, others: Mapping[str, Decimal]) -> Ticket:
        with self.lock:
            if self.budget is not None:
                self.budget.check_locked([(endpoint, cost)], others)
            ticket = Ticket(endpoint, _amount(cost), time.time(), self)
            self.tickets.append(ticket)
        return ticket

    def bind(self, ticket: Ticket, request_id: str) -> bool:
        with self.lock:
            ticket.request_id = request_id
        return self.journal is not None and self.journal.bind(ticket.key, request_id)

    def settle(self, ticket: Ticket, state: str) -> None:
        """The request ended: ``done`` keeps its estimate as spent, anything else releases it."""
        with self.lock:
            if ticket.state != "reserved":
                return
            ticket.state = "spent" if state == "done" else "released"
            if ticket.state == "released":
                self.tickets.remove(ticket)
        if ticket.state == "spent":
            PROCESS.add(self.mode, ticket.amount)
        if self.journal is not None:
            self.journal.settle(ticket.key, ticket.state)

    # -- reading -------------------------------------------------------------------------------------

    def own(self, since: float | None = None, *, folder_mates: bool = False) -> tuple[Decimal, Decimal, set[str]]:
        """``(spent, in flight, every request id)`` of this client's requests (since ``since``).

        ``folder_mates``: also the requests of the process's other clients recording into the same history
        folder (in the same mode), which the folder may not show yet.
        """
        spent = in_flight = ZERO
        ids: set[str] = set()
        ledgers = self._folder_mates() if folder_mates else [self]
        for ticket in (t for ledger in ledgers for t in ledger.tickets):  # callers hold self.lock
            ids.add(ticket.key)
            if ticket.request_id:
                ids.add(ticket.request_id)
            if ticket.intent_id:
                ids.add(f"intent:{ticket.intent_id}")
            if since is not None and ticket.at < since:
                continue
            if ticket.state == "spent":
                spent += ticket.amount
            else:
                in_flight += ticket.amount
        return spent, in_flight, ids

    def _folder_mates(self) -> list[Ledger]:
        """This ledger and every live one of the same mode reading the same history folder."""
        root = getattr(self.reader, "root", None)
        if root is None:
            return [self]
        mates = [
            ledger
            for ledger in list(_LEDGERS)
            if ledger is not self and ledger.mode == self.mode and getattr(ledger.reader, "root", None) == root
        ]
        return [self, *mates]

    @property
    def spent(self) -> Decimal:
        with self.lock:
            return self.own()[0]

    @property
    def in_flight(self) -> Decimal:
        with self.lock:
            return self.own()[1]


class Budget:
    """A limit in USD on what a client may spend, checked before anything is sent. See the module docstring."""

    def __init__(
        self,
        limit: Decimal,
        ledger: Ledger,
        *,
        since: object = None,
        allow_unpriced: bool = False,
        source: str = "budget",
        today: Callable[[], datetime.date] = datetime.date.today,
    ) -> None:
        self.limit = limit
        self.since_spec = since  # as given: "today" stays today's midnight after the kernel lives past one
        self._today = today
        since_timestamp(since, name="budget_since", today=today)  # a bad value fails here, not at the first check
        self.allow_unpriced = allow_unpriced
        self.source = source  # "budget" (the argument) or ENV
        self._ledger = ledger

    @property
    def since(self) -> float | None:
        """The POSIX time counting starts from, read from the calendar now (None: this client's requests only)."""
        return since_timestamp(self.since_spec, name="budget_since", today=self._today)

    # -- what people ask -----------------------------------------------------------------------------

    def used(self) -> Decimal:
        """What counts against the limit now: spent plus in flight (see the module docstring)."""
        others = self.others()
        with self._ledger.lock:
            return self._used_locked(others)

    def left(self) -> Decimal:
        return max(ZERO, self.limit - self.used())

    @property
    def scope(self) -> str:
        """Which requests count, in words."""
        kind = _MODE_WORDS.get(self._ledger.mode, self._ledger.mode)
        if self.since is None:
            return f"this client's {kind} requests"
        reader = self._ledger.reader
        if reader is None:
            return f"this client's {kind} requests {describe_since(self.since)} (run history off: other kernels unseen)"
        where = getattr(reader, "root", None)
        folder = f" in {where}" if where else ""
        return f"{kind} requests recorded{folder} {describe_since(self.since)} by any kernel, and this client's"

    def check(self, requests: Sequence[tuple[str, CostEstimate | None]]) -> None:
        """Raise BudgetExceededError if these requests together would pass what is left (nothing reserved)."""
        others = self.others()
        with self._ledger.lock:
            self.check_locked(requests, others)

    def __repr__(self) -> str:
        from falstudio.endpoints.pricing import usd

        used = self.used()
        return (
            f"Budget({usd(self.limit)} from {self.source}: {usd(used)} spent or in flight, "
            f"{usd(max(ZERO, self.limit - used))} left; counts {self.scope})"
        )

    # -- internals -----------------------------------------------------------------------------------

    def others(self) -> Mapping[str, Decimal]:
        """Per request, what the history folder's spend journal counts since ``since`` (empty without ``since``)."""
        journal = self._ledger.journal
        if self.since is None or journal is None:
            return {}
        try:
            return journal.counted(self.since, self._ledger.mode)
        except OSError:
            return {}  # an unreadable folder: the client's own requests still count

    def _used_locked(self, others: Mapping[str, Decimal]) -> Decimal:
        since = self.since
        spent, in_flight, ids = self._ledger.own(since, folder_mates=since is not None)
        return spent + in_flight + sum((v for k, v in others.items() if k not in ids), ZERO)

    def check_locked(self, requests: Sequence[tuple[str, CostEstimate | None]], others: Mapping[str, Decimal]) -> None:
        unpriced = [endpoint for endpoint, cost in requests if cost is None or not cost.known]
        if unpriced and not self.allow_unpriced:
            raise unpriced_error(self, unpriced, len(requests))
        total = sum((cost.amount for _, cost in requests if cost is not None and cost.known), ZERO)
        used = self._used_locked(others)
        if used + total > self.limit:
            raise over_error(self, requests, total, used)


def _amount(cost: CostEstimate | None) -> Decimal:
    """What a request reserves: its estimate when the price is known, else nothing."""
    return cost.amount if cost is not None and cost.known else ZERO


def _release_if_made(reserving: asyncio.Future[Ticket]) -> None:
    if not reserving.cancelled() and reserving.exception() is None:
        reserving.result().settle("cancelled")


def resolve_budget(
    ledger: Ledger, budget: object, budget_since: object, allow_unpriced: bool, env: Mapping[str, str] | None = None
) -> Budget | None:
    """The client's budget: ``budget`` if given, else ``$FALSTUDIO_BUDGET`` (validated), else none."""
    environ = os.environ if env is None else env
    if budget is None:
        raw = environ.get(ENV, "").strip()
        if not raw:
            return None
        limit, source = parse_amount(raw, name=ENV), ENV
        if budget_since is None:
            budget_since = ENV_SINCE
    else:
        limit, source = parse_amount(budget, name="budget"), "budget"
    return Budget(limit, ledger, since=budget_since, allow_unpriced=allow_unpriced, source=source)
