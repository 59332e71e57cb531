"""JobView, a view of the client's tracked request: states, throttled redraws, bounded logs, cancel, errors,
callbacks, and the picture forming (partial images of a streamed run, then the final one)."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from falstudio.client import Client, Result, RetryPolicy, State
from falstudio.client.errors import ContentPolicyError, NetworkError, RequestCancelledError
from falstudio.local import LocalServer
from falstudio.local.faults import Faults
from falstudio.testing import wait_for
from falstudio.widgets.job import JobView, format_seconds

UNTYPED = "acme/thing"
MINI = "fal-ai/gpt-image-1-mini"


def client_of(fake: Any, retry: RetryPolicy | None = None) -> Client:
    transport = httpx.MockTransport(fake.handler)
    return Client("key-id:secret", base_url=fake.base, transport=transport, history=False, retry=retry)


@pytest.fixture
def queued_server() -> Iterator[LocalServer]:
    """Every job waits IN_QUEUE for 30 s: long enough to see the queue and to cancel."""
    with LocalServer(port=0, latency=0, faults=Faults(slow_start=30.0)) as srv:
        yield srv


def logged(messages: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    return [
        {"status": "IN_PROGRESS", "logs": [{"message": m, "level": level, "timestamp": f"2026-01-01T00:00:{i:02d}Z"}]}
        for i, (m, level) in enumerate(messages)
    ]


def test_states_until_done_and_future_resolves(fake: Any) -> None:
    with client_of(fake) as client:
        job = JobView.submit(client, UNTYPED, {"prompt": "x"}, validate=False)
        assert job.wait(10).state == "done"
        assert isinstance(job.future.result(0), Result) and job.result is job.future.result(0)
        assert job.request_id == "r1"
        assert [e.message for e in job.logs] == ["working"]
        assert "Done" in job._status.value and "1 image" in job._status.value and job._bar.value == ""
        assert "[INFO]</span> working" in job._log.value
        assert job._cancel.disabled
        assert repr(job) == "JobView('acme/thing', state='done')"


def test_queue_position_and_progress_bar_while_waiting(queued_server: LocalServer) -> None:
    with Client(queued_server.key, base_url=queued_server.url, history=False) as client:
        job = JobView.submit(client, MINI, {"prompt": "x", "quality": "low"})
        wait_for(lambda: "#1 in line" in job._status.value)
        assert job.state == "queued" and job.queue_position == 0
        assert 'role="progressbar"' in job._bar.value and not job._cancel.disabled
        job.cancel()
        job.wait(20)
        assert job.queue_position is None


def test_redraws_are_throttled_and_the_final_state_is_always_drawn(fake: Any) -> None:
    fake.statuses = [*logged([(f"line {i}", None) for i in range(300)]), {"status": "COMPLETED", "logs": []}]
    with client_of(fake) as client:
        start = time.monotonic()
        job = JobView.submit(client, UNTYPED, {}, max_hz=10, validate=False)
        job.wait(10)
        elapsed = time.monotonic() - start
    assert job.renders <= 2 + 10 * elapsed + 1  # init + final + at most 10 a second
    assert "line 299" in job._log.value and "Done" in job._status.value


def test_log_is_a_ring_buffer_with_levels_as_text(fake: Any) -> None:
    fake.statuses = [
        *logged([(f"m{i}", "ERROR" if i == 9 else None) for i in range(10)]),
        {"status": "COMPLETED", "logs": []},
    ]
    with client_of(fake) as client:
        job = JobView.submit(client, UNTYPED, {}, log_lines=4, validate=False)
        job.wait(10)
    assert [e.message for e in job.logs] == ["m6", "m7", "m8", "m9"]
    assert "Log (10 lines, newest 4 shown)" in job._log.value
    assert "[ERROR]</span> m9" in job._log.value and "[INFO]</span> m6" in job._log.value
    assert "m5" not in job._log.value
    assert "column-reverse" in job._log.value


def test_cancel_reaches_the_server_and_ends_cancelled(queued_server: LocalServer) -> None:
    with Client(queued_server.key, base_url=queued_server.url, history=False) as client:
        job = JobView.submit(client, MINI, {"prompt": "x", "quality": "low"})
        wait_for(lambda: job.state == "queued")
        job._cancel.click()
        assert job._cancel.disabled and job._cancel.description == "Cancelling…"
        job.wait(20)
        request = queued_server.app.state.backend.queue.get(job.request_id)
    assert request is not None and request.cancelled
    assert job.state == "cancelled" and isinstance(job.error, RequestCancelledError)
    assert "Cancelled: the request was cancelled" in job._error.value
    with pytest.raises(RequestCancelledError):
        job.future.result(0)
    job.cancel()  # no-op once ended


def test_failure_shows_the_message_and_its_hint(fake: Any) -> None:
    fake.fail_content_policy()
    with client_of(fake) as client:
        job = JobView.submit(client, UNTYPED, {}, validate=False)
        job.wait(10)
    assert job.state == "failed" and isinstance(job.error, ContentPolicyError)
    assert 'role="alert"' in job._error.value
    assert "Error: content policy violation: prompt: flagged\nhint: rephrase the prompt" in job._error.value
    assert "[r1]" not in job._error.value  # no request ids in the message box


def test_submit_errors_end_the_job_without_raising(fake: Any, fast_retry: RetryPolicy) -> None:
    fake.fail["/acme/thing"] = [httpx.ConnectError("refused")] * 10
    with client_of(fake, fast_retry) as client:
        job = JobView.submit(client, UNTYPED, {}, validate=False)
        job.wait(30)
    assert job.state == "failed" and isinstance(job.error, NetworkError) and "could not reach" in job._error.value

    class Refusing:
        def track(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("refused")

    job = JobView.submit(Refusing(), UNTYPED, {}, validate=False)  # type: ignore[arg-type]
    job.wait(10)
    assert job.state == "failed" and "ConnectionError: refused" in job._error.value


def test_on_done_runs_after_the_final_draw_and_immediately_when_late(fake: Any) -> None:
    seen: list[str] = []
    job = JobView(UNTYPED)
    job.on_done(lambda j: seen.append(j.state))
    with client_of(fake) as client:
        job.start(client, {}, validate=False)
        job.wait(10)
        job.on_done(lambda j: seen.append("late"))
        assert seen == ["done", "late"]
        job.on_done(lambda j: 1 / 0)
        assert "A done-callback failed: ZeroDivisionError" in job._error.value
        with pytest.raises(RuntimeError, match="already been started"):
            job.start(client, {})


def test_two_jobs_keep_their_own_panels(fake: Any) -> None:
    from tests.conftest import FakeFal

    other = FakeFal()
    other.statuses = [*logged([("from B", None)]), {"status": "COMPLETED", "logs": []}]
    fake.statuses = [*logged([("from A", None)]), {"status": "COMPLETED", "logs": []}]
    with client_of(fake) as a_client, client_of(other) as b_client:
        a = JobView.submit(a_client, UNTYPED, {}, validate=False)
        b = JobView.submit(b_client, UNTYPED, {}, validate=False)
        a.wait(10), b.wait(10)
    assert "from A" in a._log.value and "from B" not in a._log.value
    assert "from B" in b._log.value and "from A" not in b._log.value


def test_static_fallback_and_wait_timeout() -> None:
    job = JobView("fal-ai/gpt-image-1-mini", {"prompt": "p", "quality": "low"})
    html = job._repr_mimebundle_()["text/html"]
    assert "<script" not in html and "Quality" in html and "submitting" in html
    with pytest.raises(TimeoutError, match="still submitting"):
        job.wait(0.01)


def test_format_seconds() -> None:
    assert (format_seconds(0.4), format_seconds(59.9), format_seconds(125)) == ("0 s", "59 s", "2:05 min")


def test_static_view_of_a_failure_names_it_in_words_with_the_hint_on_its_own_line(fake: Any) -> None:
    fake.fail_content_policy()
    with client_of(fake) as client:
        job = JobView.submit(client, UNTYPED, {}, validate=False)
        job.wait(10)
    html = job._repr_mimebundle_()["text/html"]
    assert "Error: content policy violation: prompt: flagged\nhint: rephrase" in html and "white-space:pre-wrap" in html
    assert 'role="alert"' in html and "<style" not in html


def test_a_state_arriving_after_the_end_does_not_undo_it(fake: Any) -> None:
    with client_of(fake) as client:
        job = JobView.submit(client, UNTYPED, {}, validate=False)
        job.wait(10)
    job._changed(State(UNTYPED, "queued", queue_position=3))
    job._changed(State(UNTYPED, "running"))
    assert job.state == "done" and job.queue_position is None


def test_a_key_in_a_plain_dict_request_never_shows() -> None:
    request = {"prompt": "p", "openai_api_key": "sk-live-0123456789abcdef"}
    job = JobView("fal-ai/gpt-image-1/text-to-image/byok", request)
    html = job._repr_mimebundle_()["text/html"]
    assert "sk-live" not in html and "openai_api_key" not in html and "sk-live" not in repr(job)


def test_a_streamed_run_shows_its_partial_images_then_the_final_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from falstudio.endpoints import registry

    spec = dataclasses.replace(registry.REGISTRY[MINI], streaming=True)  # GPT Image 2's rows are not here yet
    monkeypatch.setitem(registry.REGISTRY, MINI, spec)  # type: ignore[arg-type]
    partials: list[tuple[Any, int]] = []
    shown: list[bytes] = []
    faults = Faults(hold={"partial", "output"})  # one partial at a time: the panel shows each before the next
    with (
        LocalServer(port=0, latency=0, faults=faults) as server,
        Client(server.key, base_url=server.url, history=False) as client,
    ):
        job = JobView(MINI)
        job.on_partial(lambda image, count: (partials.append((image, count)), shown.append(job._preview.value)))
        job.start(client, {"prompt": "a red barn at dusk", "quality": "high"})  # streams: the registry says so
        for count in (1, 2, 3):
            faults.release("partial")
            wait_for(lambda shown_so_far=count: len(partials) == shown_so_far)
        faults.release("output")
        job.wait(30)
    assert [count for _, count in partials] == [1, 2, 3] and all(image.width == 512 for image, _ in partials)
    assert all(PILImage.open(io.BytesIO(data)).width <= 256 for data in shown)  # thumbnails only
    assert job._preview_box.layout.display is None and "The final image" in job._preview_note.value
    assert job._preview.value not in shown and "partial image 3 received" in job._log.value
    assert 'src="data:image/jpeg' in job._repr_mimebundle_()["text/html"]


def test_the_panel_picture_has_alt_text_and_the_studio_panel_has_none_of_its_own() -> None:
    alone = JobView("openai/gpt-image-2", {"prompt": "a fox in the snow"})
    assert not alone._preview.tooltip  # (ipywidgets' Image view fails on a tooltip)
    assert 'data-fs-alt="a fox in the snow"' in alone.children[1].value  # a11y.js: the <img>'s alt text
    assert "fs-root" in alone._dom_classes and alone._preview_box in alone.children
    inside = JobView("openai/gpt-image-2", {"prompt": "a fox"}, picture=False)  # the Studio shows the picture
    assert inside._preview_box not in inside.children and "fs-root" not in inside._dom_classes
    assert not inside._log_toggle.value and alone._log_toggle.value  # the Studio folds the log
    alone.close()
    inside.close()
