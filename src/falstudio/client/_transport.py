"""The loop's HTTP transport: httpx's own, with its connections on asyncio's sockets directly and a pool that
assigns requests in linear time.

httpx on asyncio goes through anyio, whose cancel scopes, checkpoints and stream attributes cost more than the
HTTP itself. httpcore 1.0's pool also rescans every connection once per idle connection each time a request
comes or goes (O(n²) per request), and counts *all* its connections against the idle limit, closing idle ones it
could keep (encode/httpcore#1000, #1035). ``bench/transport.py`` prints the CPU per request of both, side by
side: for 32 requests at once, 1.2 ms through httpx's default transport and 0.7 ms through this one. The bytes on
the wire are httpx's and h11's either way; only how they reach the socket changes.
"""

from __future__ import annotations

import asyncio
import select
import ssl
import time
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

import httpcore
import httpx

__all__ = ["AsyncioBackend", "loop_transport"]

T = TypeVar("T")
# A connection that received data this recently is not polled before reuse: the loop reads whatever arrives (the
# server's close included), so a poll could only see what came since the loop last looked, and a server closes a
# kept-alive connection seconds after its last reply, not within half a second.
QUIET_SECONDS = 0.5
SWEEP_SECONDS = 1.0  # how often the pool checks every connection for expiry (each is checked before it is used)
_HIGH_WATER = 256 * 1024  # bytes buffered before the socket is no longer read (httpcore reads 64 KiB at a time)


def loop_transport(*, verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's transport with ``verify`` and ``limits``, its pool on :class:`AsyncioBackend` (httpx's own pool where
    its layout is not the one this was written for)."""
    transport = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    stock = getattr(transport, "_pool", None)
    if type(stock) is httpcore.AsyncConnectionPool:
        pool = _LinearPool if _LINEAR else httpcore.AsyncConnectionPool
        transport._pool = pool(  # noqa: SLF001 - httpx builds its pool in __init__ with no backend argument
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )
    return transport


class _Protocol(asyncio.Protocol):
    """What a connection received and has not been read yet, and whether its writes must wait."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.eof = False
        self.error: BaseException | None = None
        self.received_at = time.monotonic()
        self._reading: asyncio.Future[None] | None = None
        self._draining: asyncio.Future[None] | None = None
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self.received_at = time.monotonic()
        if len(self.buffer) > _HIGH_WATER and self.transport is not None and not self._paused:
            self._paused = True
            self.transport.pause_reading()
        self._wake_reader()

    def eof_received(self) -> bool:
        self.eof = True
        self._wake_reader()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.error = exc
        self._wake_reader()
        draining, self._draining = self._draining, None
        if draining is not None and not draining.done():
            draining.set_result(None)

    def pause_writing(self) -> None:
        self._draining = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        draining, self._draining = self._draining, None
        if draining is not None and not draining.done():
            draining.set_result(None)

    async def read(self, max_bytes: int) -> bytes:
        while not self.buffer and not self.eof:
            self._reading = asyncio.get_running_loop().create_future()
            try:
                await self._reading
            finally:
                self._reading = None
        if not self.buffer:
            if self.error is not None:
                raise httpcore.ReadError(str(self.error) or type(self.error).__name__)
            return b""
        data = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        if self._paused and len(self.buffer) <= _HIGH_WATER // 4 and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        return data

    @property
    def must_drain(self) -> bool:
        """Whether a writer must wait: the transport's buffer is full, or the connection is gone."""
        return self._draining is not None or self.error is not None or self.eof

    async def drain(self) -> None:
        if self._draining is not None:
            await asyncio.shield(self._draining)
        if self.error is not None or (self.transport is not None and self.transport.is_closing()):
            raise OSError("the connection was closed")

    def _wake_reader(self) -> None:
        if self._reading is not None and not self._reading.done():
            self._reading.set_result(None)


async def _within(
    work: Awaitable[T],
    timeout: float | None,
    timed_out: type[httpcore.TimeoutException],
    failed: type[httpcore.NetworkError],
) -> T:
    """``await work`` for ``timeout`` seconds (None: no limit); a timeout or an OSError becomes httpcore's."""
    try:
        if timeout is None:
            return await work
        async with asyncio.timeout(timeout):
            return await work
    except TimeoutError as exc:  # asyncio.timeout's, and the socket's own
        raise timed_out(str(exc) or "timed out") from exc
    except OSError as exc:  # ssl.SSLError included
        raise failed(str(exc) or type(exc).__name__) from exc


def _readable(sock: Any) -> bool:
    """Whether a socket has something to read (or is closed), without reading it."""
    fileno = sock.fileno()
    if fileno < 0:
        return True
    if hasattr(select, "poll"):
        poll = select.poll()
        poll.register(fileno, select.POLLIN)
        return bool(poll.poll(0))
    return bool(select.select([fileno], [], [], 0)[0])


