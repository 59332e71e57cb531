"""One request's money and record, moved together: the one place a request's budget reservation and its run
history record change.

A request's estimate is reserved against the budget before anything is sent; it is then recorded (before
sending), named by its request id once the server answers, and ends in one of:

* ``settled``: fal ran it (a completed request, or a streamed run read to its end): its estimate is spent;
* ``released``: it certainly did not run to a billed end (refused, never reached the server, failed or
  cancelled there): its estimate is given back;
* ``kept``: its reply was lost, or the server did not confirm how it ended: it may have run and been billed,
  so its estimate stays reserved (and its record in flight) until :meth:`Settlement.resumed` settles it, in this
  process or another one sharing the history folder;
* ``interrupted``: a streamed or run call was interrupted while the request was being sent: released, recorded as
  maybe sent (an interrupted queued submit is ``kept``: it may have been queued).

Each move is checked against the stage it leaves (:data:`MOVES`): a request cannot be settled twice, nor
released once settled; a move that does not follow is ignored and says so by returning False.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .._internal.redact import redact
from . import errors
from ._budget import Ledger, Ticket, spend_reader
from ._journal import journal_for
from ._recording import (
    may_have_run,
    record_cancelled_unanswered,
    record_finished,
    record_sending,
    record_submitted,
    record_submitted_now,
    record_unanswered,
    record_unanswered_now,
)

if TYPE_CHECKING:
    from falstudio.endpoints import CostEstimate

    from ._billed import BilledUnits
    from .recorder import FinalState, Mode, Recorder, Via
    from .results import Result

Stage = Literal["reserved", "sending", "sent", "kept", "interrupted", "settled", "released"]
MOVES: Mapping[Stage, frozenset[Stage]] = {
    "reserved": frozenset({"sending", "released"}),
    "sending": frozenset({"sent", "kept", "released", "interrupted"}),
    "sent": frozenset({"settled", "released", "kept"}),
    "kept": frozenset({"settled", "released"}),
    "interrupted": frozenset({"released"}),  # the client closed it on purpose: recorded as cancelled
    "settled": frozenset(),
    "released": frozenset(),
}
# Requests of this process by request id while they may still be settled: a resume in this process settles the
# reservation the request already holds, rather than a second one.
_LIVE: weakref.WeakValueDictionary[str, Settlement] = weakref.WeakValueDictionary()


class Settlement:
    """One request's reservation (``ticket``) and record (in ``recorder``), from reserved to its end."""

    def __init__(
        self,
        endpoint: str,
        *,
        ticket: Ticket | None,
        recorder: Recorder | None,
        request: Any = None,
        cost: CostEstimate | None = None,
        base_url: str = "",
        mode: Mode = "fal",
        via: Via = "queue",
        stage: Stage = "reserved",
        request_id: str = "",
    ) -> None:
        self.endpoint = endpoint
        self.ticket = ticket
        self.recorder = recorder
        self.request = request
        self.cost = cost
        self.base_url = base_url
        self.mode: Mode = mode
        self.via: Via = via
        self.stage: Stage = stage
        self.request_id = request_id
        self.intent_id: str | None = None  # its history record while it has no request id (None: not recorded)
        self._redacted: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Settlement({self.endpoint!r}, {self.stage}, request_id={self.request_id!r})"

    @classmethod
    async def reserve(
        cls,
        ledger: Ledger,
        recorder: Recorder | None,
        endpoint: str,
        *,
        request: Any,
        cost: CostEstimate | None,
        base_url: str,
        mode: Mode,
        via: Via = "queue",
    ) -> Settlement:
        """Reserve ``cost`` against the ledger's budget; raises BudgetExceededError (nothing sent) when over it."""
        ticket = await ledger.reserve(endpoint, cost)
        return cls(
            endpoint,
            ticket=ticket,
            recorder=recorder,
            request=request,
            cost=cost,
            base_url=base_url,
            mode=mode,
            via=via,
        )

    @classmethod
    def resumed(
        cls, endpoint: str, request_id: str, recorder: Recorder | None, cost: CostEstimate | None
    ) -> Settlement:
        """A request sent earlier (maybe by a process that has ended), followed again: this process's own
        settlement of it if it has one, else one that settles its reservation in ``recorder``'s spend journal."""
        live = _LIVE.get(request_id)
        if live is not None and live.stage in ("sent", "kept"):
            if recorder is not None:
                live.recorder = recorder
            return live
        return cls(endpoint, ticket=None, recorder=recorder, cost=cost, stage="kept", request_id=request_id)

    def _recorded_request(self) -> dict[str, Any]:
        """The request as its records hold it: without secrets (worked out once per request; not at all without
        a recorder)."""
        if self.recorder is None:
            return {}
        if self._redacted is None:
            self._redacted = redact(self.request) or {}
        return self._redacted

    def _move(self, to: Stage) -> bool:
        if to not in MOVES[self.stage]:
            return False
        self.stage = to
        return True

    # -- sending --------------------------------------------------------------------------------------

    def sending(self) -> None:
        """Record the request before it is sent: a process killed now still leaves a trace. The record's intent id
        is the reservation's key in the folder's spend journal."""
        if not self._move("sending"):
            return
        self.intent_id = record_sending(
            self.recorder,
            endpoint=self.endpoint,
            redacted=self._recorded_request(),
            base_url=self.base_url,
            mode=self.mode,
            cost=self.cost,
            via=self.via,
            intent_id=self.ticket.intent if self.ticket is not None else None,
        )
        if self.ticket is not None:
            self.ticket.intent_id = self.intent_id  # the budget knows this record as its own

    async def unanswered(self, failure: BaseException, *, release: bool | None = None) -> None:
        """The request got no usable reply: recorded so, and released unless it may have run (``release``:
        decided by the caller), in which case its reservation is kept until a resume settles it."""
        if release is None:
            release = not may_have_run(failure)
        if self._move("released" if release else "kept"):
            self._money("failed" if release else None)
            await record_unanswered(self.recorder, self.endpoint, self.intent_id, failure)

    def interrupted(self, failure: BaseException) -> None:
        """The call was interrupted while the request was being sent: recorded (without waiting: the task is being
        cancelled) as maybe sent. A streamed or run request is released (fal cancels a run whose client hangs up);
        a queued one may have been queued all the same, so its estimate is kept, as its record counts it."""
        if self.via == "queue":
            if self._move("kept"):
                record_unanswered_now(self.recorder, self.endpoint, self.intent_id, failure)
        elif self._move("interrupted"):
            self._money("failed")
            record_unanswered_now(self.recorder, self.endpoint, self.intent_id, failure)

    def abandon(self) -> None:
        """Reserved but never sent (its preparation or recording failed, or was cancelled): released."""
        if self._move("released"):
            self._money("failed")

    async def sent(self, request_id: str, billed: BilledUnits | None = None) -> None:
        """The server took the request as ``request_id``: the reservation and the record are named by it. A reply
        that names none leaves nothing to record it under: the early record goes.

        The id is written before this returns: in the folder's spend journal, where a resume finds it for the
        early record, which is then completed on the writer thread without waiting; else in the record itself.
        """
        if not self._move("sent"):
            return
        self.request_id = request_id
        if not request_id:  # a successful reply (errors were raised): the request certainly ran, under no id
            unnamed = errors.FalError("the reply names no request id", status_code=200)
            await record_unanswered(self.recorder, self.endpoint, self.intent_id, unnamed)
            return
        journaled = self.ticket is not None and self.ticket.bind(request_id)
        _LIVE[request_id] = self
        await record_submitted(
            self.recorder,
            endpoint=self.endpoint,
            request_id=request_id,
            redacted=self._recorded_request(),
            base_url=self.base_url,
            mode=self.mode,
            cost=self.cost,
            via=self.via,
            billed=billed,
            intent_id=self.intent_id,
            wait=not (journaled and self.intent_id),
        )

    # -- ending ---------------------------------------------------------------------------------------

    def end(
        self,
        state: FinalState,
        *,
        recorded: bool = True,
        result: Result | None = None,
        error: str | None = None,
        error_type: str | None = None,
        billed: BilledUnits | None = None,
    ) -> bool:
        """The request ended as ``state``: a done one's estimate is spent, any other's released, and (when
        ``recorded``) the history told how it ended. False (nothing done) when it had already ended."""
        interrupted = self.stage == "interrupted"
        if not self._move("settled" if state == "done" else "released"):
            return False
        if not interrupted:
            self._money(state)
        if not recorded:
            record_submitted_now(self.intent_id)
            return True
        if not self.request_id:
            if state == "cancelled":  # closed before the server answered (fal cancels such a run)
                record_cancelled_unanswered(self.recorder, self.endpoint, self.intent_id)
            return True
        record_finished(
            self.recorder,
            self.endpoint,
            self.request_id,
            state,
            result=result,
            error=error,
            error_type=error_type,
            cost=self.cost,
            billed=billed,
            intent_id=self.intent_id,
        )
        return True

    def unconfirmed(self) -> None:
        """The server did not confirm how it ended (it may still run there, and be billed): kept reserved, its
        record left in flight for a resume to settle."""
        if self._move("kept"):
            record_submitted_now(self.intent_id)

    def _money(self, state: str | None) -> None:
        """Settle the reservation: ``done`` spends it, any other state releases it, None keeps it."""
        if state is None:
            return
        if self.ticket is not None:
            self.ticket.settle(state)
        elif self.request_id:  # a resumed request of another process: its reservation is in the folder's journal
            reader = spend_reader(self.recorder)
            if reader is not None:
                journal_for(Path(reader.root), reader.spend_entries).settle_request(
                    self.request_id, "spent" if state == "done" else "released"
                )
