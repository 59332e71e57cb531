"""Resuming in-flight records against a scripted client, and against servers that are gone or unreachable."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

import falstudio as fs
from falstudio.client import Client, RetryPolicy
from falstudio.history import HistoryStore, HistoryWarning

from ._helpers import ENDPOINT, png, submitted

BASE = "http://127.0.0.1:9"


class ScriptedFal:
    """A fal-shaped server in memory (for ``httpx.MockTransport``): the request's statuses in turn (the status
    stream is missing, so the client polls), then its result; ``error`` replaces the result reply."""

    def __init__(
        self, statuses: list[Any], images: list[bytes] | None = None, error: httpx.Response | None = None
    ) -> None:
        self.statuses, self.images, self.error = statuses, images or [], error
        self.calls: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        request_id = path.split("/requests/")[1].split("/")[0] if "/requests/" in path else ""
        if path.endswith("/status/stream"):
            return httpx.Response(404, json={"detail": "Not Found"})
        if path.endswith("/status"):
            self.calls.append(f"status {request_id}")
            step = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return step if isinstance(step, httpx.Response) else httpx.Response(200, json=step)
        if path.startswith("/files/"):
            return httpx.Response(200, content=self.images[int(path.split("/")[-1].split(".")[0])])
        self.calls.append(f"result {request_id}")
        if self.error is not None:
            return self.error
        described = [{"url": f"{BASE}/files/{i}.png", "width": 48, "height": 32} for i in range(len(self.images))]
        return httpx.Response(200, json={"images": described})

    def client(self) -> Client:
        retry = RetryPolicy(max_attempts=1)
        return Client(base_url=BASE, transport=httpx.MockTransport(self.handler), history=False, retry=retry)


QUEUED = {"status": "IN_QUEUE", "queue_position": 1}
RUNNING = {"status": "IN_PROGRESS", "logs": None}
DONE = {"status": "COMPLETED", "logs": None, "metrics": {"inference_time": 2.5}}


@pytest.fixture
def store() -> HistoryStore:
    return HistoryStore()


def test_resume_waits_for_completion_and_saves_the_images(store: HistoryStore) -> None:
    store.submitted(submitted("r1"))
    fal = ScriptedFal([QUEUED, RUNNING, DONE], images=[png((1, 1, 1)), png((2, 2, 2))])
    with fal.client() as client:
        [updated] = fs.history().resume(client=client)
        assert updated.state == "done" and updated.inference_seconds == 2.5
        assert fal.calls == ["status r1", "status r1", "status r1", "result r1"]
        [record] = fs.history()
        assert record.state == "done" and record.image_bytes() == [png((1, 1, 1)), png((2, 2, 2))]
        assert fs.history().resume(client=client) == []  # nothing in flight any more


def test_only_in_flight_records_are_touched(store: HistoryStore) -> None:
    store.submitted(submitted("done"))
    store.mark_lost(fs.history()[0], "gone")
    fal = ScriptedFal([DONE])
    with fal.client() as client:
        assert fs.history().resume(client=client) == [] and fal.calls == []


def test_a_failed_request_is_recorded_as_failed(store: HistoryStore) -> None:
    store.submitted(submitted("bad"))
    body = {"detail": "generation failed", "error_type": "generation_timeout"}
    failed = {"status": "COMPLETED", "logs": None, "error": "boom", "error_type": "generation_timeout"}
    fal = ScriptedFal([failed], error=httpx.Response(500, json=body, headers={"x-fal-request-id": "bad"}))
    with fal.client() as client:
        [record] = fs.history().resume(client=client)
    assert (record.state, record.error_type) == ("failed", "generation_timeout")
    assert "generation failed" in (record.error or "")


def test_a_cancelled_request_is_recorded_as_cancelled(store: HistoryStore) -> None:
    store.submitted(submitted("c"))
    cancelled = {"status": "COMPLETED", "logs": None, "error": "cancelled", "error_type": "request_cancelled"}
    with ScriptedFal([cancelled]).client() as client:
        [record] = fs.history().resume(client=client)
    assert record.state == "cancelled"


@pytest.mark.parametrize(("sync_mode", "says"), [(False, "forgets its requests"), (True, "sync_mode=True")])
def test_a_forgotten_request_is_lost_with_the_reason(store: HistoryStore, sync_mode: bool, says: str) -> None:
    store.submitted(submitted("old", sync_mode=sync_mode))
    with ScriptedFal([httpx.Response(404, json={"detail": "Request not found"})]).client() as client:
        [record] = fs.history().resume(client=client)
    assert record.state == "lost" and says in (record.error or "")
    assert fs.history()[0].state == "lost"


def test_a_streamed_request_is_lost_at_once_it_cannot_be_fetched_again(store: HistoryStore) -> None:
    store.submitted(submitted("s", via="stream"))
    fal = ScriptedFal([DONE])
    with fal.client() as client:
        [record] = fs.history().resume(client=client)
    assert record.state == "lost" and "was streamed" in (record.error or "") and fal.calls == []


def test_a_server_error_leaves_the_record_in_flight(store: HistoryStore) -> None:
    store.submitted(submitted("flaky"))
    overloaded = httpx.Response(503, json={"detail": "overloaded"}, headers={"x-fal-request-id": "flaky"})
    with ScriptedFal([overloaded]).client() as client, pytest.warns(HistoryWarning, match="could not resume flaky"):
        [record] = fs.history().resume(client=client)
    assert record.in_flight and fs.history()[0].in_flight


def test_timeout_leaves_the_record_in_flight(store: HistoryStore) -> None:
    store.submitted(submitted("slow"))
    with ScriptedFal([RUNNING]).client() as client, pytest.warns(HistoryWarning, match="still running after 0.2 s"):
        record = fs.history()[0].resume(client=client, timeout=0.2)
    assert record.in_flight


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_local_server_that_is_gone_marks_the_record_lost(store: HistoryStore) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    store.submitted(submitted("orphan", base_url=url))
    other = ScriptedFal([DONE])
    with other.client() as client:  # a client of another server: not used for it
        [record] = fs.history().resume(client=client)
    assert other.calls == []
    assert record.state == "lost" and "is not running any more" in (record.error or "")


def test_a_fal_record_without_credentials_stays_in_flight(store: HistoryStore) -> None:
    store.submitted(submitted("remote", base_url="https://queue.fal.run", mode="fal"))
    with pytest.warns(HistoryWarning, match="no FAL_KEY is set"):
        [record] = fs.history().resume()
    assert record.in_flight and record.mode == "fal"


def test_resume_of_a_finished_record_is_a_no_op(store: HistoryStore) -> None:
    store.submitted(submitted("x"))
    fal = ScriptedFal([DONE], images=[png()])
    with fal.client() as client:
        record = fs.history()[0].resume(client=client)
        assert record.resume(client=client) is record and fal.calls == ["status x", "result x"]
    assert record.endpoint == ENDPOINT
