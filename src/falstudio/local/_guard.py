"""The local server under slow or surplus clients: bounded connections and request time, quiet logs.

uvicorn drops idle keep-alive connections but waits forever for a client that sends its request headers (or
body) a byte at a time, and accepts connections until the process runs out of file descriptors, after which
every accept logs a traceback. Here each connection gets :data:`HEADER_SECONDS` to send its headers and
:data:`BODY_SECONDS` for its body; past :func:`max_connections` the connection waiting longest for its
request is dropped to make room, so new clients are still answered. Each kind of trouble is logged as one
line per :data:`LOG_INTERVAL`, with a count of the ones not logged.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

HEADER_SECONDS = 10.0
BODY_SECONDS = 60.0
LOG_INTERVAL = 60.0
_CHECK_SECONDS = 1.0

logger = logging.getLogger("falstudio.local")


def max_connections() -> int:
    """Half the process's open-file limit (the rest is for files and the client side), between 16 and 1,000."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return 500
    if soft == resource.RLIM_INFINITY:
        return 1_000
    return max(16, min(1_000, soft // 2 - 16))


class TroubleLog:
    """One log line per kind of trouble per interval: the first at once, later ones counted into the next."""

    def __init__(self, log: logging.Logger, interval: float = LOG_INTERVAL) -> None:
        self.log, self.interval = log, interval
        self._seen: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def admit(self, kind: str) -> int | None:
        """None when ``kind`` was let through less than an interval ago (it is counted), else how many of it
        were held back since it last was."""
        now = time.monotonic()
        with self._lock:
            since, count = self._seen.get(kind, (-self.interval, 0))
            if now - since < self.interval:
                self._seen[kind] = (since, count + 1)
                return None
            self._seen[kind] = (now, 0)
        return count

    def note(self, kind: str, message: str) -> bool:
        """Log ``message`` unless ``kind`` was logged less than an interval ago; whether it was logged."""
        held = self.admit(kind)
        if held is None:
            return False
        self.log.warning(message + self.held_text(held))
        return True

    def held_text(self, held: int) -> str:
        return f" ({held} more like it in the previous {self.interval:g} s not logged)" if held else ""


TROUBLE = TroubleLog(logger)


def loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's errors (an accept failing for lack of file descriptors...) as rate-limited lines."""
    exc = context.get("exception")
    text = str(context.get("message") or "asyncio error")
    kind = f"{text}:{type(exc).__name__}"
    TROUBLE.note(kind, f"{text}: {type(exc).__name__}: {exc}" if exc else text)


class RepeatFilter(logging.Filter):
    """Lets through one record per message template and interval (uvicorn logs each bad request)."""

    def __init__(self, interval: float = LOG_INTERVAL) -> None:
        super().__init__()
        self._log = TroubleLog(logger, interval)

    def filter(self, record: logging.LogRecord) -> bool:
        held = self._log.admit(str(record.msg))
        if held is None:
            return False
        if held:
            record.msg = f"{record.msg}{self._log.held_text(held)}"
        return True


def guarded(protocol: type[asyncio.Protocol], limit: int) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with the time limits and the connection limit above."""

    class Guarded(protocol):  # type: ignore[valid-type, misc]
        guard_state: tuple[int, bool, bool] | None = None
        guard_since = 0.0

        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(transport)
            self.guard_since = self.loop.time()
            if len(self.connections) > limit:
                self._make_room()
            if not transport.is_closing():
                self.loop.call_later(_CHECK_SECONDS, self._guard_check)

        def _make_room(self) -> None:
            waiting = [c for c in self.connections if c is not self and _phase(c) in ("idle", "headers", "kept")]
            victim = min(waiting, key=lambda c: c.guard_since, default=self)
            victim.transport.close()
            TROUBLE.note(
                "connections",
                f"more than {limit} open connections: closed the one waiting longest for its request",
            )

        def _guard_check(self) -> None:
            if self.transport.is_closing():
                return
            now = self.loop.time()
            cycle = self.cycle
            state = (id(cycle), bool(cycle and cycle.response_complete), bool(cycle and cycle.more_body))
            if state != self.guard_state:
                self.guard_state, self.guard_since = state, now
            phase = _phase(self)
            allowed = {"idle": HEADER_SECONDS, "headers": HEADER_SECONDS, "body": BODY_SECONDS}.get(phase)
            if allowed is not None and now - self.guard_since > allowed:
                self.transport.close()
                what = "sent no request" if phase == "idle" else f"took longer to send its request {phase}"
                TROUBLE.note(phase, f"closed a connection from {_who(self)} that {what} within {allowed:g} s")
                return
            self.loop.call_later(_CHECK_SECONDS, self._guard_check)

    return Guarded


def _phase(connection: Any) -> str:
    """``idle`` before a first request, ``headers`` while a request's headers arrive, ``body`` while its body
    does, ``kept`` between requests (uvicorn's keep-alive timeout closes it), else ``working``."""
    cycle = connection.cycle
    if cycle is None or cycle.response_complete:
        buffered = connection.conn.trailing_data[0]
        if buffered:
            return "headers"
        return "idle" if cycle is None else "kept"
    if cycle.more_body and not cycle.response_started:
        return "body"
    return "working"


def _who(connection: Any) -> str:
    client = getattr(connection, "client", None)
    return f"{client[0]}:{client[1]}" if client else "a client"
