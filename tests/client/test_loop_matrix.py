"""The sync API in every calling context (async-in-notebooks §4.2), against a loopback server that sees
disconnects. Timing bounds here are loose sanity checks (seconds, not milliseconds), never speed goals."""

from __future__ import annotations

import asyncio
import contextvars
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from falstudio.client import AsyncClient, Client, errors
from falstudio.client import _loop as loop_module
from falstudio.client._loop import LOOP

SLOW = "test/slow"


@pytest.fixture
def client(slow_server):
    with Client(base_url=slow_server.url, history=False) as c:
        yield c


def test_script_calls_reuse_one_connection(client, slow_server):
    first = client.run(SLOW, {"seconds": 0}, validate=False)
    second = client.run(SLOW, {"seconds": 0}, validate=False)
    assert first.request_id == "slow-1" and second.request_id == "slow-2"
    assert first.peer_port == second.peer_port  # keep-alive: one pooled connection


def test_sync_call_inside_running_loop_returns_and_warns_once(client):
    loop_module._warned_blocking.clear()

    async def main():
        return client.run(SLOW, {"seconds": 0.1}, validate=False)

    with pytest.warns(RuntimeWarning, match="blocking a running event loop"):
        result = asyncio.run(main())
    assert result.number == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(main())  # warned once only


def test_eight_threads_at_once_run_concurrently(client, slow_server):
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.run(SLOW, {"together": 8}, validate=False), range(8)))
    assert sorted(r.number for r in results) == list(range(1, 9))
    assert all(r.together for r in results)  # the server saw all eight in flight at once, on the one loop


def test_nested_call_from_the_private_loop_raises_at_once(client):
    async def nested():
        return client.run(SLOW, {"seconds": 0}, validate=False)

    future = LOOP.submit(nested())
    with pytest.raises(RuntimeError, match="own event loop"):
        future.result(timeout=1)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_interrupts_promptly_and_closes_the_request(client, slow_server):
    fired: list[float] = []

    def interrupt_once_started():
        slow_server.wait_for("START")
        fired.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)

    killer = threading.Thread(target=interrupt_once_started)
    killer.start()
    with pytest.raises(KeyboardInterrupt):
        client.run(SLOW, {"seconds": 8}, validate=False)
    elapsed = time.monotonic() - fired[0]
    killer.join()
    assert elapsed < 3, f"interrupt took {elapsed:.2f} s"  # not the 8 s of the request
    slow_server.wait_for("DISCONNECTED", timeout=5)
    assert client.run(SLOW, {"seconds": 0}, validate=False).number == 2  # the client still works


def test_runner_timeout_cancels_the_request(client, slow_server):
    with pytest.raises(TimeoutError):
        LOOP.run(client._async.run(SLOW, {"seconds": 8}, validate=False), timeout=0.5)
    slow_server.wait_for("DISCONNECTED", timeout=5)


def test_exception_type_and_coroutine_frame_survive(client):
    with pytest.raises(errors.EndpointNotFoundError) as info:
        client.run("test/missing", {}, validate=False)
    frames = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
    assert "send" in frames  # the async core's frame (Wire.send) is in the traceback
    assert "test/missing" in str(info.value)


def test_contextvars_flow_into_callbacks(client, slow_server):
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    seen = []

    async def read_var():
        seen.append(var.get())

    LOOP.run(read_var())
    assert seen == ["caller"]


def test_closed_client_says_so(slow_server):
    client = Client(base_url=slow_server.url, history=False)
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.run(SLOW, {"seconds": 0}, validate=False)


def test_async_client_survives_a_second_asyncio_run(slow_server):
    client = AsyncClient(base_url=slow_server.url, history=False)

    async def call():
        return await client.run(SLOW, {"seconds": 0}, validate=False)

    assert asyncio.run(call()).number == 1
    assert asyncio.run(call()).number == 2  # fal-client fails here with "Event loop is closed"


def _child_call(url: str, queue: multiprocessing.Queue) -> None:
    try:
        with Client(base_url=url, history=False) as client:
            queue.put(client.run(SLOW, {"seconds": 0}, validate=False).number)
    except BaseException as exc:  # report anything to the parent
        queue.put(repr(exc))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_loop(client, slow_server):
    client.run(SLOW, {"seconds": 0}, validate=False)  # the parent's loop thread is running
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
        child = context.Process(target=_child_call, args=(slow_server.url, queue))
        child.start()
    child.join(20)
    assert queue.get(timeout=5) == 2
    assert client.run(SLOW, {"seconds": 0}, validate=False).number == 3
