"""The one request lifecycle (client.track): states, logs, errors, cancel, throttling, streamed runs, batches."""

from __future__ import annotations

import base64
import dataclasses
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image as PILImage

from falstudio.client import Client, RetryPolicy, State, errors
from falstudio.client import _batch as batch_module
from falstudio.endpoints import registry
from falstudio.local import Faults, LocalServer
from falstudio.testing import wait_for

UNTYPED = "acme/thing"
MINI = "fal-ai/gpt-image-1-mini"
SECRET = "key-id:super-secret-value"


def make_client(fake: Any, **options: Any) -> Client:
    options.setdefault("history", False)
    return Client(SECRET, base_url=fake.base, transport=httpx.MockTransport(fake.handler), **options)


def track(client: Client, *args: Any, **options: Any) -> tuple[Any, list[tuple[float, State]]]:
    """``client.track(...)`` with every state it goes through, each with the time it arrived."""
    seen: list[tuple[float, State]] = []
    tracked = client.track(*args, on_change=lambda s: seen.append((time.monotonic(), s)), **options)
    return tracked, seen


def states_of(tracked: Any, seen: list[tuple[float, State]]) -> list[State]:
    tracked.wait(10)
    # the final state reaches the callback on the loop, right after wait() returns
    wait_for(lambda: seen and seen[-1][1].done, timeout=10, what="the final state reaching on_change")
    return [s for _, s in seen]


def b64_png(colour: str = "red", size: tuple[int, int] = (16, 16)) -> str:
    buffer = io.BytesIO()
    PILImage.new("RGB", size, colour).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# -- queued requests ----------------------------------------------------------------------------------


def test_a_queued_request_goes_through_every_phase_with_its_logs(fake: Any) -> None:
    with make_client(fake) as client:
        tracked, seen = track(client, UNTYPED, {"x": 1}, validate=False)
        states = states_of(tracked, seen)
    phases = [s.phase for s in states]
    assert phases[0] == "submitting" and phases[-1] == "done"
    assert [s.queue_position for s in states if s.phase == "queued"][-2:] == [1, 0]
    assert phases.index("queued") < phases.index("running") < phases.index("done")
    final = states[-1]
    assert final.done and final.request_id == "r1" and final.result is not None and final.error is None
    assert [e.message for e in final.logs] == ["working"] and final.ended is not None
    assert tracked.result(0).request_id == "r1" and tracked.state is final


def test_the_end_is_final_and_cancel_after_it_says_no(fake: Any) -> None:
    with make_client(fake) as client:
        tracked = client.track(UNTYPED, {}, validate=False)
        final = tracked.wait(10)
        assert tracked.cancel().result(5) is False
        assert tracked.state is final and final.phase == "done"


def test_a_failed_request_carries_the_typed_error_and_its_hint(fake: Any) -> None:
    fake.fail_content_policy()
    with make_client(fake) as client:
        tracked = client.track(UNTYPED, {}, validate=False)
        state = tracked.wait(10)
        assert state.phase == "failed" and isinstance(state.error, errors.ContentPolicyError)
        assert state.error.hint and "rephrase" in state.error.hint
        with pytest.raises(errors.ContentPolicyError):
            tracked.result(0)


def test_a_failure_that_is_not_about_the_request_keeps_its_own_type(fake: Any) -> None:
    fake.fail["/acme/thing"] = [httpx.ConnectError("refused")]
    with make_client(fake, retry=RetryPolicy(max_attempts=1)) as client:
        tracked = client.track(UNTYPED, {}, validate=False)
        state = tracked.wait(10)
        assert state.phase == "failed" and isinstance(state.error, errors.NetworkError)
        assert state.request_id is None
        bad = client.track(UNTYPED, 42, validate=False)  # type: ignore[arg-type]
        assert bad.wait(10).phase == "failed"
        with pytest.raises(errors.InvalidRequestError, match="arguments must be a dict"):
            bad.result(0)


def test_callbacks_are_throttled_but_see_the_final_state(fake: Any) -> None:
    fake.statuses = [
        *(
            {
                "status": "IN_PROGRESS",
                "logs": [{"message": f"line {i}", "timestamp": f"2026-01-01T00:00:{i % 60:02d}Z"}],
            }
            for i in range(300)
        ),
        {"status": "COMPLETED", "logs": [], "metrics": {}},
    ]
    with make_client(fake) as client:
        started = time.monotonic()
        tracked, seen = track(client, UNTYPED, {}, max_hz=10, validate=False)
        throttled = states_of(tracked, seen)
        elapsed = time.monotonic() - started
        other, seen_all = track(client, UNTYPED, {}, validate=False)
        every = states_of(other, seen_all)
    assert throttled[-1].phase == "done" and len(throttled[-1].logs) == 300
    assert len(throttled) <= 2 + 10 * elapsed + 1 < len(every)


