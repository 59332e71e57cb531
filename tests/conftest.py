"""Shared fixtures: an isolated environment per test, and one real local server per session; each test's tier."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx._transports.default
import pytest

from falstudio._internal.tls import default_context
from falstudio.testing import FakeFal

# Tests never reach fal.ai: drop any credentials the machine has, before anything reads them.
for _var in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET"):
    os.environ.pop(_var, None)
# ... nor fal's OpenAPI service: unregistered endpoints are typed from schemas served on loopback by the tests that
# need them (tests/openapi); anything else meets a closed port. Kernels and servers started by tests inherit this.
NO_OPENAPI = "http://127.0.0.1:9/api/openapi/queue/openapi.json"
os.environ["FALSTUDIO_OPENAPI_URL"] = NO_OPENAPI
NO_PLATFORM = "http://127.0.0.1:9/v1"  # fal's Platform API likewise (tests/platform serves a fal-shaped one)
os.environ["FALSTUDIO_PLATFORM_URL"] = NO_PLATFORM
# Throwaway folders, removed when this process exits (kept alive by these names until then)
_CACHE = tempfile.TemporaryDirectory(prefix="falstudio-test-cache-", ignore_cleanup_errors=True)
_FAL_HOME = tempfile.TemporaryDirectory(prefix="falstudio-test-fal-home-", ignore_cleanup_errors=True)
os.environ["FALSTUDIO_CACHE_DIR"] = _CACHE.name
os.environ["FAL_HOME_DIR"] = _FAL_HOME.name  # never the real `fal auth login`
# The embedded offline server (``fs.Client()`` without a key: notebooks, kernels, browser tests) answers at once
# instead of at model-like times: tests that need a job to take time start their own LocalServer(latency=...).
os.environ["FALSTUDIO_LOCAL_LATENCY"] = "0"
# httpx makes a TLS context with certifi's bundle for each client it makes (~25 ms of CPU; the suite makes hundreds,
# the tests' own and fal-client's, nearly all for loopback HTTP): here they share the one falstudio's clients use,
# which loads the bundle on its first TLS connection and verifies as strictly (falstudio/_internal/tls.py).
_create_ssl_context = httpx._transports.default.create_ssl_context


def _shared_tls_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
    if verify is True and cert is None and trust_env:
        return default_context()
    return _create_ssl_context(verify=verify, cert=cert, trust_env=trust_env)


httpx._transports.default.create_ssl_context = _shared_tls_context  # type: ignore[assignment]
# A suite started in the background (`cmd &`, nohup) inherits Ctrl-C ignored, and Python then never raises
# KeyboardInterrupt, here or in the servers and demos the tests start: the tests of Ctrl-C would fail. Python's own
# handler is put back (a process started from here then gets the default action, as from a terminal).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


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


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, the controller rewrites the test modules' assertions once and caches them, before the workers
    start: each worker otherwise rewrote all ~150 itself, under coverage (~6 CPU-s per worker, three workers)."""
    config = session.config
    if getattr(config, "workerinput", None) is None and config.getoption("dist", "no") != "no":
        import coverage

        measuring = coverage.Coverage.current()  # the controller runs no test: nothing of it is worth tracing
        if measuring is not None:
            measuring.stop()
        try:
            rewrite_ahead(config, [Path(arg.partition("::")[0]) for arg in config.args])
        finally:
            if measuring is not None:
                measuring.start()


def rewrite_ahead(config: pytest.Config, roots: list[Path]) -> int:
    """Rewrite and cache (in ``__pycache__``, as pytest does unless ``PYTHONDONTWRITEBYTECODE`` is set) each test
    module and conftest under ``roots`` whose cache is missing or stale; how many were written. This uses pytest's
    private rewriting functions: should they change, it writes none, and each worker rewrites as before."""
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
        written = 0
        for root in roots:
            for path in sorted(root.rglob("*.py")) if root.is_dir() else [root]:
                if not path.is_file() or path.suffix != ".py" or not path.name.startswith(("test_", "conftest.")):
                    continue
                cache = rewrite.get_cache_dir(path)
                pyc = cache / (path.name[:-3] + rewrite.PYC_TAIL)
                if not rewrite.try_makedirs(cache) or rewrite._read_pyc(path, pyc) is not None:
                    continue
                source_hash, code = rewrite._rewrite_test(path, config)
                written += rewrite._write_pyc(state, code, source_hash, pyc)
        return written
    except (AttributeError, ImportError, KeyError, TypeError):
        return 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each test its tier's marker and time limit, and run the slow tiers' files first.

    README's command runs the suite with ``pytest -n 3 --dist loadfile --no-loadscope-reorder``: a module's tests,
    and a notebook's cells, share one process, and files go to whichever worker is free in this order. Longest
    first, the workers finish together; xdist's own order (most tests first) left a browser file for the end.
    """
    for item in items:
        tier = tier_of(item)
        if not item.get_closest_marker(tier):
            item.add_marker(getattr(pytest.mark, tier))
        if not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(TIERS[tier]))
    items[:] = slowest_files_first(items)


def slowest_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """``items`` with each file's tests kept together and in order, files ordered by their slowest tier (browser,
    kernel, loopback, unit: the order of :data:`TIERS` reversed), else as collected."""
    rank = {tier: -i for i, tier in enumerate(TIERS)}
    files: dict[Path, int] = {}
    for item in items:
        tier = next(t for t in TIERS if item.get_closest_marker(t))
        files[item.path] = min(files.get(item.path, 0), rank[tier])
    order = {path: i for i, path in enumerate(sorted(files, key=lambda path: files[path]))}  # stable: as collected
    return sorted(items, key=lambda item: order[item.path])


@pytest.fixture(autouse=True)
def _isolated_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run records go to a per-test folder, never into the user's data dir."""
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path_factory.mktemp("history")))


@pytest.fixture(autouse=True)
def _isolated_schemas(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts with an empty schema cache and no endpoint loaded from fal's schema."""
    monkeypatch.setenv("FALSTUDIO_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", NO_OPENAPI)
    monkeypatch.setenv("FALSTUDIO_PLATFORM_URL", NO_PLATFORM)
    yield
    loader = sys.modules.get("falstudio.endpoints.loader")
    if loader is not None:
        loader.forget()
    prices = sys.modules.get("falstudio.endpoints.unit_pricing")
    if prices is not None:
        prices.forget()


@pytest.fixture(scope="session")
def server():
    """A real local fal-compatible server on a free loopback port: no latency, 4 workers."""
    from falstudio.local import LocalServer

    with LocalServer(port=0, latency=0, concurrency=4) as srv:
        yield srv


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
    """An in-memory fal: ``Client(base_url=fake.base, transport=httpx.MockTransport(fake.handler))``."""
    return FakeFal()


@pytest.fixture
def fast_retry():
    from falstudio.client import RetryPolicy

    return RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_elapsed=5)
