"""Client: the AsyncClient's verbs for blocking code, each one run on falstudio's private event loop.

Callbacks (``on_enqueue``, ``on_queue_update``, ``on_update``) run on that loop's thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec

import httpx

from ._async import AsyncClient
from ._credentials import Mode
from ._handles import AsyncRequestHandle, SyncRequestHandle
from ._loop import LOOP, blocking
from ._retry import RetryPolicy
from .recorder import Recorder

P = ParamSpec("P")


def _handle_returning(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, AsyncRequestHandle]],
) -> Callable[Concatenate[Client, P], SyncRequestHandle]:
    @functools.wraps(method)
    def call(self: Client, *args: P.args, **kwargs: P.kwargs) -> SyncRequestHandle:
        return SyncRequestHandle(self._runner.run(method(self._async, *args, **kwargs)), self._runner)

    return call


class Client:
    """Talks to fal.ai (or a fal-compatible ``base_url``) from scripts, notebooks and threads.

    Same arguments and verbs as :class:`AsyncClient`, blocking. Safe to share between threads;
    interrupting a call (Ctrl-C, kernel interrupt) closes its HTTP request, and for ``subscribe`` also
    cancels the request on the server.
    """

    def __init__(
        self,
        key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 120.0,
        history: bool | Recorder | None = True,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._runner = LOOP
        self._async = AsyncClient(
            key, base_url=base_url, timeout=timeout, history=history, retry=retry, transport=transport
        )
        self._async._runner = self._runner
        self._async._prepare_http()  # build the httpx client (slow: TLS context) here rather than on the loop
        self._runner.close_at_exit(self._async)

    @property
    def mode(self) -> Mode:
        return self._async.mode

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def timeout(self) -> float:
        return self._async.timeout

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)

    submit = _handle_returning(AsyncClient.submit)
    subscribe = blocking(AsyncClient.subscribe)
    status = blocking(AsyncClient.status)
    result = blocking(AsyncClient.result)
    cancel = blocking(AsyncClient.cancel)
    run = blocking(AsyncClient.run)
    upload = blocking(AsyncClient.upload)
    upload_file = blocking(AsyncClient.upload_file)
    upload_image = blocking(AsyncClient.upload_image)

    def get_handle(self, endpoint: str, request_id: str) -> SyncRequestHandle:
        """A handle for a request submitted earlier (maybe by another process)."""
        return SyncRequestHandle(self._async.get_handle(endpoint, request_id), self._runner)

    def close(self) -> None:
        self._runner.run(self._async.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
