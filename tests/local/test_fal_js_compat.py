"""The official @fal-ai/client (JavaScript), unmodified, against the local server: subscribe (polling with hint
and priority, and streaming), run, and a start timeout read as fal's user timeout.

Needs node and @fal-ai/client installed beforehand (tests never fetch packages): point ``FALSTUDIO_FAL_JS_DIR``
at a folder where ``npm install @fal-ai/client@1.10.1`` ran. Skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from falstudio.local import LocalServer

SCRIPT = Path(__file__).with_name("fal_js_compat.js")
FOLDER = os.environ.get("FALSTUDIO_FAL_JS_DIR", "")

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed"),
    pytest.mark.skipif(
        not (Path(FOLDER) / "node_modules" / "@fal-ai" / "client").is_dir(),
        reason="@fal-ai/client not installed: set FALSTUDIO_FAL_JS_DIR to a folder with it in node_modules",
    ),
]


def test_fal_js_runs_unmodified_against_the_local_server(
    server: LocalServer, make_server: Callable[..., LocalServer]
) -> None:
    busy = make_server(latency=60, concurrency=1)
    api = httpx.Client(base_url=busy.url, headers={"Authorization": f"Key {busy.key}"})
    with api:
        api.post("/fal-ai/gpt-image-1-mini", json={"prompt": "blocker", "quality": "high"}).raise_for_status()
    done = subprocess.run(
        ["node", str(SCRIPT), server.url, server.key, busy.url, busy.key],
        cwd=FOLDER,
        env={**os.environ, "NODE_PATH": str(Path(FOLDER) / "node_modules")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["polled"]["images"] == 1 and report["polled"]["requestId"]
    assert report["streamed"] == {"images": 1}
    assert report["run"] == {"images": 1, "width": 1024}
    assert report["timeout"] == {"apiError": True, "status": 504, "userTimeout": True}
