"""falstudio never patches asyncio, and keeps working in processes where someone else did.

Each case runs in a fresh interpreter: nest_asyncio's patch is process-wide and irreversible.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import falstudio

PACKAGE = Path(falstudio.__file__).parent


def run_python(code: str, timeout: float = 60) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_package_never_imports_or_applies_nest_asyncio():
    usage = re.compile(r"^\s*(import|from)\s+nest_asyncio|nest_asyncio2?\.apply\(", re.MULTILINE)
    offenders = [str(p) for p in PACKAGE.rglob("*.py") if usage.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_importing_leaves_asyncio_unpatched():
    out = run_python("""
        import asyncio, asyncio.runners
        run_before = asyncio.run
        import falstudio, falstudio.client
        from falstudio.client import Client
        assert asyncio.Task.__module__ == "_asyncio", asyncio.Task
        assert asyncio.Future.__module__ == "_asyncio", asyncio.Future
        assert asyncio.run is run_before is asyncio.runners.run
        assert not hasattr(asyncio, "_nest_patched")
        print("clean")
    """)
    assert out.strip() == "clean"


CALLS = """
    import asyncio, threading
    from concurrent.futures import ThreadPoolExecutor
    from falstudio.client import AsyncClient, Client

    URL = {url!r}
    client = Client(base_url=URL, history=False)
    assert client.run("test/slow", {{"seconds": 0}}, validate=False).number >= 1          # script
    async def inside_loop():
        return client.run("test/slow", {{"seconds": 0}}, validate=False)  # sync call inside a running loop
    assert asyncio.run(inside_loop()).number >= 1
    async def with_async_client():
        async with AsyncClient(base_url=URL, history=False) as a:
            return await a.run("test/slow", {{"seconds": 0}}, validate=False)
    assert asyncio.run(with_async_client()).number >= 1                   # async API
    assert asyncio.run(with_async_client()).number >= 1                   # and again, a new loop
    with ThreadPoolExecutor(4) as pool:                                   # threads
        assert len(list(pool.map(lambda _: client.run("test/slow", {{"seconds": 0.1}}, validate=False), range(4)))) == 4
    client.close()
    print("ok")
"""


@pytest.mark.parametrize("module", ["nest_asyncio", "nest_asyncio2"])
def test_everything_works_after_nest_asyncio_was_applied(module, slow_server):
    pytest.importorskip(module)
    code = f"import warnings; warnings.simplefilter('ignore')\nimport {module}; {module}.apply()\n"
    code += "import asyncio; assert asyncio.Task.__module__ != '_asyncio' or hasattr(asyncio, '_nest_patched')\n"
    out = run_python(code + textwrap.dedent(CALLS.format(url=slow_server.url)))
    assert out.strip().endswith("ok")


def test_the_same_calls_work_unpatched(slow_server):
    out = run_python(CALLS.format(url=slow_server.url))
    assert out.strip().endswith("ok")