class _Stream(httpcore.AsyncNetworkStream):
    def __init__(self, protocol: _Protocol) -> None:
        self._protocol = protocol

    def with_options(self, socket_options: Iterable[Any] | None) -> _Stream:
        sock = self._transport.get_extra_info("socket")
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
        except BaseException:
            self._transport.abort()
            raise
        return self

    @property
    def _transport(self) -> asyncio.Transport:
        transport = self._protocol.transport
        assert transport is not None
        return transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        protocol = self._protocol
        if protocol.buffer or protocol.eof:  # nothing to wait for: no timer
            return await protocol.read(max_bytes)
        return await _within(protocol.read(max_bytes), timeout, httpcore.ReadTimeout, httpcore.ReadError)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        if self._protocol.error is not None or self._transport.is_closing():
            raise httpcore.WriteError("the connection was closed")
        self._transport.write(buffer)
        if self._protocol.must_drain:
            await _within(self._protocol.drain(), timeout, httpcore.WriteTimeout, httpcore.WriteError)

    async def aclose(self) -> None:
        transport = self._transport
        transport.close()
        if transport.get_write_buffer_size():  # given up mid-write (a timeout, a cancel): never sent on, nor kept
            transport.abort()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        handshake = asyncio.get_running_loop().start_tls(
            self._transport, self._protocol, ssl_context, server_hostname=server_hostname
        )
        secure = await _within(handshake, timeout, httpcore.ConnectTimeout, httpcore.ConnectError)
        if secure is None:  # the connection closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        self._protocol.transport = secure
        return self

    def get_extra_info(self, info: str) -> Any:
        transport = self._transport
        if info == "ssl_object":
            return transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return transport.get_extra_info("sockname")
        if info == "server_addr":
            return transport.get_extra_info("peername")
        if info == "socket":
            return transport.get_extra_info("socket")
        if info == "is_readable":  # an idle connection with something to read: the server is closing it
            protocol = self._protocol
            if protocol.buffer or protocol.eof or transport.is_closing():
                return True
            if time.monotonic() - protocol.received_at < QUIET_SECONDS:
                return False  # the loop reads as data comes: what arrived before its last look is in the buffer
            sock = transport.get_extra_info("socket")
            return sock is not None and _readable(sock)
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network interface on asyncio's transports (TCP_NODELAY, as asyncio sets it; happy eyeballs)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        connecting = asyncio.get_running_loop().create_connection(
            _Protocol,
            host,
            port,
            local_addr=(local_address, 0) if local_address else None,
            happy_eyeballs_delay=0.25,  # as anyio connects
        )
        _, protocol = await _within(connecting, timeout, httpcore.ConnectTimeout, httpcore.ConnectError)
        return _Stream(protocol).with_options(socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        connecting = asyncio.get_running_loop().create_unix_connection(_Protocol, path)
        _, protocol = await _within(connecting, timeout, httpcore.ConnectTimeout, httpcore.ConnectError)
        return _Stream(protocol).with_options(socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


_LINEAR = httpcore.__version__.startswith("1.0.")  # the pool internals _LinearPool was written against


class _LinearPool(httpcore.AsyncConnectionPool):
    """httpcore 1.0's pool, its request assignment one pass over the connections (per queued request) and its idle
    limit counting idle connections only.

    A connection is checked for expiry (its keep-alive time, or its server closing it: a poll of its socket) when
    it is about to be used, and every connection at most once a second, not each one on every request.
    """

    _swept_at = 0.0

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        kept: list[httpcore.AsyncConnectionInterface] = []
        idle = 0
        now = time.monotonic()
        sweep = now - self._swept_at >= SWEEP_SECONDS
        if sweep:
            self._swept_at = now
        for connection in self._connections:  # one pass: closed ones dropped, expired ones closed, idle ones counted
            if connection.is_closed():
                continue
            if sweep and connection.has_expired():
                closing.append(connection)
                continue
            kept.append(connection)
            idle += connection.is_idle()
        extra = idle - self._max_keepalive_connections
        if extra > 0:  # the oldest idle ones go first
            surplus = [connection for connection in kept if connection.is_idle()][:extra]
            closing.extend(surplus)
            dropped = set(map(id, surplus))
            kept = [connection for connection in kept if id(connection) not in dropped]
        self._connections = kept
        taken: set[int] = set()  # an HTTP/1.1 connection (this pool has no HTTP/2) takes one request per pass
        for pool_request in self._requests:
            if pool_request.is_queued():
                available = self._available(pool_request.request.url.origin, closing, taken)
                if available is not None:
                    pool_request.assign_to_connection(available)
                    taken.add(id(available))
        return closing

    def _available(
        self, origin: httpcore.Origin, closing: list[httpcore.AsyncConnectionInterface], taken: set[int]
    ) -> httpcore.AsyncConnectionInterface | None:
        """A connection for a request to ``origin``: an unexpired one that can take it, else a new one (an idle
        one closed to make room if need be); None while the pool is full."""
        kept = self._connections
        expired = []
        found = None
        for connection in kept:
            if id(connection) in taken or not (connection.can_handle_request(origin) and connection.is_available()):
                continue
            if not connection.has_expired():
                found = connection
                break
            expired.append(connection)
        for connection in expired:
            kept.remove(connection)
            closing.append(connection)
        if found is not None:
            return found
        if len(kept) >= self._max_connections:
            spare = next((c for c in kept if c.is_idle() and id(c) not in taken), None)
            if spare is None:
                return None  # stays queued until a connection is free
            kept.remove(spare)
            closing.append(spare)
        connection = self.create_connection(origin)
        kept.append(connection)
        return connection
