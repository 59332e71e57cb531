"""``LocalServer``: the app served by uvicorn on a background thread; and the process-wide embedded one."""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import logging
import os
import socket
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import uvicorn

from ._backend import Settings
from ._guard import RepeatFilter, guarded, loop_exception_handler, max_connections
from .app import create_app
from .faults import Faults

logger = logging.getLogger("falstudio.local")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
LATENCY_ENV = "FALSTUDIO_LOCAL_LATENCY"  # the embedded server's latency (tests run it at 0)


class LocalServer:
    """A fal-compatible server with offline engines, on a background thread.

    ``with LocalServer(port=0, latency=0) as server:`` gives ``server.url`` and ``server.key``. Binds
    127.0.0.1 unless told otherwise; every API call needs ``Authorization: Key <server.key>``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        key: str | None = None,
        latency: float = 1.0,
        concurrency: int = 2,
        faults: Faults | None = None,
        allow_remote_fetch: bool = False,
        max_upload_bytes: int = 50 * 1024 * 1024,
        storage_dir: str | None = None,
        allowed_hosts: Sequence[str] = (),
        retention_seconds: float = 24 * 3600,
        max_storage_bytes: int = 1024**3,
        max_jobs: int = 1000,
        typed_cancellation: bool = True,
        webhook_time_scale: float = 1.0,
        stream_dialect: str = "fal",
    ) -> None:
        """See :class:`~falstudio.local._backend.Settings` for what each option does."""
        self.host = host
        self._requested_port = port
        self.app = create_app(
            key=key,
            host=host,
            latency=latency,
            concurrency=concurrency,
            faults=faults if faults is not None else Faults(),
            allow_remote_fetch=allow_remote_fetch,
            max_upload_bytes=max_upload_bytes,
            storage_dir=storage_dir,
            allowed_hosts=tuple(allowed_hosts),
            retention_seconds=retention_seconds,
            max_storage_bytes=max_storage_bytes,
            max_jobs=max_jobs,
            typed_cancellation=typed_cancellation,
            webhook_time_scale=webhook_time_scale,
            stream_dialect=stream_dialect,
        )
        self._settings: Settings = self.app.state.settings
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None
        self._lock = threading.Lock()

    # --- settings ---

    @property
    def key(self) -> str:
        return self._settings.key

    @property
    def latency(self) -> float:
        return self._settings.latency

    @latency.setter
    def latency(self, value: float) -> None:
        if value < 0:
            raise ValueError(f"latency is a multiplier >= 0 (0 = instant), got {value!r}")
        self._settings.latency = float(value)

    @property
    def faults(self) -> Faults:
        return self._settings.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._settings.faults = value

    @property
    def concurrency(self) -> int:
        return self._settings.concurrency

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash); a wildcard bind is reported as loopback."""
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        try:
            if ipaddress.ip_address(host).version == 6:
                host = f"[{host}]"
        except ValueError:
            pass
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server is not None

    # --- lifecycle ---

    def start(self) -> LocalServer:
        """Bind, serve on a daemon thread, and return once it accepts connections."""
        with self._lock:
            if self.running:
                return self
            sock = _bind(self.host, self._requested_port)
            self._port = sock.getsockname()[1]
            config = _QuietConfig(
                self.app,
                log_config=None,
                log_level=None,
                access_log=False,
                lifespan="on",
                timeout_graceful_shutdown=2,
                timeout_keep_alive=30,
                http="h11",  # the protocol the slow-client guard knows (httptools, if installed, is not)
                ws="none",  # no WebSocket routes: spares importing a WebSocket library (~0.1 s of a cold start)
            )
            server = _Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"falstudio-local-{self._port}"
            )
            self._server, self._thread = server, thread
            thread.start()
            deadline = time.monotonic() + START_TIMEOUT
            while not server.started:
                if not thread.is_alive() or time.monotonic() > deadline:
                    server.should_exit = True
                    sock.close()
                    self._server = self._thread = None
                    raise RuntimeError(f"the local server did not start on {self.host}:{self._port}")
                time.sleep(0.005)
            _running.add(self)
        return self

    def stop(self) -> None:
        """Stop serving: cancel unfinished jobs, close streams, remove temporary files. Idempotent."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
            _running.discard(self)
            if server is None or thread is None:
                return
            loop = getattr(self.app.state, "loop", None)
            if loop is not None and loop.is_running():
                try:
                    loop.call_soon_threadsafe(self.app.state.backend.begin_shutdown)
                except RuntimeError:  # the loop closed in the meantime
                    pass
            server.should_exit = True
            server.wake()
            thread.join(STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(STOP_TIMEOUT)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.url if self._port is not None and self.running else "stopped"
        return f"<LocalServer {where} latency={self.latency} concurrency={self.concurrency}>"


class _Server(uvicorn.Server):
    """uvicorn's server, stopped at once: :meth:`wake` ends its main loop (uvicorn looks every 0.1 s), and its
    shutdown waits for connections and tasks to end in 5 ms steps (uvicorn's: a fixed 0.1 s, then 0.1 s steps).
    Stopping went from ~0.2 s to a few ms; the test suite stops ~70 servers. Its loop logs asyncio's errors
    (accept failing for lack of descriptors...) as one line per kind and interval, and its own log says a repeated
    message once per interval."""

    _loop: asyncio.AbstractEventLoop | None = None
    _wake: asyncio.Event | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        asyncio.get_running_loop().set_exception_handler(loop_exception_handler)
        uvicorn_logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, RepeatFilter) for f in uvicorn_logger.filters):
            uvicorn_logger.addFilter(RepeatFilter())
        await super().serve(sockets)

    def wake(self) -> None:
        """Have the serving loop look at ``should_exit`` now (from any thread)."""
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:  # the loop has closed: it is stopped
                pass

    async def main_loop(self) -> None:
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):  # every 10th tick refreshes the Date header: keep it each second
            counter = (counter + 10) % 864000
            try:
                await asyncio.wait_for(self._wake.wait(), 1.0)
            except TimeoutError:
                pass

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """As uvicorn's (stop accepting, ask open connections to end, wait up to ``timeout_graceful_shutdown``,
        then cancel; the app's lifespan shutdown), without its pauses."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        state = self.server_state
        for connection in list(state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        limit = self.config.timeout_graceful_shutdown
        deadline = loop.time() + limit if limit is not None else float("inf")
        while (state.connections or state.tasks) and not self.force_exit and loop.time() < deadline:
            await asyncio.sleep(0.005)
        for task in state.tasks if not self.force_exit else ():
            task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


class _QuietConfig(uvicorn.Config):
    """uvicorn's settings without its logging setup. uvicorn's ``dictConfig`` closes every handler of the
    process (a user's log file stops) and replaces levels: instead the server's messages go to the
    ``uvicorn.*`` and ``falstudio.local`` loggers, wherever the application sends them. Only uvicorn's own
    logger, when nobody has set its level, is kept to warnings (its start-up lines would be noise)."""

    def configure_logging(self) -> None:
        uvicorn_logger = logging.getLogger("uvicorn.error")
        if uvicorn_logger.level == logging.NOTSET:
            uvicorn_logger.setLevel(logging.WARNING)

    def load(self) -> None:
        """As uvicorn's, with an HTTP protocol that never writes access lines (uvicorn decides that from the
        handlers its logger inherits, which are the user's once nothing configures uvicorn's own)."""
        super().load()
        self.http_protocol_class = guarded(_without_access_log(self.http_protocol_class), max_connections())


def _without_access_log(protocol: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    class Quiet(protocol):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.access_log = False

    return Quiet


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP, and without
    # it every response waits ~40 ms for a delayed ACK (headers and body go out as two writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


_running: weakref.WeakSet[LocalServer] = weakref.WeakSet()
_embedded: LocalServer | None = None
_embedded_lock = threading.Lock()


def embedded_server() -> LocalServer:
    """The process-wide server (two workers, random key): started on first call, stopped at exit. Its latency is
    1 (model-like times) unless ``$FALSTUDIO_LOCAL_LATENCY`` says otherwise (0: instant, as the test suite runs)."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            first = _embedded is None
            _embedded = LocalServer(latency=embedded_latency(), concurrency=2).start()
            if first:
                atexit.register(_stop_embedded)
            logger.info("started the embedded offline server at %s", _embedded.url)
        return _embedded


def embedded_latency(environ: Mapping[str, str] | None = None) -> float:
    """The embedded server's latency multiplier: ``$FALSTUDIO_LOCAL_LATENCY`` if set, else 1."""
    raw = (os.environ if environ is None else environ).get(LATENCY_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        latency = float(raw)
    except ValueError:
        latency = -1.0
    if not latency >= 0 or latency == float("inf"):
        raise ValueError(
            f"{LATENCY_ENV}={raw!r} is not a latency multiplier: set it to a number >= 0 (1 = model-like times, "
            "0 = instant) or unset it"
        )
    return latency


def find_server(url: str) -> LocalServer | None:
    """The running server of this process at ``url`` (e.g. a history record's ``base_url``), if any."""
    url = url.rstrip("/")
    return next((server for server in list(_running) if server.running and server.url == url), None)


def _stop_embedded() -> None:
    with _embedded_lock:
        if _embedded is not None:
            _embedded.stop()
