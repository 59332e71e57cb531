"""The private event loop that runs the sync API's coroutines, in a daemon thread (no nest_asyncio).

Works the same from a script, a Jupyter cell (whose thread already runs a loop), inside ``async def``
and from many threads at once. A waiting thread that is interrupted (KeyboardInterrupt, timeout)
cancels its task, so the HTTP request is closed instead of orphaned.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import os
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
P = ParamSpec("P")
A = TypeVar("A")

_SLICE = 0.25  # wait in short slices so that signals are handled promptly on every platform
_CANCEL_GRACE = 0.9  # how long an interrupted caller waits for the task's clean-up (e.g. a remote cancel)


class LoopThread:
    """One event loop in one daemon thread, started lazily and restarted after ``fork``."""

    def __init__(self, name: str = "falstudio-loop") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._closeables: weakref.WeakSet[_Closeable] = weakref.WeakSet()
        self._exited_in: int | None = None  # the process that shut it down at exit: never started again there

    def in_loop_thread(self) -> bool:
        thread = self._thread
        return thread is not None and threading.get_ident() == thread.ident and self._pid == os.getpid()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            thread = self._thread
            if self._loop is None or self._pid != os.getpid() or thread is None or not thread.is_alive():
                self._start()
            assert self._loop is not None
            return self._loop

    def _start(self) -> None:
        if self._exited_in == os.getpid():  # a new thread now would hang the interpreter's exit
            raise RuntimeError("falstudio's event loop has stopped: the interpreter is exiting")
        made: list[asyncio.AbstractEventLoop] = []
        ready = threading.Event()

        def main() -> None:
            # The loop is made on its own thread: a KeyboardInterrupt in the caller's thread can never leave a
            # half-made loop behind (its finalizer would print a traceback at exit).
            loop = asyncio.new_event_loop()
            made.append(loop)
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=main, name=self._name, daemon=True)
        thread.start()
        ready.wait()
        self._thread = thread
        self._loop, self._pid = made[0], os.getpid()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop; never blocks. Cancelling the future cancels the task.

        The task runs in a copy of the caller's context (ContextVars, ipykernel's output routing).
        """
        return self._start_task(coro)[0]

    def _start_task(self, coro: Coroutine[Any, Any, T]) -> tuple[concurrent.futures.Future[T], threading.Event]:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        finished = threading.Event()  # set when the task has really ended, clean-up included
        loop = self.loop()
        task_box: list[asyncio.Task[T]] = []

        def start() -> None:
            if future.cancelled():
                coro.close()
                finished.set()
                return
            task = loop.create_task(coro)
            task_box.append(task)

            def done(t: asyncio.Task[T]) -> None:
                _copy_outcome(t, future)
                finished.set()

            task.add_done_callback(done)

        def on_future_done(f: concurrent.futures.Future[T]) -> None:
            if f.cancelled():
                loop.call_soon_threadsafe(lambda: task_box and task_box[0].cancel())

        future.add_done_callback(on_future_done)
        loop.call_soon_threadsafe(start)
        return future, finished

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for it, from any thread but the loop's own."""
        if self.in_loop_thread():
            coro.close()
            raise RuntimeError(
                "the synchronous falstudio API was called from falstudio's own event loop (e.g. from an "
                "on_update callback), which would deadlock; use the AsyncClient there, or hand the work "
                "to another thread"
            )
        _warn_if_blocking_a_loop()
        future, finished = self._start_task(coro)
        try:
            return _wait(future, timeout)
        except BaseException:
            if not future.done():
                future.cancel()  # reaches the task through on_future_done
                finished.wait(_CANCEL_GRACE)  # let its clean-up (closing sockets, a remote cancel) run
            raise

    def call_soon(self, callback: Callable[..., object], *args: Any) -> None:
        """Run ``callback(*args)`` on the loop: now when already on its thread, else as soon as it is free (once
        the loop has stopped at interpreter exit, nothing runs: the callback is dropped)."""
        if self.in_loop_thread():
            callback(*args)
        elif self._exited_in == os.getpid():
            return
        else:
            self.loop().call_soon_threadsafe(callback, *args)

    def iterate(self, events: _AsyncEvents[T]) -> Iterator[T]:
        """A blocking iterator over an async one whose steps run on this loop (closed on the loop too)."""

        async def step() -> T:
            return await events.__anext__()

        try:
            while True:
                try:
                    item = self.run(step())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            if not self.in_loop_thread():
                self.run(_aclose(events))

    def close_at_exit(self, closeable: _Closeable) -> None:
        """Have ``closeable.aclose()`` run on this loop at interpreter exit (if still alive then)."""
        self._closeables.add(closeable)

    def shutdown(self) -> None:
        """Close what is registered, then stop the loop (idempotent; runs at exit)."""
        with self._lock:
            self._exited_in = os.getpid()
            loop, thread, closeables = self._loop, self._thread, list(self._closeables)
            self._closeables = weakref.WeakSet()
            self._loop = self._thread = None
            if loop is None or thread is None or not thread.is_alive() or self._pid != os.getpid():
                return
        for closeable in closeables:
            try:
                asyncio.run_coroutine_threadsafe(closeable.aclose(), loop).result(2)
            except Exception:  # best effort at exit
                pass
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2)
        loop.close()


class _AsyncEvents(Protocol[T_co]):
    """An async iterator that can be closed (an async generator, an event stream)."""

    def __anext__(self) -> Awaitable[T_co]: ...

    def aclose(self) -> Awaitable[object]: ...


class _Closeable(Protocol):
    def aclose(self) -> Coroutine[Any, Any, None]: ...


class _Driven(Protocol[A]):
    """Something that runs an async object's coroutines on a LoopThread: a sync Client or handle."""

    _async: A
    _runner: LoopThread


def blocking(
    method: Callable[Concatenate[A, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[_Driven[A], P], T]:
    """The blocking twin of an async method: ``self._runner.run(method(self._async, ...))``."""

    def call(self: _Driven[A], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._runner.run(method(self._async, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call


async def _aclose(events: _AsyncEvents[Any]) -> None:
    await events.aclose()


def _copy_outcome(task: asyncio.Task[T], future: concurrent.futures.Future[T]) -> None:
    if future.done():
        return
    if task.cancelled():
        future.cancel()
    elif task.exception() is not None:
        future.set_exception(task.exception())
    else:
        future.set_result(task.result())


def _wait(future: concurrent.futures.Future[T], timeout: float | None) -> T:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = _SLICE if deadline is None else min(_SLICE, max(0.0, deadline - time.monotonic()))
        try:
            return future.result(step)
        except concurrent.futures.TimeoutError:
            if future.done():
                raise
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"no result within {timeout} s") from None


_warned_blocking = threading.Event()


def _warn_if_blocking_a_loop() -> None:
    """Warn once when a sync call blocks a running loop outside a notebook (where sync cells are normal)."""
    if _warned_blocking.is_set():
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return
    _warned_blocking.set()
    warnings.warn(
        "a synchronous falstudio call is blocking a running event loop; in async code use "
        "falstudio.AsyncClient and await it",
        RuntimeWarning,
        stacklevel=4,
    )


LOOP = LoopThread()
atexit.register(LOOP.shutdown)
