"""The budget guard against a real local server: refusals before anything is sent (counted on the server), the
13th request of a sweep that crosses the line, concurrent submits from threads and event loops, releases on
failure and cancel, unpriced endpoints, FALSTUDIO_BUDGET, and a budget shared through the history folder."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import falstudio as fs
from falstudio.client import AsyncClient, Client, errors
from falstudio.client._budget import ENV
from falstudio.local import Faults, LocalServer
from falstudio.sweep import SweepRun, sweep

T2I = "fal-ai/gpt-image-1-mini"
FORBIDDEN = "forbidden-word"
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """A server of this module's own, so that what arrived on it can be counted."""
    with LocalServer(port=0, latency=0, concurrency=4, faults=Faults(fail_prompt=FORBIDDEN)) as srv:
        yield srv


@pytest.fixture(scope="module")
def slow_server() -> Iterator[LocalServer]:
    """Requests that stay in flight long enough to be cancelled."""
    with LocalServer(port=0, latency=5, concurrency=1) as srv:
        yield srv


def arrived(server: LocalServer, tag: str) -> int:
    """How many requests whose prompt contains ``tag`` reached the server."""
    return sum(tag in str(getattr(job.request, "prompt", "")) for job in server.app.state.backend.queue.jobs())


def low(tag: str) -> dict[str, str]:  # $0.01 on gpt-image-1-mini
    return {"prompt": f"a red fox {tag}", "quality": "low", "image_size": "1024x1024"}


def client_for(server: LocalServer, **options: object) -> Client:
    return Client(base_url=server.url, key=server.key, **options)  # type: ignore[arg-type]


def test_a_request_over_the_budget_is_refused_before_it_is_sent(server: LocalServer) -> None:
    client = client_for(server, budget="0.02")
    try:
        assert repr(client).endswith(", key=set, budget=$0.02)")  # a client's repr says it is capped
        client.subscribe(T2I, low("over-1"))
        medium = {**low("over-2"), "quality": "medium"}  # $0.02: 0.01 + 0.02 > 0.02
        with pytest.raises(errors.BudgetExceededError) as caught:
            client.submit(T2I, medium)
        error = caught.value
        assert arrived(server, "over-2") == 0
        assert (error.estimate, error.spent, error.budget) == (Decimal("0.02"), Decimal("0.01"), Decimal("0.02"))
        text = str(error)
        assert "$0.02" in text and "$0.01 of the $0.02 budget" in text and "nothing was sent" in text
        assert "Client(budget=0.03)" in text  # how to raise it
        assert error.error_type == "budget_exceeded" and error.endpoint == T2I
        assert client.spent == Decimal("0.01") and client.budget is not None and client.budget.left() == Decimal("0.01")
    finally:
        client.close()


def test_a_sweep_over_the_budget_is_refused_whole_before_anything_is_sent(server: LocalServer) -> None:
    variations = sweep(low("whole"), endpoint=T2I, quality=["low", "medium", "high"])  # $0.01 + $0.02 + $0.04
    client = client_for(server, budget=0.06)
    try:
        with pytest.raises(errors.BudgetExceededError, match=r"these 3 requests are estimated at \$0.07 in all"):
            variations.run(client)
        with pytest.raises(errors.BudgetExceededError) as caught:
            SweepRun(variations, client).start()
        assert caught.value.requests == 3 and caught.value.estimate == Decimal("0.07")
        assert arrived(server, "whole") == 0
    finally:
        client.close()


def test_the_13th_request_of_a_sweep_that_crosses_the_line_is_refused_with_nothing_sent(server: LocalServer) -> None:
    """16 requests of $0.01 under a $0.16 budget: the sweep fits when it starts, then another job of the same
    client spends $0.04 while it runs, so requests 13 to 16 no longer fit and are refused one by one."""
    client = client_for(server, budget="0.16")
    prompts = [f"a lighthouse tag13 #{i:02d}" for i in range(16)]
    variations = sweep({"quality": "low", "image_size": "1024x1024"}, endpoint=T2I, prompt=prompts)
    assert len(variations) == 16 and variations.cost.amount == Decimal("0.16")
    spent_elsewhere = threading.Event()
    elsewhere: list[asyncio.Task[object]] = []

    def meanwhile(job: object) -> None:  # the first change of the run: another job of this client spends $0.04
        if not spent_elsewhere.is_set():
            spent_elsewhere.set()
            for i in range(4):  # on the client's loop, so its async verbs (the blocking ones would wait on it)
                elsewhere.append(asyncio.ensure_future(client._async.submit(T2I, low(f"elsewhere-{i}"))))

    run = SweepRun(variations, client, concurrency=1, on_change=meanwhile)
    try:
        run.start()  # the whole sweep ($0.16) fits in $0.16
        assert run.wait(120)
        states = [job.state for job in run.jobs]
        assert states == ["done"] * 12 + ["failed"] * 4
        refused = run.jobs[12]
        assert refused.error_type == "budget_exceeded" and refused.request_id is None
        assert "nothing was sent" in (refused.error or "")
        assert arrived(server, "tag13") == 12  # counted on the server: nothing arrived for #12 to #15
        assert arrived(server, "elsewhere") == 4
    finally:
        client.close()


