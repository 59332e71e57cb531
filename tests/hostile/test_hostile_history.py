"""One bad file in the history folder never breaks it: each case runs in a child under memory and time limits,
gets a warning naming the file, and every good record (and the bad file itself) is left as it was."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from falstudio.history import HistoryStore

from ._bounded import run_bounded

_GOOD = {
    "version": 1,
    "endpoint": "fal-ai/gpt-image-1.5",
    "request_id": "good-1",
    "state": "completed",
    "request": {"prompt": "a calm lake"},
    "mode": "local",
    "submitted_at": 1_800_000_000.0,
    "cost_amount": "0.20",
}

_READ = """
import warnings, time
import falstudio as fs
from falstudio.history import HistoryStore
start = time.monotonic()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    records = fs.history()
    again = fs.history()  # read twice: the bad file is warned about once
    spend = {key: amount for key, mode, amount, _ in HistoryStore().spend_entries() if mode == "local"}
report(
    ids=[r.request_id for r in records],
    again=len(again),
    spend={k: str(v) for k, v in spend.items()},
    warnings=[str(w.message) for w in caught if w.category.__name__ == "HistoryWarning"],
    seconds=time.monotonic() - start,
)
"""


def _folder(history: Path) -> Path:
    records = history / "records"
    records.mkdir(parents=True, exist_ok=True)
    (records / "20270115T080000.000000Z-good-1.json").write_text(json.dumps(_GOOD))
    return records


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def _check(history: Path, bad_name: str, result: dict[str, object]) -> None:
    assert result["ids"] == ["good-1"] and result["again"] == 1
    assert result["spend"] == {"good-1": "0.20"}
    warned = result["warnings"]
    assert isinstance(warned, list) and len(warned) == 1, warned
    assert bad_name in warned[0]


def _bad_json(depth: int) -> bytes:
    return b'{"endpoint": "a/b", "state": "completed", "request": {"x": ' + b"[" * depth + b"]" * depth + b"}}"


@pytest.mark.parametrize("depth", [100, 5_000, 200_000])  # past the record limit; past json's; far past
def test_a_deeply_nested_record_is_skipped_with_one_warning(depth: int) -> None:
    history = Path(os.environ["FALSTUDIO_HISTORY_DIR"])
    records = _folder(history)
    bad = records / "20270116T080000.000000Z-deep.json"
    bad.write_bytes(_bad_json(depth))
    before = _digests(records)
    result = run_bounded(_READ)
    _check(history, bad.name, result)
    assert "nested" in result["warnings"][0]
    assert _digests(records) == before


@pytest.mark.parametrize("amount", ["1E+400000", "1e999999999", "NaN", "Infinity", "9" * 5000, 12])
def test_an_absurd_cost_amount_is_refused_quickly(amount: object) -> None:
    history = Path(os.environ["FALSTUDIO_HISTORY_DIR"])
    records = _folder(history)
    bad = records / "20270116T080000.000000Z-rich.json"
    bad.write_text(json.dumps({**_GOOD, "request_id": "rich", "cost_amount": amount}))
    before = _digests(records)
    result = run_bounded(_READ, seconds=30)
    _check(history, bad.name, result)
    assert "cost_amount" in result["warnings"][0]
    assert _digests(records) == before


def test_a_fifo_named_like_a_record_does_not_hang() -> None:
    history = Path(os.environ["FALSTUDIO_HISTORY_DIR"])
    records = _folder(history)
    fifo = records / "20270116T080000.000000Z-fifo.json"
    os.mkfifo(fifo)
    result = run_bounded(_READ, seconds=30)
    _check(history, fifo.name, result)
    assert "not a regular file" in result["warnings"][0]
    assert fifo.exists()


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_a_symlink_to_a_device_is_skipped(target: str) -> None:
    history = Path(os.environ["FALSTUDIO_HISTORY_DIR"])
    records = _folder(history)
    link = records / "20270116T080000.000000Z-zero.json"
    link.symlink_to(target)
    result = run_bounded(_READ, seconds=30)
    _check(history, link.name, result)
    assert "not a regular file" in result["warnings"][0]


def test_an_oversized_record_and_a_folder_named_like_one_are_skipped() -> None:
    history = Path(os.environ["FALSTUDIO_HISTORY_DIR"])
    records = _folder(history)
    huge = records / "20270116T080000.000000Z-huge.json"
    with huge.open("wb") as file:  # sparse: 64 MiB on paper, nothing on disk
        file.truncate(64 * 1024 * 1024)
    (records / "20270117T080000.000000Z-dir.json").mkdir()
    result = run_bounded(_READ, memory=512 * 1024 * 1024, seconds=30)
    assert result["ids"] == ["good-1"]
    warned = result["warnings"]
    assert len(warned) == 2 and any(huge.name in w and "limit" in w for w in warned), warned
    assert huge.stat().st_size == 64 * 1024 * 1024


def test_a_store_without_bad_files_warns_nothing() -> None:
    history = Path(os.environ["FALSTUDIO_HISTORY_DIR"])
    _folder(history)
    result = run_bounded(_READ)
    assert result["ids"] == ["good-1"] and result["warnings"] == []
    assert HistoryStore(history).root == history
