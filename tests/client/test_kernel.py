"""The sync client in a real Jupyter kernel (ipykernel, driven by jupyter_client): cells sent back to back
all complete, and a kernel interrupt stops a call and closes its request."""

from __future__ import annotations

import queue
import threading
import time

import pytest

pytestmark = pytest.mark.kernel
jupyter_client = pytest.importorskip("jupyter_client")


@pytest.fixture(scope="module")
def kernel():
    manager = jupyter_client.KernelManager(kernel_name="python3")
    manager.start_kernel(extra_arguments=["--HistoryManager.enabled=False"])
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def collect(client, msg_ids, timeout=60.0):
    """Replies and stdout per msg id, until every request has its execute_reply."""
    replies, stdout, errors = {}, {m: "" for m in msg_ids}, {}
    deadline = time.monotonic() + timeout
    while len(replies) < len(msg_ids) and time.monotonic() < deadline:
        try:
            msg = client.get_shell_msg(timeout=0.2)
            if msg["parent_header"].get("msg_id") in stdout and msg["msg_type"] == "execute_reply":
                replies[msg["parent_header"]["msg_id"]] = msg["content"]
        except queue.Empty:
            pass
        while True:
            try:
                msg = client.get_iopub_msg(timeout=0.01)
            except queue.Empty:
                break
            parent = msg["parent_header"].get("msg_id")
            if parent in stdout and msg["msg_type"] == "stream":
                stdout[parent] += msg["content"]["text"]
            if parent in stdout and msg["msg_type"] == "error":
                errors[parent] = msg["content"]["ename"]
    return replies, stdout, errors


def test_back_to_back_cells_all_complete(kernel, server, slow_server):
    _, client = kernel
    cells = [
        f"from falstudio.client import Client\nc = Client({server.key!r}, base_url={server.url!r}, history=False)\n"
        "print(c.mode)",
        "r = c.subscribe('fal-ai/gpt-image-1-mini', {'prompt': 'a red square', 'quality': 'low'})\n"
        "print(len(r.images), r.images[0].bytes()[:4])",
        "h = c.submit('fal-ai/gpt-image-1-mini', {'prompt': 'a blue circle', 'quality': 'low'})\n"
        "f = h.future()\nprint('submitted', h.request_id == f.result(60).request_id)",
        f"s = Client(base_url={slow_server.url!r}, history=False)\n"
        "print(s.run('test/slow', {'seconds': 0.3}, validate=False).number)",
        "import asyncio\nprint(asyncio.Task.__module__)",
        "print('last cell')",
    ]
    ids = [client.execute(cell) for cell in cells]  # sent at once, like "Run All"
    replies, stdout, errors = collect(client, ids)
    assert [replies.get(i, {}).get("status") for i in ids] == ["ok"] * len(cells), (replies, errors, stdout)
    outputs = [stdout[i].strip() for i in ids]
    assert outputs[0] == "local"
    assert outputs[1].startswith("1 b'")
    assert outputs[2] == "submitted True"
    assert outputs[4] == "_asyncio" and outputs[5] == "last cell"


def test_kernel_interrupt_stops_the_call_and_closes_the_request(kernel, slow_server):
    manager, client = kernel
    setup = client.execute(
        f"from falstudio.client import Client\nk = Client(base_url={slow_server.url!r}, history=False)"
    )
    assert collect(client, [setup])[0][setup]["status"] == "ok"
    slow = client.execute("k.run('test/slow', {'seconds': 20}, validate=False)")
    slow_server.wait_for("START", timeout=30)
    threading.Timer(0.2, manager.interrupt_kernel).start()
    replies, _, errors = collect(client, [slow], timeout=30)
    assert replies[slow]["status"] == "error" and errors[slow] == "KeyboardInterrupt"
    slow_server.wait_for("DISCONNECTED", timeout=5)
    after = client.execute(
        "print(k.run('test/slow', {'seconds': 0}, validate=False).number)"
    )  # the kernel aborts queued cells
    replies, stdout, _ = collect(client, [after])  # after an error: send it now
    assert replies[after]["status"] == "ok" and stdout[after].strip() == "2"
