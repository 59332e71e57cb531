"""Shared fixtures: an isolated environment per test, and one real local server per session."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator

import pytest

# Tests never reach fal.ai: drop any credentials the machine has, before anything reads them.
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
    os.environ.pop(_var, None)
# ... nor fal's OpenAPI service: unregistered endpoints are typed from schemas served on loopback by the tests that
# need them (tests/openapi); anything else meets a closed port. Kernels and servers started by tests inherit this.
NO_OPENAPI = "http://127.0.0.1:9/api/openapi/queue/openapi.json"
os.environ["FALSTUDIO_OPENAPI_URL"] = NO_OPENAPI
os.environ["FALSTUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="falstudio-test-cache-")


@pytest.fixture(autouse=True)
def _isolated_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run records go to a per-test folder, never into the user's data dir."""
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path_factory.mktemp("history")))


@pytest.fixture(autouse=True)
def _isolated_schemas(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with an empty schema cache and no endpoint loaded from fal's schema."""
    monkeypatch.setenv("FALSTUDIO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", NO_OPENAPI)
    yield
    loader = sys.modules.get("falstudio.endpoints.loader")
    if loader is not None:
        loader.forget()


@pytest.fixture(scope="session")
def server():
    """A real local fal-compatible server on a free loopback port: no latency, 4 workers."""
    from falstudio.local import LocalServer

    with LocalServer(port=0, latency=0, concurrency=4) as srv:
        yield srv
