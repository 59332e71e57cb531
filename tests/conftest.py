"""Shared fixtures: an isolated environment per test, and one real local server per session; each test's tier."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# Tests never reach fal.ai: drop any credentials the machine has, before anything reads them.
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
    os.environ.pop(_var, None)
# ... nor fal's OpenAPI service: unregistered endpoints are typed from schemas served on loopback by the tests that
# need them (tests/openapi); anything else meets a closed port. Kernels and servers started by tests inherit this.
NO_OPENAPI = "http://127.0.0.1:9/api/openapi/queue/openapi.json"
os.environ["FALSTUDIO_OPENAPI_URL"] = NO_OPENAPI
os.environ["FALSTUDIO_CACHE_DIR"] = tempfile.mkdtemp(prefix="falstudio-test-cache-")


# Each test's tier and its time limit in seconds (pytest-timeout; generous: the machine may be loaded). A test module
# may name its tier (``pytestmark = pytest.mark.kernel``); else it follows from where the test lives.
TIERS = {"unit": 60, "loopback": 180, "kernel": 300, "browser": 900}
ROOT = Path(__file__).resolve().parent.parent


def tier_of(item: pytest.Item) -> str:
    """browser: tests/browser; kernel: the notebooks (nbval) and modules named *kernel* or *nbclient*; loopback:
    tests in a folder of tests/ (they talk to servers on loopback); unit: tests/*.py."""
    named = [tier for tier in TIERS if item.get_closest_marker(tier)]
    if named:
        return named[0]
    path = Path(item.path).resolve()
    parts = path.relative_to(ROOT).parts if path.is_relative_to(ROOT) else path.parts
    if "browser" in parts:
        return "browser"
    if parts[0] == "notebooks" or "kernel" in path.stem or "nbclient" in path.stem:
        return "kernel"
    return "loopback" if len(parts) > 2 else "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test its tier's marker and time limit (README's command runs them with ``pytest -n 2 --dist
    loadfile``: a module's tests, and a notebook's cells, share one process)."""
    for item in items:
        tier = tier_of(item)
        if not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))
        if not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(TIERS[tier]))


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


class FakeFal:
    """An in-memory fal (for ``httpx.MockTransport``) whose every reply a test can shape.

    One request ``r1``: ``statuses`` is the sequence the status stream sends (and polling walks through);
    ``stream`` is "ok", "missing" (404) or "drop" (ends after the first event); ``fail`` maps a path
    suffix to a list of replies served before the normal one (e.g. 429s to exercise retries);
    ``stream_events`` are the server-sent events of a streamed run (``s1``), None for an endpoint without one.
    """

    base = "http://fake.test"

    def __init__(self) -> None:
        from PIL import Image as PILImage

        from falstudio._internal import images as _images

        self.png = _images.image_bytes(PILImage.new("RGB", (8, 8), "red"))
        self.calls: list[httpx.Request] = []
        self.statuses: list[dict[str, Any]] = [
            {"status": "IN_QUEUE", "queue_position": 1},
            {"status": "IN_QUEUE", "queue_position": 0},
            {"status": "IN_PROGRESS", "logs": [{"message": "working", "timestamp": "2026-01-01T00:00:00Z"}]},
            {"status": "COMPLETED", "logs": [], "metrics": {"inference_time": 0.25}},
        ]
        self.stream = "ok"
        self.cumulative_logs = True  # polling repeats every earlier line, like fal's status endpoint
        self.output: dict[str, Any] = {
            "images": [{"url": f"{self.base}/files/out.png", "content_type": "image/png", "width": 8, "height": 8}]
        }
        self.result_reply: tuple[int, Any] | None = None
        self.fail: dict[str, list[Any]] = {}
        self.uploads: list[httpx.Request] = []
        self.token_route = True
        self.stream_events: list[Any] | None = None  # events of POST /run/{id}/stream; None answers 405
        self._polls = 0

    def fail_content_policy(self) -> None:
        """The request ends failed: its prompt was flagged (status error, then a 422 for the result)."""
        self.statuses[-1] = {
            "status": "COMPLETED",
            "logs": [],
            "error": "flagged",
            "error_type": "content_policy_violation",
        }
        self.result_reply = (
            422,
            {"detail": [{"loc": ["body", "prompt"], "msg": "flagged", "type": "content_policy_violation"}]},
        )

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.calls]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        path = request.url.path
        for suffix, replies in self.fail.items():
            if path.endswith(suffix) and replies:
                reply = replies.pop(0)
                if isinstance(reply, Exception):
                    raise reply
                return reply
        if request.method == "POST" and path == "/storage/auth/token":
            if not self.token_route:
                return httpx.Response(404, json={"detail": "Not Found"})
            return httpx.Response(
                200,
                json={
                    "token": "cdn-token",
                    "token_type": "Bearer",
                    "base_url": self.base,
                    "expires_at": "2999-01-01T00:00:00Z",
                },
            )
        if request.method == "POST" and path == "/files/upload":
            self.uploads.append(request)
            return httpx.Response(200, json={"access_url": f"{self.base}/files/uploaded-{len(self.uploads)}"})
        if request.method == "POST" and path == "/storage/upload/initiate":
            return httpx.Response(
                200, json={"upload_url": "http://upload.test/put/1", "file_url": f"{self.base}/files/initiated"}
            )
        if request.method == "PUT" and request.url.host == "upload.test":
            self.uploads.append(request)
            return httpx.Response(200)
        if path == "/files/out.png":
            return httpx.Response(200, content=self.png, headers={"content-type": "image/png"})
        if path.startswith("/run/") and path.endswith("/stream"):
            if self.stream_events is None:
                return httpx.Response(405, json={"detail": "Method Not Allowed"})
            body = "".join(f"data: {json.dumps(e)}\n\n" for e in self.stream_events)
            headers = {"content-type": "text/event-stream", "x-fal-request-id": "s1"}
            return httpx.Response(200, content=body.encode(), headers=headers)
        if path.startswith("/run/"):
            return httpx.Response(200, json=self.output, headers={"x-fal-request-id": "run-1"})
        if request.method == "POST" and "/requests/" not in path:
            app = "/".join(path.strip("/").split("/")[:2])
            urls = {
                k: f"{self.base}/{app}/requests/r1{s}"
                for k, s in (("status_url", "/status"), ("response_url", ""), ("cancel_url", "/cancel"))
            }
            return httpx.Response(200, json={"request_id": "r1", "queue_position": 1, **urls})
        if path.endswith("/status/stream"):
            return self._stream()
        if path.endswith("/status"):
            return self._poll(request)
        if path.endswith("/cancel"):
            return httpx.Response(202, json={"status": "CANCELLATION_REQUESTED"})
        if path.endswith("/requests/r1"):
            code, body = self.result_reply or (200, self.output)
            return httpx.Response(code, json=body, headers={"x-fal-request-id": "r1"})
        return httpx.Response(404, json={"detail": f"no route {path}"})

    def _stream(self) -> httpx.Response:
        if self.stream == "missing":
            return httpx.Response(404, json={"detail": "Not Found"})
        events = self.statuses[:1] if self.stream == "drop" else self.statuses
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
        return httpx.Response(
            200, content=(": ping\n\n" + body).encode(), headers={"content-type": "text/event-stream"}
        )

    def _poll(self, request: httpx.Request) -> httpx.Response:
        index = min(self._polls, len(self.statuses) - 1)
        self._polls += 1
        status = dict(self.statuses[index])
        if request.url.params.get("logs") in ("1", "true") and self.cumulative_logs:
            status["logs"] = [line for s in self.statuses[: index + 1] for line in s.get("logs") or []]
        elif request.url.params.get("logs") not in ("1", "true"):
            status["logs"] = None
        return httpx.Response(202 if status["status"] != "COMPLETED" else 200, json=status)


class ListRecorder:
    """A Recorder that keeps what it is told."""

    def __init__(self) -> None:
        self.submitted_events: list[Any] = []
        self.finished_events: list[Any] = []

    def submitted(self, event: Any) -> None:
        self.submitted_events.append(event)

    def finished(self, event: Any) -> None:
        self.finished_events.append(event)


@pytest.fixture
def recorder() -> ListRecorder:
    return ListRecorder()


@pytest.fixture
def fake() -> FakeFal:
    return FakeFal()


@pytest.fixture
def fast_retry():
    from falstudio.client import RetryPolicy

    return RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_elapsed=5)
