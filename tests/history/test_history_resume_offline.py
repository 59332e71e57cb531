"""Resuming in-flight records against a scripted client, and against servers that are gone or unreachable."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any

import pytest

import falstudio as fs
from falstudio.client import Completed, InProgress, Queued, errors
from falstudio.history import HistoryStore, HistoryWarning

from ._helpers import ENDPOINT, png, submitted

BASE = "http://127.0.0.1:9"


@dataclass
class _Image:
    data: bytes

    def bytes(self) -> bytes:
        return self.data


@dataclass
class _Result:
    images: list[_Image]
    data: dict[str, Any]


@dataclass
class ScriptedClient:
    """Answers status() from a script, then result() or raises ``error``."""

    statuses: list[Any]
    images: list[bytes] = field(default_factory=list)
    error: Exception | None = None
    base_url: str = BASE
    calls: list[str] = field(default_factory=list)

    def status(self, endpoint: str, request_id: str) -> Any:
        self.calls.append(f"status {request_id}")
        if isinstance(self.statuses[0], Exception):
            raise self.statuses[0]
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def result(self, endpoint: str, request_id: str) -> _Result:
        self.calls.append(f"result {request_id}")
        if self.error is not None:
            raise self.error
        described = [{"url": f"{BASE}/files/{i}.png", "width": 48, "height": 32} for i in range(len(self.images))]
        output = {"images": described}
        return _Result([_Image(d) for d in self.images], output)


@pytest.fixture
def store() -> HistoryStore:
    return HistoryStore()


def test_resume_waits_for_completion_and_saves_the_images(store: HistoryStore) -> None:
    store.submitted(submitted("r1"))
    client = ScriptedClient(
        [Queued(position=1), InProgress(), Completed(metrics={"inference_time": 2.5})],
        images=[png((1, 1, 1)), png((2, 2, 2))],
    )
    [updated] = fs.history().resume(client=client)
    assert updated.state == "completed" and updated.inference_seconds == 2.5
    assert client.calls == ["status r1", "status r1", "status r1", "result r1"]
    [record] = fs.history()
    assert record.state == "completed" and record.image_bytes() == [png((1, 1, 1)), png((2, 2, 2))]
    assert fs.history().resume(client=client) == []  # nothing in flight any more


def test_only_in_flight_records_are_touched(store: HistoryStore) -> None:
    store.submitted(submitted("done"))
    store.mark_lost(fs.history()[0], "gone")
    client = ScriptedClient([Completed()])
    assert fs.history().resume(client=client) == [] and client.calls == []


def test_a_failed_request_is_recorded_as_failed(store: HistoryStore) -> None:
    store.submitted(submitted("bad"))
    error = errors.FalError("generation failed", status_code=500, error_type="generation_timeout")
    client = ScriptedClient([Completed(error="boom", error_type="generation_timeout")], error=error)
    [record] = fs.history().resume(client=client)
    assert (record.state, record.error, record.error_type) == ("failed", "generation failed", "generation_timeout")


def test_a_cancelled_request_is_recorded_as_cancelled(store: HistoryStore) -> None:
    store.submitted(submitted("c"))
    error = errors.RequestCancelledError("the request was cancelled", error_type="request_cancelled")
    [record] = fs.history().resume(client=ScriptedClient([Completed(error_type="request_cancelled")], error=error))
    assert record.state == "cancelled"


@pytest.mark.parametrize(("sync_mode", "says"), [(False, "forgets its requests"), (True, "sync_mode=True")])
def test_a_forgotten_request_is_lost_with_the_reason(store: HistoryStore, sync_mode: bool, says: str) -> None:
    store.submitted(submitted("old", sync_mode=sync_mode))
    client = ScriptedClient([errors.RequestNotFoundError("request not found", status_code=404)])
    [record] = fs.history().resume(client=client)
    assert record.state == "lost" and says in (record.error or "")
    assert fs.history()[0].state == "lost"


def test_a_server_error_leaves_the_record_in_flight(store: HistoryStore) -> None:
    store.submitted(submitted("flaky"))
    client = ScriptedClient([errors.ServerError("server error: overloaded", status_code=503)])
    with pytest.warns(HistoryWarning, match="could not resume flaky"):
        [record] = fs.history().resume(client=client)
    assert record.in_flight and fs.history()[0].in_flight


def test_timeout_leaves_the_record_in_flight(store: HistoryStore) -> None:
    store.submitted(submitted("slow"))
    with pytest.warns(HistoryWarning, match="still running after 0.2 s"):
        record = fs.history()[0].resume(client=ScriptedClient([InProgress()]), timeout=0.2)
    assert record.in_flight


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_local_server_that_is_gone_marks_the_record_lost(store: HistoryStore) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    store.submitted(submitted("orphan", base_url=url))
    other = ScriptedClient([Completed()], base_url="http://127.0.0.1:1")  # another server: not used for it
    [record] = fs.history().resume(client=other)
    assert other.calls == []
    assert record.state == "lost" and "is not running any more" in (record.error or "")


def test_a_fal_record_without_credentials_stays_in_flight(store: HistoryStore) -> None:
    store.submitted(submitted("remote", base_url="https://queue.fal.run", mode="fal"))
    with pytest.warns(HistoryWarning, match="no FAL_KEY is set"):
        [record] = fs.history().resume()
    assert record.in_flight and record.mode == "fal"


def test_resume_of_a_finished_record_is_a_no_op(store: HistoryStore) -> None:
    store.submitted(submitted("x"))
    client = ScriptedClient([Completed()], images=[png()])
    record = fs.history()[0].resume(client=client)
    assert record.resume(client=client) is record and client.calls == ["status x", "result x"]
    assert record.endpoint == ENDPOINT
