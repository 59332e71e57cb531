"""The history with the real client and local server: recording, killed processes, resuming, secrets."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
import weakref
from pathlib import Path

import pytest

import falstudio as fs
from falstudio.client import Client
from falstudio.history import HistoryStore, HistoryWarning
from falstudio.local import LocalServer
from falstudio.local.faults import Faults

SCRIPT = Path(__file__).with_name("_client_process.py")


def test_a_killed_client_s_request_is_resumed_by_a_new_process() -> None:
    faults = Faults(hold={"output"})  # each job waits before its output until released: the client is killed first
    with LocalServer(port=0, latency=0, concurrency=2, faults=faults) as server:
        _kill_then_resume(server, faults)


def _kill_then_resume(server: LocalServer, faults: Faults) -> None:
    env = {**os.environ, "FALSTUDIO_TEST_URL": server.url, "FALSTUDIO_TEST_KEY": server.key}
    submitter = subprocess.Popen([sys.executable, str(SCRIPT), "submit"], env=env, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while not [r for r in fs.history(state="submitted") if r.request_id]:  # queued, not only about to be sent
            assert submitter.poll() is None, submitter.communicate()[1].decode()
            assert time.monotonic() < deadline, "the submitting process never recorded its request"
            time.sleep(0.02)
    finally:
        submitter.kill()
        submitter.wait(timeout=30)
    [record] = fs.history()
    assert record.in_flight and record.base_url == server.url and record.mode == "local"
    assert record.request["prompt"] == "a lighthouse at dusk"

    assert faults.wait_held("output"), "the job never reached its output"
    resumer = subprocess.Popen(
        [sys.executable, str(SCRIPT), "resume"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    faults.release("output")
    stdout, stderr = resumer.communicate(timeout=120)
    assert resumer.returncode == 0, stderr.decode()
    assert json.loads(stdout) == {record.request_id: "done"}

    [record] = fs.history()
    assert record.state == "done" and len(record.images) == 2
    for image, data in zip(record.images, record.image_bytes(), strict=True):
        assert hashlib.sha256(data).hexdigest() == image.sha256
        assert (image.width, image.height) == (1024, 1024)
    assert [im.size for im in record.images_pil()] == [(1024, 1024), (1024, 1024)]


def test_the_client_records_each_request_when_it_is_queued(server: LocalServer) -> None:
    client = Client(base_url=server.url, key=server.key)
    try:
        request = {"prompt": "a red fox", "quality": "low"}
        handle = client.submit("fal-ai/gpt-image-1-mini", request)
        [record] = fs.history()  # written before submit() returned
        estimate = fs.endpoints.get("fal-ai/gpt-image-1-mini").estimate_cost(request)
        assert (record.request_id, record.state) == (handle.request_id, "queued")
        assert (record.cost_estimate, record.cost_amount) == (str(estimate), str(estimate.amount))
        result = handle.get()
        [record] = fs.history()
        assert record.state == "done"
        assert record.image_bytes() == [image.bytes() for image in result.images]

        client.subscribe("fal-ai/gpt-image-1-mini", {"prompt": "inline", "quality": "low", "sync_mode": True})
        record = fs.history(text="inline")[0]
        assert record.sync_mode and not record.recoverable and record.state == "done"
        assert record.images[0].url is None and len(record.image_bytes()) == 1
    finally:
        client.close()


def test_resume_without_a_client_needs_the_key_of_another_process_s_server(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import falstudio.local.server as server_module

    client = Client(base_url=server.url, key=server.key)
    try:
        handle = client.submit("fal-ai/gpt-image-1-mini", {"prompt": "left behind", "quality": "low"})
        with monkeypatch.context() as patch:  # as if the server ran in another process: its key is unknown here
            patch.setattr(server_module, "_running", weakref.WeakSet())
            with pytest.warns(HistoryWarning, match="pass client=falstudio.Client"):
                [record] = fs.history().resume()
        assert record.in_flight

        # The server of this process is found by its URL, without a client.
        [record] = fs.history().resume()
        assert record.state == "done" and record.request_id == handle.request_id
        assert len(record.image_paths()) == 1
    finally:
        client.close()


def test_no_secret_of_a_real_byok_request_reaches_the_history(server: LocalServer) -> None:
    client = Client(base_url=server.url, key=server.key)
    try:
        client.subscribe(
            "fal-ai/gpt-image-1/text-to-image/byok",
            {"prompt": "a lighthouse", "openai_api_key": "sk-test-SECRET-123", "quality": "low"},
        )
    finally:
        client.close()
    [record] = fs.history()
    assert record.state == "done" and record.request["openai_api_key"] == "***"
    files = [p for p in HistoryStore().root.rglob("*") if p.is_file()]
    assert len(files) >= 2
    for path in files:
        data = path.read_bytes()
        assert b"SECRET-123" not in data and server.key.encode() not in data, path


def test_resume_finds_a_local_server_of_this_process_by_url() -> None:
    """No ``client=`` needed for a server this process started: its key is found from the record's URL."""
    from falstudio.local import find_server

    faults = Faults(hold={"output"})  # the job is still running when its client closes
    with LocalServer(port=0, latency=0, faults=faults) as server:
        assert find_server(server.url + "/") is server
        with Client(base_url=server.url, key=server.key) as client:
            handle = client.submit("fal-ai/gpt-image-1-mini", {"prompt": "a red barn", "quality": "low"})
        (record,) = fs.history().filter(state="submitted")
        assert record.request_id == handle.request_id
        faults.release("output")
        (resumed,) = fs.history().resume(timeout=60)
        assert resumed.state == "done" and resumed.image_paths()
    assert find_server(server.url) is None
