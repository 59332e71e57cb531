"""The Studio in a real ipykernel: a Generate click (a comm message, as the browser sends it) starts a job,
cells keep running while it works, two jobs overlap, and widget updates stream while the kernel is idle."""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from falstudio.local import LocalServer

pytestmark = pytest.mark.kernel
jupyter_client = pytest.importorskip("jupyter_client")


@pytest.fixture
def kernel(tmp_path: Path) -> Iterator[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAL_KEY")}
    env["FALSTUDIO_HISTORY_DIR"] = str(tmp_path / "history")
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, extra_arguments=["--HistoryManager.enabled=False"])
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def run(client: Any, code: str, timeout: float = 60.0) -> str:
    """Execute ``code``; its stdout (raises on an error or a timeout)."""
    msg_id = client.execute(code)
    out, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=0.1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "stream" and msg["content"]["name"] == "stdout":
            out += msg["content"]["text"]
        elif kind == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return out.strip()
    raise AssertionError(f"no reply to {code!r} within {timeout} s")


def click(client: Any, model_id: str) -> None:
    """What the browser sends when a Button is clicked."""
    content = {"comm_id": model_id, "data": {"method": "custom", "content": {"event": "click"}}}
    client.shell_channel.send(client.session.msg("comm_msg", content))


def widget_updates(client: Any, seconds: float) -> int:
    """comm_msg state updates on IOPub during ``seconds`` in which no cell runs."""
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = client.get_iopub_msg(timeout=0.05)
        except queue.Empty:
            continue
        if msg["msg_type"] == "comm_msg" and msg["content"]["data"].get("method") == "update":
            count += 1
    return count


def test_generate_clicks_run_in_the_background(kernel: Any) -> None:
    with LocalServer(port=0, latency=0.5, concurrency=2) as srv:
        button = run(
            kernel,
            (
                "import falstudio as fs\nfrom falstudio.client import Client\n"
                f"studio = fs.Studio(Client(base_url={srv.url!r}, key={srv.key!r}))\n"
                "print(studio.form.generate_button.model_id)"
            ),
        )
        click(kernel, button)
        first = run(kernel, "print(len(studio.jobs), studio.jobs[0].done)")
        assert first == "1 False"  # the click started a job and the next cell ran while it works
        run(kernel, "studio.form.value = {'prompt': 'a zeppelin above a teacup'}")
        click(kernel, button)
        both = run(kernel, "print(len(studio.jobs), [j.done for j in studio.jobs])")
        assert both == "2 [False, False]"
        assert widget_updates(kernel, 1.0) > 0  # job panels update while the kernel is idle
        final = run(kernel, "studio.wait(60)\nprint([j.state for j in studio.jobs], len(studio.gallery))")
        assert final == "['done', 'done'] 2"
        prompts = run(kernel, "print(sorted(t.alt for t in studio.gallery.tiles))")
        assert prompts == "['a lighthouse on a cliff at sunset', 'a zeppelin above a teacup']"
