"""Client: the AsyncClient's verbs for blocking code, each one run on falstudio's private event loop.

Callbacks (``on_enqueue``, ``on_queue_update``, ``on_update``, ``on_change``) run on that loop's thread.
:class:`ClientLike` is what widgets, sweeps and the history need of a client.
"""

from __future__ import annotations

import concurrent.futures
import functools
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Protocol, TypeAlias, TypeVar

import httpx

from ._async import AsyncClient
from ._batch import BatchCallback
from ._budget import Budget
from ._credentials import Mode
from ._handles import AsyncRequestHandle, SyncRequestHandle
from ._loop import LOOP, LoopThread, blocking
from ._protocol import sealed
from ._retry import RetryPolicy
from ._state import State
from ._sync_tracking import Batch, TrackedRequest
from .recorder import Recorder

if TYPE_CHECKING:
    from falstudio.endpoints import RequestModel

P = ParamSpec("P")
T = TypeVar("T")
Arguments: TypeAlias = "Mapping[str, Any] | RequestModel"


def _handle_returning(
    method: Callable[Concatenate[AsyncClient, P], Coroutine[Any, Any, AsyncRequestHandle]],
) -> Callable[Concatenate[Client, P], SyncRequestHandle]:
    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> SyncRequestHandle:
        args, kwargs = _sealed_call(args, kwargs)  # type: ignore[assignment]
        return SyncRequestHandle(self._runner.run(method(self._async, *args, **kwargs)), self._runner)

    functools.update_wrapper(call, method)
    return call


def _sealing(method: Callable[Concatenate[Client, P], T]) -> Callable[Concatenate[Client, P], T]:
    """``method`` with plain arguments sealed on entry (see :func:`._protocol.sealed`)."""

    def call(self: Client, /, *args: P.args, **kwargs: P.kwargs) -> T:
        args, kwargs = _sealed_call(args, kwargs)  # type: ignore[assignment]
        return method(self, *args, **kwargs)

    functools.update_wrapper(call, method)
    return call


def _sealed_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    return tuple(sealed(a) for a in args), {k: sealed(v) for k, v in kwargs.items()}


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
        timeout: float | None = 120.0,
        history: bool | Recorder | None = True,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        budget: float | str | Decimal | None = None,
        budget_since: object = None,
        allow_unpriced: bool = False,
    ) -> None:
        self._runner: LoopThread = LOOP
        self._async = AsyncClient(
            key,
            base_url=base_url,
            timeout=timeout,
            history=history,
            retry=retry,
            transport=transport,
            budget=budget,
            budget_since=budget_since,
            allow_unpriced=allow_unpriced,
        )
        self._async.bind_loop_thread(self._runner)
        self._runner.close_at_exit(self._async)

    @property
    def mode(self) -> Mode:
        return self._async.mode

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def timeout(self) -> float | None:
        return self._async.timeout

    @property
    def budget(self) -> Budget | None:
        """The spending limit checked before each request (see :attr:`AsyncClient.budget`)."""
        return self._async.budget

    @property
    def spent(self) -> Decimal:
        """The estimates (USD) of this client's requests that succeeded."""
        return self._async.spent

    @property
    def recorder(self) -> Recorder | None:
        """Where this client records its requests (falstudio's history by default), or None (``history=False``)."""
        return self._async.recorder

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)

    submit = _handle_returning(AsyncClient.submit)
    subscribe = _sealing(blocking(AsyncClient.subscribe))
    status = blocking(AsyncClient.status)
    result = blocking(AsyncClient.result)
    cancel = blocking(AsyncClient.cancel)
    run = _sealing(blocking(AsyncClient.run))
    upload = blocking(AsyncClient.upload)
    upload_file = blocking(AsyncClient.upload_file)
    upload_image = blocking(AsyncClient.upload_image)

    def track(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        stream: bool | None = None,
        on_change: Callable[[State], object] | None = None,
        max_hz: float | None = None,
        validate: bool = True,
    ) -> TrackedRequest:
        """Start a request and follow it; returns at once (from any thread, the client's loop included).

        The returned :class:`TrackedRequest` has the newest ``state``, ``on_change(callback)``, a blocking
        ``result()`` and ``cancel()``. ``on_change`` given here sees every state from the first (on the loop,
        at most ``max_hz`` a second). ``stream`` and ``validate`` as in :meth:`AsyncClient.track`.
        """
        arguments = sealed(arguments)
        made: concurrent.futures.Future[TrackedRequest] = concurrent.futures.Future()

        def start() -> None:
            try:
                tracked = self._async.track(endpoint, arguments, stream=stream, validate=validate)
                if on_change is not None:  # before the request's task first runs: no state is missed
                    tracked.on_change(on_change, max_hz=max_hz)
                made.set_result(TrackedRequest(tracked, self._runner))
            except BaseException as exc:
                made.set_exception(exc)

        self._runner.call_soon(start)
        return made.result()

    def track_many(
        self,
        items: Sequence[tuple[str, Arguments]],
        *,
        concurrency: int = 4,
        stream: bool | None = None,
        with_logs: bool = True,
        on_change: BatchCallback | None = None,
        max_hz: float | None = None,
        validate: bool = True,
    ) -> Batch:
        """Start many requests, at most ``concurrency`` at once; returns at once (see ``AsyncClient.track_many``)."""
        items = [(endpoint, sealed(arguments)) for endpoint, arguments in items]
        made: concurrent.futures.Future[Batch] = concurrent.futures.Future()

        def start() -> None:
            try:
                batch = self._async.track_many(
                    items,
                    concurrency=concurrency,
                    stream=stream,
                    with_logs=with_logs,
                    validate=validate,
                    on_change=on_change,
                    max_hz=max_hz,
                )
                made.set_result(Batch(batch, self._runner))
            except BaseException as exc:
                made.set_exception(exc)

        self._runner.call_soon(start)
        return made.result()

    def stream(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        validate: bool = True,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[Any]:
        """The events of a streaming endpoint, each as its JSON (blocking iterator; see :meth:`AsyncClient.stream`)."""
        events = self._async.stream(endpoint, sealed(arguments), validate=validate, hint=hint, headers=headers)
        return self._runner.iterate(events)

    def get_handle(self, endpoint: str, request_id: str) -> SyncRequestHandle:
        """A handle for a request submitted earlier (maybe by another process)."""
        return SyncRequestHandle(self._async.get_handle(endpoint, request_id), self._runner)

    def close(self) -> None:
        self._runner.run(self._async.aclose())

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ClientLike(Protocol):
    """What widgets, sweeps and history resume need of a client: a :class:`Client`, or a test's stand-in."""

    @property
    def mode(self) -> Mode: ...

    @property
    def base_url(self) -> str: ...

    @property
    def budget(self) -> Budget | None:
        """The client's spending limit, if any (a sweep checks that it fits as a whole before starting)."""

    @property
    def recorder(self) -> Recorder | None:
        """Where the client records its requests, or None (the spend line says today's figure leaves its runs out)."""

    def track(
        self,
        endpoint: str,
        arguments: Arguments,
        *,
        stream: bool | None = None,
        on_change: Callable[[State], object] | None = None,
        max_hz: float | None = None,
        validate: bool = True,
    ) -> TrackedRequest: ...

    def track_many(
        self,
        items: Sequence[tuple[str, Arguments]],
        *,
        concurrency: int = 4,
        stream: bool | None = None,
        with_logs: bool = True,
        on_change: BatchCallback | None = None,
        max_hz: float | None = None,
    ) -> Batch: ...

    def get_handle(self, endpoint: str, request_id: str) -> SyncRequestHandle: ...

    def close(self) -> None: ...
