"""A run submits its first wave (as many variations as run at once) before any of them watches its status."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from falstudio.client import Client
from falstudio.sweep import SweepRun, sweep
from falstudio.sweep import _run as _sweep_run

MINI = "fal-ai/gpt-image-1-mini"


class _Recording:
    """The real client, noting when each variation is submitted and when it starts watching its status."""

    def __init__(self, client: Client, fail_prompt: str | None = None) -> None:
        self.client, self.fail_prompt = client, fail_prompt
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.run: SweepRun | None = None
        self.started_at_first_submit: int | None = None

    def note(self, event: str, prompt: str) -> None:
        with self.lock:
            self.events.append((event, prompt))

    def submit(self, endpoint: str, request: Any) -> Any:
        if request.prompt == self.fail_prompt:
            self.note("refused", request.prompt)
            raise ConnectionError("refused before it reached the server")
        with self.lock:
            if self.started_at_first_submit is None and self.run is not None:
                self.started_at_first_submit = len(self.run._futures)  # set once every worker has been started
        handle = self.client.submit(endpoint, request)
        self.note("submitted", request.prompt)
        recording = self

        class _Watched:
            request_id = handle.request_id

            def cancel(self) -> None:
                handle.cancel()

            def future(self, **options: Any) -> Any:
                recording.note("watching", request.prompt)
                return handle.future(**options)

        return _Watched()


def _prompts(n: int) -> list[str]:
    return [f"a red fox, take {i}" for i in range(n)]


def test_the_first_wave_is_all_submitted_before_any_variation_watches_its_status(client: Client) -> None:
    recording = _Recording(client)
    run = SweepRun(sweep({"quality": "low"}, endpoint=MINI, prompt=_prompts(6)), recording, concurrency=4)
    run.start()
    assert run.wait(120) and [j.state for j in run.jobs] == ["done"] * 6
    first_wave = set(_prompts(6)[:4])
    submits = [i for i, (event, prompt) in enumerate(recording.events) if event == "submitted" and prompt in first_wave]
    watches = [i for i, (event, prompt) in enumerate(recording.events) if event == "watching"]
    assert len(submits) == 4 and len(watches) == 6
    assert max(submits) < min(watches)


def test_every_worker_is_started_before_the_first_submit(client: Client) -> None:
    recording = _Recording(client)
    run = recording.run = SweepRun(
        sweep({"quality": "low"}, endpoint=MINI, prompt=_prompts(8)), recording, concurrency=8
    )
    run.start()
    assert run.wait(120) and [j.state for j in run.jobs] == ["done"] * 8
    assert recording.started_at_first_submit == 8


def test_a_submit_that_fails_does_not_hold_back_the_rest_of_its_wave(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sweep_run, "FIRST_WAVE_WAIT", 600.0)  # were the failure not counted, this would hang
    prompts = _prompts(3)
    recording = _Recording(client, fail_prompt=prompts[1])
    run = SweepRun(sweep({"quality": "low"}, endpoint=MINI, prompt=prompts), recording, concurrency=3)
    run.start()
    assert run.wait(60), "the wave waited for a submit that had failed"
    assert [j.state for j in run.jobs] == ["done", "failed", "done"]
    assert "ConnectionError" in str(run.jobs[1].error)


def test_a_run_cancelled_before_its_variations_start_does_not_hold_back_the_others(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_sweep_run, "FIRST_WAVE_WAIT", 600.0)
    run = SweepRun(sweep({"quality": "low"}, endpoint=MINI, prompt=_prompts(2)), _Recording(client), concurrency=2)
    run.cancel()
    run.start()
    assert run.wait(60) and [j.state for j in run.jobs] == ["cancelled", "cancelled"]
