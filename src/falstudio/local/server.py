"""``LocalServer``: the app served by uvicorn on a background thread; and the process-wide embedded one."""

from __future__ import annotations

import asyncio
import atexit
import ipaddress
import logging
import socket
import threading
import time
import weakref
from collections.abc import Sequence
from types import TracebackType
from typing import Any

import uvicorn

from ._backend import Settings
from .app import create_app
from .faults import Faults

logger = logging.getLogger("falstudio.local")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


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
            stream_dialect=stream_dialect,
        )
        self._settings: Settings = self.app.state.settings
        self._server: uvicorn.Server | None = None
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
            )
            server = uvicorn.Server(config)
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
        self.http_protocol_class = _without_access_log(self.http_protocol_class)


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
    """The process-wide server (latency 1, two workers, random key): started on first call, stopped at exit."""
    global _embedded
    with _embedded_lock:
        if _embedded is None or not _embedded.running:
            first = _embedded is None
            _embedded = LocalServer(latency=1.0, concurrency=2).start()
            if first:
                atexit.register(_stop_embedded)
            logger.info("started the embedded offline server at %s", _embedded.url)
        return _embedded


def find_server(url: str) -> LocalServer | None:
    """The running server of this process at ``url`` (e.g. a history record's ``base_url``), if any."""
    url = url.rstrip("/")
    return next((server for server in list(_running) if server.running and server.url == url), None)


def _stop_embedded() -> None:
    with _embedded_lock:
        if _embedded is not None:
            _embedded.stop()