def submit_at_once(clients: list[Client], tag: str, count: int) -> list[str]:
    """``count`` threads submit at the same moment, spread over ``clients``: their sorted outcomes."""
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(count)

    def submit(i: int) -> None:
        start.wait()
        try:
            clients[i % len(clients)].submit(T2I, low(f"{tag}-{i}"))
        except errors.BudgetExceededError:
            outcome = "refused"
        else:
            outcome = "sent"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(outcomes)


def test_concurrent_submits_from_threads_never_pass_the_budget_together(server: LocalServer) -> None:
    client = client_for(server, budget="0.05")
    try:
        assert submit_at_once([client], "threads", 20) == ["refused"] * 15 + ["sent"] * 5
        assert arrived(server, "threads-") == 5
    finally:
        client.close()


def test_concurrent_submits_on_one_event_loop_never_pass_the_budget_together(server: LocalServer) -> None:
    async def main() -> list[object]:
        async with AsyncClient(base_url=server.url, key=server.key, budget=Decimal("0.03")) as client:
            return await asyncio.gather(
                *(client.submit(T2I, low(f"loop-{i}")) for i in range(10)), return_exceptions=True
            )

    outcomes = asyncio.run(main())
    refused = [o for o in outcomes if isinstance(o, errors.BudgetExceededError)]
    assert len(refused) == 7 and len(outcomes) - len(refused) == 3
    assert arrived(server, "loop-") == 3


def test_failed_and_cancelled_requests_are_released(server: LocalServer) -> None:
    client = client_for(server, budget="0.01")
    try:
        with pytest.raises(errors.ContentPolicyError):
            client.subscribe(T2I, low(f"{FORBIDDEN} release"))
        assert client.budget is not None and client.budget.used() == 0  # fal bills only successful outputs
        client.subscribe(T2I, low("release-after-failure"))  # the whole budget is still there
        assert client.budget.used() == Decimal("0.01")
    finally:
        client.close()


def test_a_cancelled_request_is_released(slow_server: LocalServer) -> None:
    client = client_for(slow_server, budget="0.01")
    try:
        handle = client.submit(T2I, low("cancel-me"))
        assert client.budget is not None and client.budget.used() == Decimal("0.01")  # reserved while in flight
        with pytest.raises(errors.BudgetExceededError):
            client.submit(T2I, low("cancel-blocked"))
        assert handle.cancel()
        with pytest.raises(errors.RequestCancelledError):
            handle.get()
        assert client.budget.used() == 0
        assert arrived(slow_server, "cancel-blocked") == 0
    finally:
        client.close()


def test_an_unpriced_request_is_refused_unless_allowed(server: LocalServer) -> None:
    strict = client_for(server, budget=5)
    lenient = client_for(server, budget=5, allow_unpriced=True)
    try:
        with pytest.raises(errors.BudgetExceededError, match="knows no price for fal-ai/not-a-model") as caught:
            strict.submit("fal-ai/not-a-model", {"prompt": "a fox unpriced"}, validate=False)
        assert "allow_unpriced=True" in str(caught.value) and caught.value.estimate is None
        with pytest.raises(errors.FalError) as sent:  # let through: the server answers (it has no such endpoint)
            lenient.submit("fal-ai/not-a-model", {"prompt": "a fox unpriced"}, validate=False)
        assert not isinstance(sent.value, errors.BudgetExceededError)
    finally:
        strict.close()
        lenient.close()


def test_falstudio_budget_is_validated_and_counts_since_midnight(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "two dollars")
    with pytest.raises(ValueError, match=f"{ENV} must be an amount in USD") as caught:
        client_for(server)
    assert f"{ENV}=2.00" in str(caught.value)
    monkeypatch.setenv(ENV, "-1")
    with pytest.raises(ValueError, match=f"{ENV} must be 0 or more"):
        client_for(server)
    monkeypatch.setenv(ENV, "nan")
    with pytest.raises(ValueError, match=f"{ENV} must be a finite amount"):
        client_for(server)
    monkeypatch.setenv(ENV, "$0.50")
    client = client_for(server)
    try:
        budget = client.budget
        assert budget is not None and budget.limit == Decimal("0.50") and budget.source == ENV
        midnight = dt.datetime.combine(dt.date.today(), dt.time()).timestamp()
        assert budget.since == midnight
        assert "by any kernel" in budget.scope and "offline" in budget.scope
        explicit = client_for(server, budget=1)  # an explicit budget wins, and counts this client only
        assert explicit.budget is not None and explicit.budget.limit == 1 and explicit.budget.since is None
        explicit.close()
        with pytest.raises(ValueError, match="budget_since must be one of"):
            client_for(server, budget=1, budget_since="last tuesday")
    finally:
        client.close()


