"""``submit`` returns once the request id is written where a resume finds it: the folder's spend journal, before
the record's own write (which follows on the writer thread, in order). A recorder without such a journal still
has the record written before ``submit`` returns."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from falstudio.client import Client
from falstudio.client._journal import JOURNAL_NAME
from falstudio.history import HistoryStore, history
from falstudio.testing import wait_for

ENDPOINT = "fal-ai/gpt-image-1-mini"
REQUEST = {"prompt": "a lighthouse", "quality": "low", "image_size": "1024x1024"}


class HeldStore(HistoryStore):
    """The history, with each request id's record write held until ``release`` is set."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.release = threading.Event()

    def submitted(self, event: Any) -> None:
        self.release.wait(120)
        super().submitted(event)


def test_submit_returns_once_the_journal_names_the_request_while_its_record_write_is_held(
    server: Any, tmp_path: Path
) -> None:
    store = HeldStore(tmp_path)
    with Client(base_url=server.url, key=server.key, history=store) as client, ThreadPoolExecutor(1) as pool:
        submitting = pool.submit(client.submit, ENDPOINT, REQUEST)
        try:
            handle = submitting.result(timeout=60)  # held for 120 s if submit waited for the record
            lines = [json.loads(line) for line in (tmp_path / JOURNAL_NAME).read_text().splitlines()]
            assert {"s": "bound", "r": handle.request_id}.items() <= lines[-1].items()
            assert not store.release.is_set()
        finally:
            store.release.set()
        [record] = history(path=tmp_path)  # reading the history lets this process's writes catch up first
        assert (record.request_id, record.state) == (handle.request_id, "queued")
        assert handle.get()["images"]


class HeldRecorder:
    """A recorder of its own (no history folder, so no spend journal): its submission write is held."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.request_ids: list[str] = []

    def submitted(self, event: Any) -> None:
        self.release.wait(120)
        self.request_ids.append(event.request_id)

    def finished(self, event: Any) -> None:
        pass


def test_without_a_journal_submit_returns_after_the_record_is_written(server: Any) -> None:
    recorder = HeldRecorder()
    with Client(base_url=server.url, key=server.key, history=recorder) as client, ThreadPoolExecutor(1) as pool:
        submitting = pool.submit(client.submit, ENDPOINT, REQUEST)
        try:
            assert not submitting.done()
            assert not recorder.release.wait(0.5)
            assert not submitting.done()  # still waiting for the held write
        finally:
            recorder.release.set()
        handle = submitting.result(timeout=60)
        assert recorder.request_ids == [handle.request_id]


class OneHeldStore(HistoryStore):
    """The history, with the request id record of the prompt ``held`` held until ``release`` is set; the
    requests whose end was recorded, by prompt (read from the record: a request that ends within seconds never
    has a request id record, its end takes its early record's place)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.release = threading.Event()
        self.ended: list[str] = []

    def submitted(self, event: Any) -> None:
        if event.request["prompt"] == "held":
            self.release.wait(120)
        super().submitted(event)

    def record_finished(self, event: Any) -> Any:
        record = super().record_finished(event)  # a request that ended at once: its early record's place
        self.ended.append(record.prompt)
        return record


def test_a_requests_end_is_recorded_without_waiting_for_another_requests_records(server: Any, tmp_path: Path) -> None:
    store = OneHeldStore(tmp_path)
    with Client(base_url=server.url, key=server.key, history=store) as client:
        try:
            client.submit(ENDPOINT, {**REQUEST, "prompt": "held"})
            client.subscribe(ENDPOINT, {**REQUEST, "prompt": "free"})
            wait_for(lambda: "free" in store.ended, timeout=60, what="the free request's end recorded")
            assert not store.release.is_set()
        finally:
            store.release.set()
        assert {record.request["prompt"] for record in history(path=tmp_path)} == {"held", "free"}