def test_cancelling_a_queued_request_ends_it_cancelled_and_records_it(server: LocalServer, tmp_path: Any) -> None:
    from falstudio.client.recorder import flush
    from falstudio.history import HistoryStore

    store = HistoryStore(tmp_path)
    server.faults.slow_start = 30.0
    try:
        with Client(server.key, base_url=server.url, history=store) as client:
            tracked = client.track(MINI, {"prompt": "a fox", "quality": "low"})
            wait_for(lambda: tracked.state.phase == "queued", timeout=20)
            assert tracked.cancel().result(10) is True
            state = tracked.wait(20)
    finally:
        server.faults.slow_start = 0.0
    assert state.phase == "cancelled" and isinstance(state.error, errors.RequestCancelledError)
    flush()
    [record] = list(store)
    assert record.state == "cancelled"


# -- streamed runs ------------------------------------------------------------------------------------


@pytest.fixture
def streaming_mini(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A seed endpoint with the streaming capability switched on (GPT Image 2's rows are not here yet)."""
    spec = registry.REGISTRY[MINI]
    monkeypatch.setitem(registry.REGISTRY, MINI, dataclasses.replace(spec, streaming=True))  # type: ignore[arg-type]
    yield MINI


def test_every_image_shape_in_a_stream_is_a_partial_and_the_last_images_payload_the_result(fake: Any) -> None:
    fake.stream_events = [
        {"type": "image.partial", "image": {"b64_json": b64_png("red"), "partial_index": 0}},
        {"type": "progress", "percent": 40},  # unknown: kept in the log
        {"type": "image_generation.partial_image", "b64_json": b64_png("green"), "partial_image_index": 1},
        {"partial_image": {"url": f"data:image/png;base64,{b64_png('blue')}"}},
        {"images": [{"url": f"{fake.base}/files/early.png"}]},  # not the last: a partial
        {"images": [{"url": f"{fake.base}/files/out.png", "width": 8, "height": 8}]},
    ]
    with make_client(fake) as client:
        tracked, seen = track(client, UNTYPED, {"prompt": "x"}, stream=True, validate=False)
        states = states_of(tracked, seen)
        final = states[-1]
        assert final.phase == "done" and final.streaming and final.request_id == "s1"
        assert final.partials == 4 and final.result is not None and final.result.images[0].width == 8
        assert final.result.images[0].bytes() == fake.png
    partial_states = [s for s in states if s.partial is not None and not s.done]
    assert partial_states and partial_states[0].partials == 1
    assert partial_states[0].partial is not None and partial_states[0].partial.bytes().startswith(b"\x89PNG")
    assert any("progress" in e.message for e in final.logs)  # the unknown event, kept
    assert not any("/requests/" in p for p in fake.paths())  # no queue request


def test_an_endpoint_without_a_stream_falls_back_to_the_queue(fake: Any) -> None:
    with make_client(fake) as client:
        tracked = client.track(UNTYPED, {}, stream=True, validate=False)  # the fake answers 405 on the stream path
        state = tracked.wait(10)
    assert state.phase == "done" and state.request_id == "r1" and not state.streaming
    assert "no stream here (405)" in " ".join(e.message for e in state.logs)
    assert fake.paths()[:2] == ["POST /run/acme/thing/stream", "POST /acme/thing"]


def test_a_stream_that_ends_without_a_result_fails_and_keeps_what_it_sent(fake: Any, recorder: Any) -> None:
    fake.stream_events = [{"type": "image.partial", "image": {"b64_json": b64_png()}}]  # then the connection ends
    with make_client(fake, history=recorder) as client:
        state = client.track(UNTYPED, {}, stream=True, validate=False).wait(10)
    assert state.phase == "failed" and isinstance(state.error, errors.ServerError) and state.partials == 1
    assert "without a result" in state.error.message and "kept with its run history record" in state.error.message
    assert [e.via for e in recorder.submitted_events] == ["stream"]
    [finished] = recorder.finished_events  # a billed result is never thrown away: the partial image is recorded
    assert finished.state == "failed" and len(finished.images) == 1 and finished.images[0].startswith(b"\x89PNG")
    assert finished.output["stream_events"][0]["type"] == "image.partial"


def test_an_error_event_fails_the_run_and_is_recorded(fake: Any, recorder: Any) -> None:
    fake.stream_events = [{"detail": "flagged by the safety system", "error_type": "content_policy_violation"}]
    with make_client(fake, history=recorder) as client:
        state = client.track(UNTYPED, {}, stream=True, validate=False).wait(10)
    assert state.phase == "failed" and isinstance(state.error, errors.ContentPolicyError)
    assert [e.state for e in recorder.finished_events] == ["failed"]


def test_a_streamed_run_on_the_local_server_shows_partials_before_the_result(streaming_mini: str) -> None:
    faults = Faults(hold={"output"})  # the run ends once the test has seen its three partial images
    with (
        LocalServer(port=0, latency=0, faults=faults) as server,
        Client(server.key, base_url=server.url, history=False) as c,
    ):
        tracked, seen = track(c, streaming_mini, {"prompt": "a red barn", "quality": "high"})  # the registry: streams
        wait_for(lambda: tracked.state.partials == 3, what="three partial images")
        faults.release("output")
        states = states_of(tracked, seen)
    final = states[-1]
    assert final.phase == "done" and final.streaming and final.partials == 3
    # partials were published (and seen) before the result, in order; not timed: a loaded machine may bunch them
    first_partial = next(i for i, (_at, s) in enumerate(seen) if s.partials)
    assert first_partial < len(seen) - 1 and not seen[first_partial][1].done
    widths = [s.partial.width for s in states if s.partial is not None and not s.done]
    assert widths and widths[0] == 512  # half size, coarse to fine
    assert final.result is not None and final.result.images[0].width == 1024


def test_cancelling_a_streamed_run_closes_it_and_the_server_stops(streaming_mini: str) -> None:
    faults = Faults(hold={"partial"})
    faults.release("partial")  # the first partial image is sent; the run then waits at the second until cancelled
    with (
        LocalServer(port=0, latency=0, faults=faults) as server,
        Client(server.key, base_url=server.url, history=False) as c,
    ):
        tracked = c.track(streaming_mini, {"prompt": "a red barn", "quality": "high"})
        wait_for(lambda: tracked.state.partials >= 1, timeout=30)
        assert tracked.cancel().result(10) is True
        state = tracked.wait(10)
        assert state.phase == "cancelled" and isinstance(state.error, errors.RequestCancelledError)
        job = server.app.state.backend.queue.get(state.request_id)
        wait_for(lambda: job.finished, timeout=10)
        assert job.cancelled


# -- batches ------------------------------------------------------------------------------------------


def test_a_batch_submits_its_first_wave_before_following_any(server: LocalServer) -> None:
    paths: list[str] = []
    lock = threading.Lock()

    def watch(request: httpx.Request) -> None:
        with lock:
            paths.append(f"{request.method} {request.url.path}")

    transport = httpx.AsyncHTTPTransport()

    class Watching(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            watch(request)
            return await transport.handle_async_request(request)

    with Client(server.key, base_url=server.url, history=False, transport=Watching()) as client:
        items = [(MINI, {"prompt": f"a fox, take {i}", "quality": "low"}) for i in range(6)]
        batch = client.track_many(items, concurrency=4)
        assert batch.wait(60)
        assert [s.phase for s in batch.states if s] == ["done"] * 6
    submits = [i for i, p in enumerate(paths) if p == f"POST /{MINI}"]
    follows = [i for i, p in enumerate(paths) if p.endswith("/status/stream")]
    assert len(submits) == 6 and len(follows) == 6
    assert max(submits[:4]) < min(follows)


def test_a_failed_submit_does_not_hold_back_its_wave(fake: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_module, "FIRST_WAVE_WAIT", 600.0)  # were the failure not counted, this would hang
    fake.fail["/acme/thing"] = [httpx.Response(422, json={"detail": [{"loc": ["body"], "msg": "no", "type": "x"}]})]
    with make_client(fake) as client:
        batch = client.track_many([(UNTYPED, {}), (UNTYPED, {})], concurrency=2, validate=False)
        assert batch.wait(30), "the wave waited for a submit that had failed"
        assert sorted(s.phase for s in batch.states if s) == ["done", "failed"]


def test_cancelling_a_batch_stops_what_runs_and_starts_nothing_more(server: LocalServer) -> None:
    server.faults.slow_start = 30.0  # every job sits IN_QUEUE
    try:
        with Client(server.key, base_url=server.url, history=False) as client:
            items = [(MINI, {"prompt": f"a fox {i}", "quality": "low"}) for i in range(3)]
            batch = client.track_many(items, concurrency=1)
            wait_for(lambda: batch.states[0] and batch.states[0].request_id, timeout=20)
            batch.cancel()
            assert batch.wait(30)
    finally:
        server.faults.slow_start = 0.0
    states = batch.states
    assert [s.phase for s in states if s] == ["cancelled"] * 3
    assert states[0] and states[0].request_id and all(s and s.request_id is None for s in states[1:])
