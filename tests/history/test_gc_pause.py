"""Reading the history pauses the cyclic collector (issue 23: the first read of 20,000 records) and always
restores it, nested or from several threads."""

from __future__ import annotations

import gc
import threading

import pytest

import falstudio
from falstudio._internal.gc_pause import gc_paused


@pytest.fixture(autouse=True)
def _collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_nested_blocks_and_restored_by_the_last_to_leave() -> None:
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_user_turned_off_stays_off() -> None:
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()


def test_restored_after_an_error() -> None:
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_overlapping_pauses_on_threads_restore_it_once_all_are_done() -> None:
    inside, leave = threading.Barrier(2), threading.Event()

    def reader() -> None:
        with gc_paused():
            inside.wait()
            leave.wait()

    thread = threading.Thread(target=reader)
    thread.start()
    with gc_paused():
        inside.wait()
    assert not gc.isenabled()  # the thread is still reading
    leave.set()
    thread.join()
    assert gc.isenabled()


def test_history_reads_with_the_collector_paused(tmp_path, monkeypatch) -> None:
    from falstudio.history import _history

    seen = []
    monkeypatch.setattr(_history, "_take", lambda records, limit: seen.append(gc.isenabled()) or list(records))
    falstudio.history(path=tmp_path)
    falstudio.history(path=tmp_path, since="1d")
    assert seen == [False, False]
    assert gc.isenabled()
