"""Who is told about a tracked request's states, and how often: callbacks on the loop, throttled on request.

A throttled callback gets the newest state at most ``max_hz`` times a second (states in between are skipped,
never reordered) and the final state at once; a heartbeat repeats the latest state while nothing changes.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._state import State


class _Subscription:
    def __init__(
        self, callback: Callable[[State], object], max_hz: float | None, heartbeat: float | None, owner: Subscriptions
    ) -> None:
        if max_hz is not None and max_hz <= 0:
            raise ValueError(f"max_hz must be positive, got {max_hz}")
        self.callback = callback
        self.interval = None if max_hz is None else 1.0 / max_hz
        self.heartbeat = heartbeat
        self.owner = owner
        self.latest: State | None = None
        self.last_call = float("-inf")
        self.timer: asyncio.TimerHandle | None = None
        self.beat: asyncio.TimerHandle | None = None
        self.active = True

    def push(self, state: State) -> None:
        if not self.active:
            return
        self.latest = state
        loop = asyncio.get_running_loop()
        if state.done or self.interval is None:
            self._cancel_timer()
            self._deliver(state)
        elif self.timer is None:
            due = self.last_call + self.interval
            if loop.time() >= due:
                self._deliver(state)
            else:
                self.timer = loop.call_at(due, self._flush)
        if state.done:
            self.stop()
        elif self.heartbeat is not None and self.beat is None:
            self.beat = loop.call_later(self.heartbeat, self._tick)

    def _flush(self) -> None:
        self.timer = None
        if self.active and self.latest is not None:
            self._deliver(self.latest)

    def _tick(self) -> None:
        self.beat = None
        latest = self.latest
        if not self.active or latest is None or latest.done or self.heartbeat is None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() - self.last_call >= self.heartbeat * 0.9 and self.timer is None:
            self._deliver(latest)
        self.beat = loop.call_later(self.heartbeat, self._tick)

    def _deliver(self, state: State) -> None:
        self.last_call = asyncio.get_running_loop().time()
        try:
            self.callback(state)
        except Exception as exc:  # a display callback must not break the request it watches
            warnings.warn(
                f"falstudio: a state callback failed: {type(exc).__name__}: {exc}", RuntimeWarning, stacklevel=2
            )

    def _cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def stop(self) -> None:
        self.active = False
        self._cancel_timer()
        if self.beat is not None:
            self.beat.cancel()
            self.beat = None
        self.owner.discard(self)


class Subscriptions:
    """The callbacks of one tracked request (loop thread only)."""

    def __init__(self) -> None:
        self._subscriptions: list[_Subscription] = []

    def add(
        self,
        callback: Callable[[State], object],
        current: State,
        *,
        max_hz: float | None = None,
        heartbeat: float | None = None,
    ) -> Callable[[], None]:
        """Subscribe ``callback``, telling it ``current`` at once; returns the unsubscribe function."""
        subscription = _Subscription(callback, max_hz, heartbeat, self)
        self._subscriptions.append(subscription)
        subscription.push(current)
        return subscription.stop

    def publish(self, state: State) -> None:
        for subscription in list(self._subscriptions):
            subscription.push(state)

    def discard(self, subscription: _Subscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
