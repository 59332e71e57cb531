"""A damaged or hostile spend journal (``spend.jsonl``) in a shared history folder never hangs a request,
exhausts memory or turns the budget off: each case runs in a child under memory and time limits."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from ._bounded import not_a_file, run_bounded

_RUN = """
import warnings
from falstudio.client import Client, errors
from falstudio.history import HistoryStore
from falstudio.local import LocalServer
request = {"prompt": "a red fox", "quality": "low", "image_size": "1024x1024"}  # $0.01
with warnings.catch_warnings(record=True) as caught, LocalServer(port=0, latency=0) as server:
    warnings.simplefilter("always")
    outcomes = []
    with Client(base_url=server.url, key=server.key, history=HistoryStore(FOLDER), budget="0.015",
                budget_since="today") as client:
        for _ in range(2):
            try:
                client.submit("fal-ai/gpt-image-1-mini", request).get()
                outcomes.append("sent")
            except errors.BudgetExceededError:
                outcomes.append("refused")
report(outcomes=outcomes, warnings=[str(w.message) for w in caught if "spend" in str(w.message)])
"""


def _run(folder: Path) -> dict[str, object]:
    return run_bounded(f"FOLDER = {str(folder)!r}\n" + _RUN, memory=1024 * 1024 * 1024, seconds=120)


def _other_kernels_request(at: float) -> bytes:
    """A line another kernel wrote: $0.01 reserved for a request of its own."""
    return json.dumps({"k": "other-kernel", "s": "reserved", "m": "local", "a": "0.01", "t": at}).encode() + b"\n"


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_journal_that_is_not_a_file_is_refused_and_the_kernels_own_count_still_holds(
    tmp_path: Path, kind: str
) -> None:
    """A FIFO used to block the reservation forever (holding the folder's lock); /dev/zero to fill the memory."""
    not_a_file(tmp_path / "spend.jsonl", kind)
    result = _run(tmp_path)
    assert result["outcomes"] == ["sent", "refused"]
    said = result["warnings"]
    assert isinstance(said, list) and len(said) == 1 and "not a regular file" in said[0], said


def test_a_two_gigabyte_line_is_skipped_in_bounded_memory_and_the_lines_after_it_still_count(
    sparse_folder: Path,
) -> None:
    journal = sparse_folder / "spend.jsonl"
    with open(journal, "wb") as file:
        file.truncate(2 * 1024**3)  # sparse: 2 GB of one line, no disk used
        file.seek(0, os.SEEK_END)
        file.write(b"\n" + _other_kernels_request(time.time()))
    result = _run(sparse_folder)
    assert result["outcomes"] == ["refused", "refused"]  # the other kernel's $0.01 leaves no room for $0.01
    said = result["warnings"]
    assert isinstance(said, list) and len(said) == 1 and "a line of more than" in said[0], said


def test_lines_that_are_deeply_nested_or_carry_impossible_amounts_are_ignored_and_the_rest_count(
    tmp_path: Path,
) -> None:
    now = time.time()
    bad = [
        b"[" * 60_000,  # json's recursion limit: used to raise RecursionError out of the reservation
        json.dumps({"k": "a", "s": "reserved", "m": "local", "a": "-1e9", "t": now}).encode(),
        json.dumps({"k": "b", "s": "reserved", "m": "local", "a": "NaN", "t": now}).encode(),
        b'{"k": "c", "s": "reserved", "m": "local", "a": "0.01", "t": NaN}',
        json.dumps({"k": "d", "s": "reserved", "m": "local", "a": "1e400", "t": now}).encode(),
    ]
    (tmp_path / "spend.jsonl").write_bytes(b"\n".join(bad) + b"\n" + _other_kernels_request(now))
    result = _run(tmp_path)
    assert result["outcomes"] == ["refused", "refused"]
    said = result["warnings"]
    assert isinstance(said, list) and len(said) == 1 and "ignored for spend" in said[0], said


def test_a_journal_that_is_a_symlink_to_someone_elses_file_is_never_written_through(tmp_path: Path) -> None:
    """Anyone sharing the folder could point ``spend.jsonl`` at a file of the kernel's user (a shell profile):
    each reservation used to append a line to it."""
    victim = tmp_path / "profile"
    victim.write_bytes(b"export PATH=$HOME/bin:$PATH\n")
    (tmp_path / "spend.jsonl").symlink_to(victim)
    result = _run(tmp_path)
    assert victim.read_bytes() == b"export PATH=$HOME/bin:$PATH\n"
    assert result["outcomes"] == ["sent", "refused"]  # the kernel's own count still holds the budget
    said = result["warnings"]
    assert isinstance(said, list) and len(said) == 1 and "not a regular file" in said[0], said


def test_a_journal_that_is_a_directory_is_refused_and_the_kernels_own_count_still_holds(tmp_path: Path) -> None:
    (tmp_path / "spend.jsonl").mkdir()
    result = _run(tmp_path)
    assert result["outcomes"] == ["sent", "refused"]
    said = result["warnings"]
    assert isinstance(said, list) and len(said) == 1 and "cannot be used" in said[0], said
