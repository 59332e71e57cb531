"""JobView with a scripted client: states, throttled redraws, bounded logs, cancel, errors, callbacks."""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from falstudio.client._status import Completed, InProgress, LogEntry, Queued, Status
from falstudio.client.errors import RequestCancelledError, ServerError
from falstudio.widgets.job import JobView, format_seconds


class ScriptedHandle:
    """A request handle whose statuses come from the test, delivered on a thread of its own."""

    def __init__(self, script: Sequence[Status | float], outcome: Any, gate: threading.Event | None) -> None:
        self.request_id = "req-123"
        self.endpoint = "fal-ai/gpt-image-1-mini"
        self.script, self.outcome, self.gate = script, outcome, gate
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()

    def future(self, *, with_logs: bool = True, on_update: Callable[[Status], None]) -> concurrent.futures.Future[Any]:
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            for step in self.script:
                if isinstance(step, float):
                    time.sleep(step)
                else:
                    on_update(step)
            if self.gate is not None:
                while not self.gate.wait(0.01):
                    if self.cancelled.is_set():
                        on_update(Completed(error="cancelled", error_type="request_cancelled"))
                        fut.set_exception(RequestCancelledError("request was cancelled"))
                        return
            if isinstance(self.outcome, BaseException):
                fut.set_exception(self.outcome)
            else:
                fut.set_result(self.outcome)

        threading.Thread(target=run, daemon=True).start()
        return fut


class ScriptedClient:
    def __init__(
        self,
        script: Sequence[Status | float] = (),
        outcome: Any = "RESULT",
        gate: threading.Event | None = None,
        submit_error: Exception | None = None,
    ) -> None:
        self.handle = ScriptedHandle(script, outcome, gate)
        self.submit_error = submit_error
        self.submitted: list[tuple[str, Any]] = []

    def submit(self, endpoint: str, arguments: Any) -> ScriptedHandle:
        self.submitted.append((endpoint, arguments))
        if self.submit_error is not None:
            raise self.submit_error
        return self.handle


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_states_until_done_and_future_resolves() -> None:
    client = ScriptedClient([Queued(position=2), 0.05, InProgress(logs=(LogEntry("step 1", level="INFO"),))])
    job = JobView.submit(client, "fal-ai/gpt-image-1-mini", {"prompt": "x"})
    assert job.wait(10).state == "done"
    assert job.future.result(0) == "RESULT" and job.result == "RESULT"
    assert client.submitted == [("fal-ai/gpt-image-1-mini", {"prompt": "x"})]
    assert job.request_id == "req-123"
    assert [e.message for e in job.logs] == ["step 1"]
    assert "Done" in job._status.value and job._bar.value == ""
    assert "[INFO]</span> step 1" in job._log.value
    assert job._cancel.disabled
    assert repr(job) == "JobView('fal-ai/gpt-image-1-mini', state='done')"


def test_queue_position_and_progress_bar_while_waiting() -> None:
    gate = threading.Event()
    job = JobView.submit(ScriptedClient([Queued(position=0)], gate=gate), "fal-ai/gpt-image-1-mini", {})
    wait_for(lambda: "#1 in line" in job._status.value)
    assert job.state == "queued" and job.queue_position == 0
    assert 'role="progressbar"' in job._bar.value and not job._cancel.disabled
    gate.set()
    job.wait(10)
    assert job.queue_position is None


def test_redraws_are_throttled_and_the_final_state_is_always_drawn() -> None:
    burst: list[Status | float] = [InProgress(logs=(LogEntry(f"line {i}"),)) for i in range(300)]
    start = time.monotonic()
    job = JobView.submit(ScriptedClient([*burst, 0.3]), "e", {}, max_hz=10)
    job.wait(10)
    elapsed = time.monotonic() - start
    assert job.renders <= 2 + 10 * elapsed + 1  # init + final + at most 10 a second
    assert "line 299" in job._log.value and "Done" in job._status.value


def test_log_is_a_ring_buffer_with_levels_as_text() -> None:
    entries = tuple(LogEntry(f"m{i}", level="ERROR" if i == 9 else None) for i in range(10))
    job = JobView.submit(ScriptedClient([InProgress(logs=entries)]), "e", {}, log_lines=4)
    job.wait(10)
    assert [e.message for e in job.logs] == ["m6", "m7", "m8", "m9"]
    assert "Log (10 lines, newest 4 shown)" in job._log.value
    assert "[ERROR]</span> m9" in job._log.value and "[INFO]</span> m6" in job._log.value
    assert "m5" not in job._log.value
    assert "column-reverse" in job._log.value


