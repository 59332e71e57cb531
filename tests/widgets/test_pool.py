"""The widgets' worker pool: ``Latest`` runs the newest value, folds a burst into one more run, and with ``every``
keeps its runs that far apart (a line that hundreds of jobs update is redrawn a few times a second)."""

from __future__ import annotations

import threading
import time

from falstudio.widgets._pool import Latest


def test_values_that_arrive_while_one_runs_fold_into_one_more_run() -> None:
    release = threading.Event()
    seen: list[int] = []

    def work(value: int) -> None:
        seen.append(value)
        release.wait(10)

    latest: Latest[int] = Latest(work)
    latest.push(1)
    deadline = time.monotonic() + 10
    while not seen and time.monotonic() < deadline:
        time.sleep(0.005)
    for value in (2, 3, 4):
        latest.push(value)
    assert not latest.idle.is_set()
    release.set()
    assert latest.idle.wait(10)
    assert seen == [1, 4]


def test_with_every_a_burst_runs_now_then_once_more_with_the_newest_value_a_turn_later() -> None:
    runs: list[tuple[float, int]] = []
    first = threading.Event()

    def work(value: int) -> None:
        runs.append((time.monotonic(), value))
        first.set()

    latest: Latest[int] = Latest(work, every=0.2)
    latest.push(0)
    # The first value runs at once. Waited for, so that a loaded machine's late worker cannot take a later one first
    # (it ran [1, 49] once in CI); the rest of the burst arrives within the turn.
    assert first.wait(10)
    for value in range(1, 50):
        latest.push(value)
    assert latest.idle.wait(10)
    assert [v for _t, v in runs] == [0, 49]
    assert runs[1][0] - runs[0][0] >= 0.2 - 0.01  # the second waited for its turn


def test_with_every_a_value_after_a_quiet_turn_runs_at_once_and_idle_waits_for_a_booked_turn() -> None:
    runs: list[int] = []
    latest: Latest[int] = Latest(runs.append, every=0.5)
    latest.push(1)
    assert latest.idle.wait(10)
    latest.push(2)  # within the turn: booked; idle once it ran
    assert latest.idle.wait(10) and runs == [1, 2]
    time.sleep(0.55)
    started = time.monotonic()
    latest.push(3)
    assert latest.idle.wait(10) and runs == [1, 2, 3]
    assert time.monotonic() - started < 0.4  # a quiet turn: not held back for one


def test_a_run_that_raises_leaves_it_idle_and_ready_for_the_next_value() -> None:
    runs: list[int] = []

    def work(value: int) -> None:
        runs.append(value)
        if value == 1:
            raise ValueError("boom")

    latest: Latest[int] = Latest(work, every=0.05)
    latest.push(1)
    assert latest.idle.wait(10)
    latest.push(2)
    assert latest.idle.wait(10) and runs == [1, 2]
