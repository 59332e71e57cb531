"""The history's writer threads: a caller that stops waiting for a write (its task cancelled, which cancels the
future through ``asyncio.wrap_future``) neither drops the write nor kills the thread."""

from __future__ import annotations

import asyncio
import threading

from falstudio.client.recorder import Writer


def test_a_cancelled_wait_for_a_write_neither_drops_it_nor_stops_the_writer() -> None:
    writer = Writer("falstudio-test-writer")
    gate = threading.Event()
    done: list[str] = []
    writer.submit(gate.wait, "one-request")

    async def wait_then_give_up() -> None:
        waiting = asyncio.ensure_future(
            asyncio.wrap_future(writer.submit(lambda: done.append("second"), "one-request"))
        )
        await asyncio.sleep(0)
        waiting.cancel()  # what an interrupted send does

    asyncio.run(wait_then_give_up())
    gate.set()
    assert writer.flush(10)
    writer.submit(lambda: done.append("third"), "one-request").result(10)
    assert done == ["second", "third"]