def test_cancel_reaches_the_server_and_ends_cancelled() -> None:
    client = ScriptedClient([InProgress()], gate=threading.Event())
    job = JobView.submit(client, "e", {})
    wait_for(lambda: job.state == "running")
    job._cancel.click()
    assert job._cancel.disabled and job._cancel.description == "Cancelling…"
    job.wait(10)
    assert client.handle.cancelled.is_set()
    assert job.state == "cancelled" and isinstance(job.error, RequestCancelledError)
    assert "Cancelled: request was cancelled" in job._error.value
    with pytest.raises(RequestCancelledError):
        job.future.result(0)
    job.cancel()  # no-op once ended


def test_failure_shows_the_message_and_its_hint() -> None:
    error = ServerError("engine exploded", endpoint="e", request_id="r", hint="retry in a minute")
    job = JobView.submit(ScriptedClient([InProgress()], outcome=error), "e", {})
    job.wait(10)
    assert job.state == "failed" and job.error is error
    assert 'role="alert"' in job._error.value
    assert "Error: engine exploded\nhint: retry in a minute" in job._error.value
    assert "[r]" not in job._error.value  # no request ids in the message box


def test_submit_errors_end_the_job_without_raising() -> None:
    job = JobView.submit(ScriptedClient(submit_error=ConnectionError("refused")), "e", {})
    job.wait(10)
    assert job.state == "failed" and "ConnectionError: refused" in job._error.value


def test_on_done_runs_after_the_final_draw_and_immediately_when_late() -> None:
    seen: list[str] = []
    job = JobView("e")
    job.on_done(lambda j: seen.append(j.state))
    job.start(ScriptedClient(), {})
    job.wait(10)
    job.on_done(lambda j: seen.append("late"))
    assert seen == ["done", "late"]
    job.on_done(lambda j: 1 / 0)
    assert "A done-callback failed: ZeroDivisionError" in job._error.value
    with pytest.raises(RuntimeError, match="already been started"):
        job.start(ScriptedClient(), {})


def test_two_jobs_keep_their_own_panels() -> None:
    a = JobView.submit(ScriptedClient([InProgress(logs=(LogEntry("from A"),))], outcome="A"), "a", {})
    b = JobView.submit(ScriptedClient([InProgress(logs=(LogEntry("from B"),))], outcome="B"), "b", {})
    a.wait(10), b.wait(10)
    assert "from A" in a._log.value and "from B" not in a._log.value
    assert "from B" in b._log.value and "from A" not in b._log.value
    assert (a.result, b.result) == ("A", "B")


def test_static_fallback_and_wait_timeout() -> None:
    job = JobView("fal-ai/gpt-image-1-mini", {"prompt": "p", "quality": "low"})
    html = job._repr_mimebundle_()["text/html"]
    assert "<script" not in html and "quality" in html and "submitting" in html
    with pytest.raises(TimeoutError, match="still submitting"):
        job.wait(0.01)


def test_format_seconds() -> None:
    assert (format_seconds(0.4), format_seconds(59.9), format_seconds(125)) == ("0 s", "59 s", "2:05 min")


def test_static_view_of_a_failure_names_it_in_words_with_the_hint_on_its_own_line() -> None:
    error = ServerError("engine exploded", endpoint="e", request_id="r", hint="retry in a minute")
    job = JobView.submit(ScriptedClient([InProgress()], outcome=error), "e", {})
    job.wait(10)
    html = job._repr_mimebundle_()["text/html"]
    assert "Error: engine exploded\nhint: retry in a minute" in html and "white-space:pre-wrap" in html
    assert 'role="alert"' in html and "<style" not in html


def test_a_status_arriving_after_the_end_does_not_undo_it() -> None:
    job = JobView.submit(ScriptedClient([InProgress()], outcome="R"), "e", {})
    job.wait(10)
    job._on_status(Queued(position=3))
    job._on_status(InProgress())
    assert job.state == "done" and job.queue_position is None


def test_a_key_in_a_plain_dict_request_never_shows() -> None:
    request = {"prompt": "p", "openai_api_key": "sk-live-0123456789abcdef"}
    job = JobView("fal-ai/gpt-image-1/text-to-image/byok", request)
    html = job._repr_mimebundle_()["text/html"]
    assert "sk-live" not in html and "openai_api_key" not in html and "sk-live" not in repr(job)
