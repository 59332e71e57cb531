"""The history off the request's path: records first, images after on their own thread, thumbnails when shown
(from a reduced decode), image bytes not kept by the result once stored."""

from __future__ import annotations

import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, JpegImagePlugin

import falstudio as fs
from falstudio._internal import images
from falstudio.client import Client, _recording, recorder
from falstudio.client.recorder import Sending
from falstudio.history import _store
from falstudio.history._store import HistoryStore
from falstudio.local import LocalServer

from ._helpers import submitted

ENDPOINT = "fal-ai/gpt-image-1-mini"


def test_a_recorded_result_keeps_no_image_bytes_and_makes_no_thumbnail(server: LocalServer) -> None:
    with Client(server.key, base_url=server.url) as client:
        result = client.subscribe(ENDPOINT, {"prompt": "a kite over a beach", "quality": "low"})
        assert recorder.flush()
    [record] = fs.history()
    stored = fs.history().store.root / str(record.images[0].path)
    assert stored.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.images[0]._data is None  # fetched for the history, stored, let go
    assert result.images[0].shared_thumbnail is None  # nobody looked at it: no decoding
    thumbs = fs.history().store.thumbs_dir
    assert not thumbs.exists() or not any(thumbs.iterdir())

    data, content_type = record.thumbnail(0, 96) or (b"", "")
    assert content_type == "image/jpeg" and max(Image.open(io.BytesIO(data)).size) == 96
    assert any(thumbs.iterdir())  # made when shown, and kept
    assert result.images[0].bytes() == stored.read_bytes()  # asked for: fetched again, now kept
    assert result.images[0]._data is not None


def test_a_preview_a_view_made_is_shared_with_the_history(server: LocalServer) -> None:
    busy = threading.Event()
    recorder.MEDIA.submit(lambda: busy.wait(10))  # the history stores this result only once the view made one
    with Client(server.key, base_url=server.url) as client:
        result = client.subscribe(ENDPOINT, {"prompt": "a kite over a field", "quality": "low"})
        shown = result.images[0].thumbnail()
        assert result.images[0].shared_thumbnail == shown
        busy.set()
    assert recorder.flush()
    store = fs.history().store
    [cached] = store.thumbs_dir.iterdir()
    assert cached.read_bytes() == shown[0]


def test_image_work_never_holds_up_the_records_of_other_requests() -> None:
    """While a result's images are being stored, another request's durable records are written."""
    release = threading.Event()
    order: list[str] = []

    class SlowImages:
        thread_safe = True

        def sending(self, event: Any) -> None:
            order.append("sending")

        def submitted(self, event: Any) -> None:
            order.append(f"submitted {event.request_id}")

        def finished(self, event: Any) -> None:
            release.wait(10)
            order.append(f"finished {event.request_id}")

    with LocalServer(port=0, latency=0) as srv, Client(srv.key, base_url=srv.url, history=SlowImages()) as client:
        first = client.submit(ENDPOINT, {"prompt": "one", "quality": "low"})
        first.get()
        second = client.submit(ENDPOINT, {"prompt": "two", "quality": "low"})  # returns while "finished" waits
        assert order[-1] == f"submitted {second.request_id}"
        assert f"finished {first.request_id}" not in order
        release.set()
        assert recorder.flush()
    assert order.index(f"submitted {first.request_id}") < order.index(f"finished {first.request_id}")


def test_a_recorder_not_thread_safe_is_called_one_call_at_a_time(server: LocalServer) -> None:
    inside, most = [0], [0]
    lock = threading.Lock()

    class Plain:
        def _call(self, event: Any) -> None:
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            threading.Event().wait(0.01)
            with lock:
                inside[0] -= 1

        sending = submitted = finished = _call

    with Client(server.key, base_url=server.url, history=Plain()) as client, ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.subscribe(ENDPOINT, {"prompt": f"kite {i}", "quality": "low"}), range(8)))
    assert recorder.flush() and most[0] == 1


def test_flush_waits_for_images_stored_after_the_records() -> None:
    stored = threading.Event()

    def slow() -> None:
        stored.wait(0.2)
        stored.set()

    recorder.MEDIA.submit(slow)
    assert recorder.flush(10) and stored.is_set()


@pytest.mark.parametrize("size", [(1024, 1024), (1536, 1024), (4000, 3000)])
def test_a_jpeg_preview_decodes_the_image_at_a_reduced_scale(
    size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG")
    decoded: list[tuple[int, int]] = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self: JpegImagePlugin.JpegImageFile) -> Any:
        decoded.append(self.size)
        return load(self)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    data, content_type = images.thumbnail(buffer.getvalue(), max_px=384)
    assert content_type == "image/jpeg"
    assert max(Image.open(io.BytesIO(data)).size) == 384
    assert decoded[0][0] < size[0] and min(decoded[0]) >= 384  # 1/2, 1/4 or 1/8 of it, still as large


