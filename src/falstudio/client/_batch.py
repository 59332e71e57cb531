"""Many tracked requests at once, at most ``concurrency`` in flight, each ending on its own.

The first wave (as many requests as run at once) is submitted before any of them follows its status: every
submit then reaches the server sooner, and the server's clock starts at the submit.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ._state import State
from ._tracking import AsyncTrackedRequest

FIRST_WAVE_WAIT = 2.0  # seconds a submitted request of the first wave waits for the rest before following
BatchCallback = Callable[[int, State], object]
Track = Callable[..., AsyncTrackedRequest]  # starts one request: ``track(endpoint, arguments, **options)``


class AsyncBatch:
    """Runs ``items`` (``(endpoint, arguments)`` pairs) through ``track`` (a client's :meth:`AsyncClient.track`);
    ``states[i]`` is None until item ``i`` starts."""

    def __init__(
        self,
        track: Track,
        items: Sequence[tuple[str, Any]],
        *,
        concurrency: int = 4,
        stream: bool | None = None,
        with_logs: bool = True,
        validate: bool = True,
        on_change: BatchCallback | None = None,
        max_hz: float | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._track = track
        self.items = list(items)
        self.concurrency = concurrency
        self.requests: list[AsyncTrackedRequest | None] = [None] * len(self.items)
        self.states: list[State | None] = [None] * len(self.items)
        self.finished = threading.Event()
        self._stream = stream
        self._with_logs = with_logs
        self._validate = validate
        self._on_change = on_change
        self._max_hz = max_hz
        self._next = 0
        self._cancelled = False
        self._gate = asyncio.Event()
        self._ended = asyncio.Event()
        self._first_wave = min(concurrency, len(self.items))
        self._settled: set[int] = set()
        if not self.items:
            self.finished.set()
            self._ended.set()

    @property
    def done(self) -> bool:
        return self.finished.is_set()

    def start(self) -> None:
        """Start the first wave (on the running loop)."""
        loop = asyncio.get_running_loop()
        loop.call_later(FIRST_WAVE_WAIT, self._gate.set)
        while self._next < self._first_wave and not self._cancelled:
            self._start_next(gated=True)

    def cancel(self) -> None:
        """Items not started never start; started ones are cancelled (on the loop)."""
        self._cancelled = True
        for index in range(self._next, len(self.items)):
            endpoint = self.items[index][0]
            self._changed(index, State.never_sent(endpoint, "not started"))
        self._next = len(self.items)
        for request in self.requests:
            if request is not None and not request.state.done:
                asyncio.get_running_loop().create_task(request.cancel())

    async def wait(self) -> None:
        await self._ended.wait()

    def _start_next(self, *, gated: bool = False) -> None:
        index = self._next
        self._next += 1
        endpoint, arguments = self.items[index]
        request = self._track(
            endpoint,
            arguments,
            stream=self._stream,
            with_logs=self._with_logs,
            validate=self._validate,
            gate=self._gate if gated else None,
        )
        self.requests[index] = request
        if self._on_change is not None:
            callback = self._on_change
            request.on_change(lambda state: callback(index, state), max_hz=self._max_hz)
        request.on_change(lambda state: self._changed(index, state, tell=False))

    def _changed(self, index: int, state: State, *, tell: bool = True) -> None:
        self.states[index] = state
        if index < self._first_wave and index not in self._settled and (state.request_id or state.done):
            self._settled.add(index)
            if len(self._settled) == self._first_wave:
                self._gate.set()
        if tell and self._on_change is not None:
            self._on_change(index, state)
        if state.done:
            if self._next < len(self.items) and not self._cancelled:
                self._start_next()
            if all(s is not None and s.done for s in self.states):
                self.finished.set()
                self._ended.set()
