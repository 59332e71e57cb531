"""One request's money and record move through one state machine (client/_settlement.py): a move that does not
follow from where the request is (settle twice, release after settle, settle a request never sent) changes
nothing, and a request kept reserved after a lost reply is settled by a resume of it in the same process. The
folder's spend journal settles a reservation by its request id (for a resume in another process)."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from falstudio.client import errors
from falstudio.client._budget import Ledger, process_spend
from falstudio.client._journal import JOURNAL_NAME, Journal
from falstudio.client._settlement import Settlement
from falstudio.endpoints import CostEstimate

pytestmark = pytest.mark.unit  # no server: the state machine alone
T2I = "fal-ai/gpt-image-1-mini"
CENT = CostEstimate(Decimal("0.01"), is_upper_bound=False, explanation="low 1024x1024")


async def _reserved(ledger: Ledger) -> Settlement:
    return await Settlement.reserve(
        ledger, None, T2I, request={"prompt": "a fox"}, cost=CENT, base_url="http://127.0.0.1:1", mode="local"
    )


async def _sent(ledger: Ledger, request_id: str) -> Settlement:
    settlement = await _reserved(ledger)
    settlement.sending()
    await settlement.sent(request_id)
    return settlement


def test_a_completed_request_is_spent_once_and_never_released_after() -> None:
    async def main() -> None:
        ledger = Ledger("local")
        before = process_spend("local")
        settlement = await _sent(ledger, "req-once")
        assert ledger.in_flight == CENT.amount and ledger.spent == 0
        assert settlement.end("done") and settlement.stage == "settled"
        assert not settlement.end("done")  # settled twice: nothing
        assert not settlement.end("failed") and not settlement.end("cancelled")  # released after settle: nothing
        await settlement.unanswered(errors.ServerError("late", endpoint=T2I), release=True)
        settlement.abandon()
        settlement.unconfirmed()
        assert settlement.stage == "settled"
        assert ledger.spent == CENT.amount and ledger.in_flight == 0
        assert process_spend("local") - before == CENT.amount  # counted once in the kernel's spend

    asyncio.run(main())


def test_a_released_request_is_not_spent_later() -> None:
    async def main() -> None:
        ledger = Ledger("local")
        settlement = await _sent(ledger, "req-released")
        assert settlement.end("cancelled") and settlement.stage == "released"
        assert not settlement.end("done")  # a late "done" does not bill a cancelled request
        assert ledger.spent == 0 and ledger.in_flight == 0

    asyncio.run(main())


def test_a_request_never_sent_cannot_be_settled_as_run() -> None:
    async def main() -> None:
        ledger = Ledger("local")
        settlement = await _reserved(ledger)
        assert not settlement.end("done")  # not sent: nothing ran, nothing to spend
        await settlement.sent("req-not-sent")  # nor named, before it was recorded and sent
        assert settlement.stage == "reserved" and settlement.request_id == ""
        settlement.abandon()
        assert settlement.stage == "released" and ledger.in_flight == 0 and ledger.spent == 0

    asyncio.run(main())


def test_a_lost_reply_keeps_the_reservation_and_a_failed_send_gives_it_back() -> None:
    async def main() -> None:
        ledger = Ledger("local")
        lost = await _reserved(ledger)
        lost.sending()
        await lost.unanswered(errors.ServerError("502 from the gateway", endpoint=T2I, status_code=502))
        assert lost.stage == "kept" and ledger.in_flight == CENT.amount  # it may have run and been billed
        refused = await _reserved(ledger)
        refused.sending()
        await refused.unanswered(errors.FalError("unprocessable", endpoint=T2I, status_code=422))
        assert refused.stage == "released" and ledger.in_flight == CENT.amount  # refused: only the lost one

    asyncio.run(main())


def test_resuming_a_kept_request_in_its_process_settles_its_own_reservation() -> None:
    async def main() -> None:
        ledger = Ledger("local")
        settlement = await _sent(ledger, "req-kept")
        settlement.unconfirmed()  # following it failed: the server did not say how it ended
        assert settlement.stage == "kept" and ledger.in_flight == CENT.amount
        resumed = Settlement.resumed(T2I, "req-kept", None, None)
        assert resumed is settlement  # not a second reservation
        assert resumed.end("failed") and ledger.in_flight == 0 and ledger.spent == 0
        other = Settlement.resumed(T2I, "req-of-another-kernel", None, None)
        assert other is not settlement and other.stage == "kept" and other.ticket is None

    asyncio.run(main())


def test_the_journal_settles_by_request_id_and_still_reads_old_random_keys(tmp_path: Path) -> None:
    old = {"k": "5f0c0ffee5f0c0ffee5f0c0ffee5f0c0", "s": "reserved", "m": "local", "a": "0.01", "t": time.time()}
    (tmp_path / JOURNAL_NAME).write_text(json.dumps(old) + "\n")
    journal = Journal(tmp_path, list)
    journal.reserve("intent:abc", "local", Decimal("0.02"), time.time())
    journal.bind("intent:abc", "req-new")
    journal.reserve("req-seeded", "local", Decimal("0.04"), time.time())  # seeded from a record with an id
    assert sum(journal.counted(None, "local").values()) == Decimal("0.07")
    journal.settle_request("req-new", "spent")
    assert sum(journal.counted(None, "local").values()) == Decimal("0.07")  # spent still counts
    journal.settle_request("req-new", "released")
    journal.settle_request("req-seeded", "released")
    assert journal.counted(None, "local") == {old["k"]: Decimal("0.01")}  # the old line is still read
    Journal(tmp_path / "none", list).settle_request("req-new", "released")  # no journal there: none is made
    assert not (tmp_path / "none" / JOURNAL_NAME).exists()
