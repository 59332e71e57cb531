"""The HTTP side of one client: where it talks (target), with which httpx client, retries and typed errors.

Handles, uploads, streams and tracked requests of a client share its ``Wire``; nothing else touches httpx.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from .._internal.capped import Cap, with_body
from .._internal.images import decode_data_uri, is_data_uri
from .._internal.tls import default_context
from .._internal.version import VERSION
from . import errors
from ._credentials import KeyAuth, Mode, Target
from ._download_cap import download_cap
from ._protocol import BackupHostTransport, has_backup_hosts
from ._retry import RetryPolicy, send_with_retry, should_retry_response
from ._transport import loop_transport

if TYPE_CHECKING:
    from ._loop import LoopThread


class Wire:
    """One client's connections: an ``httpx.AsyncClient`` per event loop (and process), sending with retries.

    ``timeout``: seconds to connect and to wait for each reply (None: no limit). On fal.ai, a failure to connect
    is tried once more on fal's backup host (as fal-client does).
    """

    def __init__(
        self, target: Target, *, timeout: float | None, retry: RetryPolicy, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.retry = retry
        self.closed = False
        self.runner: LoopThread | None = None  # set when a blocking Client drives this wire on its loop thread
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._owner: tuple[int, asyncio.AbstractEventLoop | None] | None = None
        self._blocking_client: tuple[int, httpx.Client] | None = None  # (process id, client) for download()
        self._blocking_lock = threading.Lock()

    @property
    def mode(self) -> Mode:
        return self.target.mode

    @property
    def transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport this wire was given (tests), for other calls on the same connection setup."""
        return self._transport

    def _new_client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        tls = default_context()  # certificates load on the first https connection (none to the loopback server)
        transport = self._transport or loop_transport(verify=tls, limits=limits)
        if has_backup_hosts(self.target.hosts):  # fal.ai: fall back to fal's backup domains, as fal-client does
            transport = BackupHostTransport(httpx.AsyncClient(transport=transport, limits=limits, verify=tls))
        return httpx.AsyncClient(verify=tls, limits=limits, transport=transport, **self._settings())

    def _settings(self) -> dict[str, Any]:
        key = self.target.key
        return {
            "auth": KeyAuth(key, self.target.hosts) if key else None,
            "timeout": httpx.Timeout(self.timeout),
            "headers": {"User-Agent": f"falstudio/{VERSION}"},
            "follow_redirects": True,
        }

    def prepare(self) -> None:
        """Build the httpx client now, unbound to any loop (its first use binds it)."""
        if self._client is None:
            self._client = self._new_client()

    def http(self) -> httpx.AsyncClient:
        """The httpx client for the running loop (a new one after a loop change or a fork)."""
        if self.closed:
            raise RuntimeError(
                "this falstudio client is closed (close() was called or its with-block ended); create a new one"
            )
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        owner = self._owner
        if self._client is None or (owner is not None and loop is not None and owner != (os.getpid(), loop)):
            self._client = self._new_client()  # pooled connections are bound to their loop
            self._owner = None
        if loop is not None and self._owner is None:
            self._owner = (os.getpid(), loop)
        return self._client

    async def send(
        self,
        method: str,
        url: str,
        *,
        endpoint: str | None,
        request_id: str | None = None,
        idempotent: bool = True,
        endpoint_note: str | None = None,
        error_type: str | None = None,
        stream: bool = False,
        cap: Cap | None = None,
        error: Callable[[httpx.Response, int], errors.FalError] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call with retries; non-2xx replies become typed errors, transport failures NetworkError.

        ``stream=True`` returns with the headers read and the body still open (close it with ``aclose()``).
        ``cap``: the body is read within each attempt (a failure reading it is retried like one sending), refused
        once it passes the cap. ``error``: the error for a non-2xx reply (given the reply, without the key, and
        the attempts), for a service other than fal's queue and run hosts (fal's Platform API).
        A call that creates a job (not ``idempotent``, with an ``endpoint``) says in its error that the job may
        exist when the reply was lost.
        """
        http = self.http()
        given = kwargs.get("timeout")
        waited = given.read if isinstance(given, httpx.Timeout) else self.timeout
        attempts = 0

        async def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            request = http.build_request(method, url, **kwargs)
            if cap is None:
                return await http.send(request, stream=stream)
            response = await http.send(request, stream=True)
            try:
                body = await cap.aread(response)
            finally:
                await response.aclose()
            return with_body(response, body)

        may_have_run = not idempotent and endpoint is not None  # submit, run, stream: a lost reply may be a job
        try:
            response = await send_with_retry(attempt, self.retry, idempotent=idempotent)
        except httpx.TransportError as exc:
            raise errors.network_error(
                exc,
                url,
                timeout=waited,
                endpoint=endpoint,
                request_id=request_id,
                attempts=attempts,
                may_have_run=may_have_run,
            ) from exc
        if response.is_error:
            if stream:
                await response.aread()
                await response.aclose()
            if error is not None:
                raise error(self._without_key(response), attempts)
            raise errors.from_response(
                self._without_key(response),
                endpoint=endpoint,
                request_id=request_id,
                endpoint_note=endpoint_note,
                error_type=error_type,
                attempts=attempts,
                may_have_run=may_have_run,
            )
        return response

    def _without_key(self, response: httpx.Response) -> httpx.Response:
        """An error reply with this client's key (whole, or its id or secret) taken out of its body: a server that
        echoes it must not put it in an error's text, a traceback or a saved notebook."""
        key = self.target.key
        if key is None:
            return response
        body = response.content
        secret = key.reveal()
        parts = sorted({secret, *secret.split(":")}, key=len, reverse=True)
        found = [part.encode() for part in parts if len(part) >= 6 and part.encode() in body]
        if not found:
            return response
        for part in found:
            body = body.replace(part, b"***")
        return with_body(response, body)

    async def adownload(self, url: str) -> bytes:
        if is_data_uri(url):
            return decode_data_uri(url)[0]
        return (await self.send("GET", url, endpoint=None, cap=download_cap(url))).content

    def download(self, url: str) -> bytes:
        """Blocking download. Off the loop thread, on this wire's own blocking connections (an image fetched for
        the history or a view never waits behind the loop's requests, nor they behind it); should that fail in a
        way worth trying again, on the blocking client's loop, with its retries (no such loop: once more, on a
        short-lived connection). On the loop thread itself (or closed), a short-lived connection, which blocks
        that loop meanwhile."""
        if is_data_uri(url):
            return decode_data_uri(url)[0]
        runner = self.runner
        if not self.closed and not (runner is not None and runner.in_loop_thread()):
            data = self._fetch(url)
            if data is not None:
                return data
            if runner is not None:
                return runner.run(self.adownload(url))
        from .results import plain_download

        key = self.target.key
        return plain_download(url, auth=KeyAuth(key, self.target.hosts) if key else None, timeout=self.timeout)

    def _fetch(self, url: str) -> bytes | None:
        """One GET on the blocking connections; None when it is better tried the loop's way (a transport given
        for tests, a transport failure, a reply worth retrying)."""
        if self._transport is not None:
            return None
        try:
            # Streamed, so the reply never keeps the bytes: a reply sits in a reference cycle until Python's cycle
            # collector runs, and an image held there stayed in memory after it was stored (~1 MB in a sweep).
            with self._blocking().stream("GET", url) as response:
                if not response.is_error:
                    return download_cap(url).read(response)
                response.read()
        except httpx.TransportError:
            return None
        if should_retry_response(response):
            return None
        raise errors.from_response(self._without_key(response), endpoint=None)

    def _blocking(self) -> httpx.Client:
        """The blocking httpx client of this process (threads share its few connections)."""
        with self._blocking_lock:
            owned = self._blocking_client
            if owned is None or owned[0] != os.getpid():
                client = httpx.Client(
                    verify=default_context(), limits=httpx.Limits(max_connections=4), **self._settings()
                )
                owned = self._blocking_client = (os.getpid(), client)
            return owned[1]

    async def aclose(self) -> None:
        self.closed = True
        client, self._client = self._client, None
        with self._blocking_lock:
            blocking, self._blocking_client = self._blocking_client, None
        if blocking is not None and blocking[0] == os.getpid():
            blocking[1].close()
        if client is not None:
            await client.aclose()
