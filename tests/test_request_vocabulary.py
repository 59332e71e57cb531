"""One request vocabulary (issue 26): a sweep's job is its variation plus the client's ``State``, the final states
are defined once, and a final state gives its result (or raises) in one way for every caller."""

from __future__ import annotations

import dataclasses
import time

import pytest

import falstudio.client
import falstudio.sweep
import falstudio.widgets.job
from falstudio.client import State
from falstudio.client.errors import FalError, RequestCancelledError
from falstudio.client.results import Result
from falstudio.sweep import Job, sweep

MINI = "fal-ai/gpt-image-1-mini"


def test_the_final_states_are_one_set_under_every_public_name() -> None:
    assert falstudio.sweep.FINAL_STATES is falstudio.client.FINAL_PHASES
    assert falstudio.widgets.job.FINAL_STATES is falstudio.client.FINAL_PHASES


def test_a_job_is_its_variation_and_the_requests_state_nothing_copied() -> None:
    variation = sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low"])[0]
    assert [f.name for f in dataclasses.fields(Job)] == ["variation", "latest"]
    pending = Job(variation)
    assert (pending.state, pending.done, pending.elapsed, pending.error, pending.partials) == (
        "pending",
        False,
        None,
        None,
        0,
    )
    error = FalError("the prompt was refused", error_type="content_policy_violation", hint="rephrase it")
    state = State(MINI, "failed", request_id="r-1", queue_position=None, error=error, partials=2)
    job = Job(variation, state)
    assert job.latest is state and job.state == "failed" and job.done and job.request_id == "r-1"
    assert (job.error, job.error_type, job.partials) == (
        "the prompt was refused (rephrase it)",
        "content_policy_violation",
        2,
    )


def test_a_request_cancelled_before_it_was_sent_took_no_time() -> None:
    state = State.never_sent(MINI, "not started")
    time.sleep(0.01)
    assert state.done and state.phase == "cancelled" and isinstance(state.error, RequestCancelledError)
    assert state.elapsed == 0.0 and not state.sent and State(MINI).sent
    variation = sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low"])[0]
    assert Job(variation, state).elapsed is None  # no latency shown for a request that never ran


def test_result_or_raise_is_what_every_result_gives() -> None:
    result = Result.model_validate({"images": []})
    assert State(MINI, "done", result=result).result_or_raise() is result
    typed = RequestCancelledError("cancelled")
    with pytest.raises(RequestCancelledError):
        State(MINI, "cancelled", error=typed).result_or_raise()
    wrapped = FalError("ValueError: bad size")  # an error that is not about the request: raised as itself
    wrapped.__cause__ = ValueError("bad size")
    with pytest.raises(ValueError, match="bad size"):
        State(MINI, "failed", error=wrapped).result_or_raise()
    with pytest.raises(RuntimeError, match="has not ended: it is running"):
        State(MINI, "running").result_or_raise()


def test_a_job_views_future_gives_what_result_gives() -> None:
    wrapped = FalError("ValueError: bad size")
    wrapped.__cause__ = ValueError("bad size")
    view = falstudio.widgets.job.JobView(MINI)
    try:
        view._changed(State(MINI, "failed", error=wrapped, ended=time.monotonic()))
        assert isinstance(view.future.exception(timeout=30), ValueError)  # as tracked.result() raises it
    finally:
        view.close()