def test_a_request_ids_record_is_written_at_once_and_synced_to_disk_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record that gives an early record its request id waits for no disk sync (issue 29): it is whole on disk
    at once, so a killed process leaves it; it is synced on another thread, and only then does the early record
    go (itself synced on that thread before), so there is never a moment when neither is on disk."""
    store = HistoryStore(tmp_path)
    store.sending(Sending(ENDPOINT, "i1", {"prompt": "a fox"}, "http://127.0.0.1:9", "local", time.time(), "here:1"))
    caller, synced_here = threading.current_thread(), []
    real_fsync, real_sync = os.fsync, _store.sync_file

    def fsync(fd: int) -> None:
        if threading.current_thread() is caller:
            synced_here.append(fd)
        real_fsync(fd)

    syncing, release = threading.Event(), threading.Event()

    def slow_sync(path: Path) -> None:
        syncing.set()
        release.wait(10)  # a slow disk
        real_sync(path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(_store, "sync_file", slow_sync)
    store.submitted(submitted("req-1", intent_id="i1"))
    assert not synced_here  # the caller (the request waiting for its id) never waited for the disk
    assert syncing.wait(10)
    files = store.record_files()
    assert len(files) == 2  # not synced yet: the early record stays
    assert {store.load(f).request_id for f in files} == {None, "req-1"}  # the new one already whole
    assert [r.request_id for r in store] == ["req-1"]  # read as one request meanwhile
    release.set()
    assert recorder.flush()
    [only] = store.record_files()
    assert store.load(only).request_id == "req-1"


def test_the_record_before_sending_is_written_at_once_and_synced_on_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written by the loop just before the request leaves, so it must never wait for the disk: the record and the
    input image it moved to a file are whole at once (a killed process leaves them), synced by the settle thread."""
    store = HistoryStore(tmp_path)
    caller, synced_here, synced_later = threading.current_thread(), [], []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        (synced_here if threading.current_thread() is caller else synced_later).append(
            os.readlink(f"/proc/self/fd/{fd}")
        )
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    mask = images.to_data_uri(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")
    request = {"prompt": "a fox", "mask_url": mask}
    store.sending(Sending(ENDPOINT, "i1", request, "http://127.0.0.1:9", "local", time.time(), "here:1"))
    assert not synced_here
    [record] = store.record_files()
    stored = store.load(record)
    assert stored.state == "submitting" and stored.intent_id == "i1"
    [blob] = (tmp_path / "images").iterdir()
    assert recorder.flush()
    assert {os.path.realpath(record), os.path.realpath(blob)} <= set(synced_later)


def test_a_request_that_ends_at_once_has_its_end_written_in_its_early_records_place(tmp_path: Path) -> None:
    """The request id's record is held back a few seconds (the spend journal names the request meanwhile, for a
    resume): a request that ends sooner never has one; its end replaces its early record."""
    submissions: list[str] = []

    class Counting(HistoryStore):
        def submitted(self, event: Any) -> None:
            submissions.append(event.request_id)
            super().submitted(event)

    store = Counting(tmp_path)
    with LocalServer(port=0, latency=0) as srv, Client(srv.key, base_url=srv.url, history=store) as client:
        result = client.subscribe(ENDPOINT, {"prompt": "a kite over a field", "quality": "low"})
        assert recorder.flush()
    assert submissions == []
    [only] = store.record_files()
    record = store.load(only)
    assert (record.request_id, record.state, record.prompt) == (result.request_id, "done", "a kite over a field")
    assert record.intent_id and record.images and record.cost_amount


def test_a_request_still_running_after_a_few_seconds_gets_its_request_id_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_recording, "SUBMITTED_AFTER", 0.3)
    store = HistoryStore(tmp_path)
    with LocalServer(port=0, latency=4) as srv, Client(srv.key, base_url=srv.url, history=store) as client:
        handle = client.submit(ENDPOINT, {"prompt": "a slow kite", "quality": "low"})
        [early] = store.record_files()
        assert store.load(early).request_id is None  # the journal names it meanwhile
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and store.load(store.record_files()[0]).request_id is None:
            time.sleep(0.05)
        [named] = store.record_files()
        assert (store.load(named).request_id, store.load(named).state) == (handle.request_id, "queued")
        handle.cancel()
    assert recorder.flush()


def test_flush_writes_a_held_back_request_id_record_at_once(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    with LocalServer(port=0, latency=4) as srv, Client(srv.key, base_url=srv.url, history=store) as client:
        handle = client.submit(ENDPOINT, {"prompt": "a slow kite", "quality": "low"})
        assert recorder.flush()
        [named] = store.record_files()
        assert store.load(named).request_id == handle.request_id
        handle.cancel()
    assert recorder.flush()