def test_offline_runs_are_priced_as_fal_would_bill_them(server: LocalServer) -> None:
    client = client_for(server)
    try:
        result = client.subscribe(T2I, {**low("priced"), "quality": "high", "image_size": "1536x1024"})
        expected = fs.endpoints.get(T2I).estimate_cost(result.request)
        assert result.cost == expected and client.spent == expected.amount == Decimal("0.06")
    finally:
        client.close()


def test_kernels_sharing_a_history_folder_share_a_budget_since_a_point(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process spends $0.03 into the same history folder; a client counting since today sees it."""
    env = {
        **os.environ,
        "FALSTUDIO_HISTORY_DIR": str(tmp_path),
        "FALSTUDIO_TEST_URL": server.url,
        "FALSTUDIO_TEST_KEY": server.key,
    }
    subprocess.run(
        [sys.executable, str(HERE.parent / "history" / "_spend_process.py"), "3", "shared-budget"],
        env=env,
        check=True,
        timeout=120,
    )
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path))
    shared = client_for(server, budget="0.04", budget_since="today")
    alone = client_for(server, budget="0.04")
    try:
        assert shared.budget is not None and shared.budget.used() == Decimal("0.03")
        shared.subscribe(T2I, low("shared-mine"))  # $0.01: exactly the budget
        assert shared.budget.used() == Decimal("0.04")  # its own request is not counted twice (it is recorded too)
        with pytest.raises(errors.BudgetExceededError, match=r"recorded in .* by any kernel"):
            shared.submit(T2I, low("shared-refused"))
        assert alone.budget is not None and alone.budget.used() == 0
        alone.submit(T2I, low("alone")).get()
    finally:
        shared.close()
        alone.close()


def test_clients_of_one_process_sharing_a_folder_never_pass_the_budget_together(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A classroom budget (FALSTUDIO_BUDGET) seen by many clients of one kernel at once: each sees the others'
    reservations before they reach the history folder."""
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path))
    monkeypatch.setenv(ENV, "0.05")
    clients = [client_for(server) for _ in range(10)]
    try:
        assert submit_at_once(clients, "mates", 20) == ["refused"] * 15 + ["sent"] * 5
        assert arrived(server, "mates-") == 5
    finally:
        for client in clients:
            client.close()


def test_a_daily_budget_starts_again_when_the_kernel_lives_past_midnight(server: LocalServer) -> None:
    """``budget_since="today"`` is today's midnight at each check, not the day the client was made."""
    from falstudio.client._budget import Budget

    client = client_for(server, budget="0.01")
    try:
        client.subscribe(T2I, low("yesterday"))  # spent $0.01 "yesterday"
        day = [dt.date.today()]
        ledger = client._async._ledger  # the guard, under a clock the test moves
        ledger.budget = Budget(Decimal("0.01"), ledger, since="today", today=lambda: day[0])
        with pytest.raises(errors.BudgetExceededError):
            client.submit(T2I, low("same-day"))
        day[0] += dt.timedelta(days=1)
        assert ledger.budget.used() == 0
        client.subscribe(T2I, low("next-day"))
        assert arrived(server, "same-day") == 0 and arrived(server, "next-day") == 1
    finally:
        client.close()


def test_a_taken_request_whose_reply_names_no_request_keeps_its_reservation() -> None:
    """A 2xx submit reply without a ``request_id``: the server took it and may run it (and bill it), so its
    estimate stays reserved; it used to be given back, letting one more request through than the budget held."""
    from falstudio.testing import LoopbackServer, QuietHandler

    taken: list[str] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            taken.append(self.rfile.read(int(self.headers.get("content-length") or 0)).decode())
            self.send_json(200, {"status": "IN_QUEUE"})  # no request_id

    fake = LoopbackServer(Handler)
    try:
        with Client(base_url=fake.url, key="id:secret", budget="0.015") as client:
            with pytest.raises(errors.ServerError, match="no request_id"):
                client.submit(T2I, low("taken-1"))
            assert client.budget is not None and client.budget.used() == Decimal("0.01")
            with pytest.raises(errors.BudgetExceededError):
                client.submit(T2I, low("taken-2"))
        assert len(taken) == 1 and "taken-1" in taken[0]
    finally:
        fake.close()
