"""Shared fixtures: an isolated environment per test, and one real local server per session."""

from __future__ import annotations

import os

import pytest

# Tests never reach fal.ai: drop any credentials the machine has, before anything reads them.
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
    os.environ.pop(_var, None)


@pytest.fixture(autouse=True)
def _isolated_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run records go to a per-test folder, never into the user's data dir."""
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path_factory.mktemp("history")))


@pytest.fixture(scope="session")
def server():
    """A real local fal-compatible server on a free loopback port: no latency, 4 workers."""
    from falstudio.local import LocalServer

    with LocalServer(port=0, latency=0, concurrency=4) as srv:
        yield srv
