"""Concurrent writers lose nothing; no secret reaches a file."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import falstudio as fs
from falstudio._internal.images import to_data_uri
from falstudio.history import HistoryStore

from ._helpers import finished, png, submitted

FAL_KEY = "0123abcd-0000-1111-2222-333344445555:0123456789abcdef0123456789abcdef"
OPENAI_KEY = "sk-test-SECRET-123"


def test_two_processes_writing_50_records_each_leave_100_intact_records(tmp_path: Path) -> None:
    go = tmp_path / "go"
    script = Path(__file__).with_name("_concurrent_writer.py")
    writers = [subprocess.Popen([sys.executable, str(script), tag, str(go)]) for tag in ("alpha", "beta")]
    go.touch()
    assert [w.wait(timeout=120) for w in writers] == [0, 0]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not one unreadable record
        records = fs.history()
    assert len(records) == 100
    assert sorted(r.request_id for r in records) == sorted(f"{t}-{i:03d}" for t in ("alpha", "beta") for i in range(50))
    assert {r.state for r in records} == {"done"}  # the writer said "completed": read in today's word
    for record in records:
        tag, number = record.request_id.split("-")
        assert record.prompt == f"{tag} {int(number)}"
        data = record.image_bytes()
        assert len(data) == 2
        assert [hashlib.sha256(d).hexdigest() for d in data] == [i.sha256 for i in record.images]
    store = HistoryStore()
    assert len(list(store.images_dir.iterdir())) == 101  # 100 own images + the shared one, stored once
    assert not [p for p in store.root.rglob("*") if p.name.endswith(".tmp")]


def test_no_secret_reaches_any_file(store_with_secrets: HistoryStore) -> None:
    store = store_with_secrets
    files = [p for p in store.root.rglob("*") if p.is_file()]
    assert len(files) >= 3  # the record, the input image and the output image
    for path in files:
        data = path.read_bytes()
        for secret in (OPENAI_KEY, FAL_KEY, FAL_KEY.split(":")[1], "SECRET-123"):
            assert secret.encode() not in data, f"{secret!r} found in {path}"

    [record] = fs.history()
    assert record.request["openai_api_key"] == "***"
    assert record.request["note"] == "my key is ***, keep it safe"
    assert record.output_extra["usage"] == {"input_tokens": 10, "output_tokens": 4160}  # counts are not secrets
    for text in (repr(record), record._repr_html_(), repr(fs.history()), fs.history()._repr_html_()):
        assert "SECRET" not in text and FAL_KEY not in text


@pytest.fixture
def store_with_secrets(monkeypatch: pytest.MonkeyPatch) -> HistoryStore:
    """A BYOK request recorded with its secrets NOT redacted by the caller (defence in depth)."""
    monkeypatch.setenv("FAL_KEY", FAL_KEY)
    store = HistoryStore()
    request = {
        "prompt": "a lighthouse",
        "openai_api_key": OPENAI_KEY,
        "image_urls": [to_data_uri(png((1, 2, 3)))],
        "note": f"my key is {OPENAI_KEY}, keep it safe",
        "extra": {"headers": {"Authorization": f"Key {FAL_KEY}"}, "client_secret": "hunter2-hunter2"},
    }
    store.submitted(
        submitted(
            "byok",
            endpoint="fal-ai/gpt-image-1/edit-image/byok",
            request=request,
            base_url=f"https://queue.fal.run?fal_key={FAL_KEY}",
        )
    )
    store.finished(
        finished(
            "byok",
            endpoint="fal-ai/gpt-image-1/edit-image/byok",
            error=f"OpenAI said: incorrect API key provided: {OPENAI_KEY}",
            output={
                "images": [{"url": "https://v3.fal.media/files/x.png"}],
                "usage": {"input_tokens": 10, "output_tokens": 4160},
                "echo": f"Authorization: Key {FAL_KEY}",
            },
        )
    )
    return store


def test_a_record_pointing_outside_the_folder_is_never_followed(tmp_path: Path) -> None:
    """A history folder shared by a class is writable by everyone in it: a planted record naming
    ``/etc/passwd`` (or ``../../.ssh/id_rsa``) as its image must not copy that file into an export, nor have a
    thumbnail written outside the folder."""
    secret = tmp_path / "private.txt"
    secret.write_text("root:x:0:0 NOT YOURS")
    folder = tmp_path / "history"
    records = folder / "records"
    records.mkdir(parents=True)
    for i, (path, digest) in enumerate([(str(secret), "0" * 64), ("images/../../private.txt", "../../../planted")]):
        image = {"path": path, "sha256": digest, "content_type": "image/png"}
        body = f'{{"endpoint": "x/y", "state": "completed", "mode": "local", "images": [{json.dumps(image)}]}}'
        (records / f"20261202T00000{i}-planted.json").write_text(body)
    history = fs.history(path=folder)
    assert len(history) == 2
    for record in history:
        assert record.image_paths() == [] and record.thumbnail() is None
    out = tmp_path / "export"
    history.export(out)
    assert all(b"NOT YOURS" not in p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert not list(tmp_path.glob("planted*")) and sorted(p.name for p in tmp_path.iterdir()) == [
        "export",
        "history",
        "private.txt",
    ]
