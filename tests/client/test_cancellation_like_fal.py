"""A request cancelled on fal ends as a typed cancellation although fal's answers carry no ``error_type``: the
local server is told to answer like fal (COMPLETED without error fields, a result whose detail says it was
cancelled), and the client must still raise RequestCancelledError and record the request as cancelled.
(Cancelling through the same handle, in the queue and while running: test_local_server.py, both styles.)"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

import falstudio as fs
from falstudio.client import Client, errors
from falstudio.client._status import Completed as CompletedStatus
from falstudio.local import LocalServer

T2I = "fal-ai/gpt-image-1.5"
LOW = {"prompt": "a slow lighthouse", "quality": "low"}


@pytest.fixture
def fal_like() -> Iterator[LocalServer]:
    """Jobs take about 3 s; cancellations are answered the way fal answers them."""
    with LocalServer(port=0, latency=3, concurrency=1, typed_cancellation=False) as server:
        yield server


def test_the_server_answers_a_cancel_like_fal(fal_like: LocalServer) -> None:
    with httpx.Client(base_url=fal_like.url, headers={"Authorization": f"Key {fal_like.key}"}) as http:
        submitted = http.post(f"/{T2I}", json=LOW).json()
        assert http.put(submitted["cancel_url"]).status_code == 202
        status = http.get(submitted["status_url"]).json()
        result = http.get(submitted["response_url"])
    assert status["status"] == "COMPLETED" and "error" not in status and "error_type" not in status
    assert result.status_code == 400 and "error_type" not in result.json()
    assert "x-fal-error-type" not in result.headers


def test_cancelled_elsewhere_is_recognised_from_fal_s_words(fal_like: LocalServer) -> None:
    with Client(base_url=fal_like.url, key=fal_like.key) as client:
        request_id = client.submit(T2I, LOW).request_id
        assert Client(base_url=fal_like.url, key=fal_like.key, history=False).cancel(T2I, request_id)
        with pytest.raises(errors.RequestCancelledError):
            client.result(T2I, request_id)  # a handle that never asked for the cancel
    assert [(r.request_id, r.state) for r in fs.history()] == [(request_id, "cancelled")]


def test_a_killed_process_s_cancelled_request_is_resumed_as_cancelled(fal_like: LocalServer) -> None:
    with Client(base_url=fal_like.url, key=fal_like.key) as client:
        request_id = client.submit(T2I, LOW).request_id
        client.cancel(T2I, request_id)  # a fresh handle: as if another process had cancelled it
    [record] = fs.history().resume(client=Client(base_url=fal_like.url, key=fal_like.key, history=False))
    assert record.request_id == request_id and record.state == "cancelled"


def test_a_completed_status_whose_error_says_cancelled_counts_as_cancelled() -> None:
    assert CompletedStatus(error="Request was cancelled by the user").cancelled
    assert CompletedStatus(error_type="request_cancelled").cancelled
    assert not CompletedStatus(error="Upstream timeout").cancelled and not CompletedStatus().cancelled
