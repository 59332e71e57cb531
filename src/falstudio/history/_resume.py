"""Re-attach to requests that were in flight when their process ended, and record their results.

The record has the endpoint, request id and server (``base_url``) but never a key, so the client comes from:
the ``client`` argument (used for records of its ``base_url``); else, for fal.ai, ``Client()`` with your
FAL_KEY; else, for a local server, a key-less client for ``base_url`` (a local server started with a key
needs ``client=Client(base_url=server.url, key=server.key)``).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

from falstudio.client.recorder import Finished

from ._record import RunRecord
from ._store import HistoryStore, HistoryWarning

POLL_FIRST = 0.1
POLL_MAX = 1.0


def resume(store: HistoryStore, record: RunRecord, *, client: Any = None, timeout: float | None = None) -> RunRecord:
    """Fetch the result of one in-flight record and save it; returns the record as it now is.

    Never raises for a request that cannot be resumed: a request the server has forgotten (or whose local
    server is gone) is marked ``lost`` with the reason; anything that may pass (no credentials, network,
    ``timeout`` seconds elapsed) leaves it in flight with a :class:`HistoryWarning`.
    """
    if not record.in_flight:
        return record
    if client is not None and getattr(client, "base_url", record.base_url) != record.base_url:
        client = None  # that client talks to another server; this request lives at record.base_url
    own = client is None
    if own:
        client, problem = _client_for(record)
        if client is None:
            _warn(problem)
            return record
    try:
        return _fetch(store, record, client, timeout)
    finally:
        if own:
            client.close()


def _client_for(record: RunRecord) -> tuple[Any, str]:
    from falstudio.client import Client, RetryPolicy
    from falstudio.client._credentials import key_from_env
    from falstudio.client._protocol import Hosts

    if _is_local(record):
        # A local server that is gone refuses connections at once: two tries are enough to be sure.
        retry = RetryPolicy(max_attempts=2, max_elapsed=5.0)
        return Client(_same_process_key(record.base_url), base_url=record.base_url, history=False, retry=retry), ""
    if key_from_env() is None:
        return None, (
            f"cannot resume {record.request_id} ({record.endpoint}) on {record.base_url or 'fal.ai'}: no FAL_KEY "
            "is set; set FAL_KEY (or pass client=falstudio.Client(key=...)) and resume again"
        )
    if not record.base_url or record.base_url == Hosts.fal().queue:
        return Client(history=False), ""
    return Client(base_url=record.base_url, history=False), ""


def _is_local(record: RunRecord) -> bool:
    if record.mode is not None:
        return record.mode == "local"
    from falstudio.client._protocol import Hosts

    try:
        return Hosts.single(record.base_url).is_loopback
    except ValueError:
        return False


def _same_process_key(base_url: str) -> str | None:
    """The key of a local server running in this process at ``base_url`` (the embedded one, or one you started)."""
    import sys

    if "falstudio.local.server" not in sys.modules:  # no server was ever started here: don't import one to look
        return None
    from falstudio.local import find_server

    server = find_server(base_url)
    return None if server is None else str(server.key)


def _fetch(store: HistoryStore, record: RunRecord, client: Any, timeout: float | None) -> RunRecord:
    from falstudio.client import errors

    endpoint, request_id = record.endpoint, record.request_id
    status = None
    try:
        status = _wait_until_completed(client, record, timeout)
        if status is None:
            _warn(f"{request_id} ({endpoint}) is still running after {timeout} s; resume again later")
            return record
        result = client.result(endpoint, request_id)
    except errors.RequestCancelledError as exc:
        return store.record_finished(_finished(record, "cancelled", error=exc.message, error_type=exc.error_type))
    except errors.RequestNotFoundError:
        return store.mark_lost(record, _forgotten(record))
    except errors.NetworkError as exc:
        if _is_local(record) and _refused(exc):
            return store.mark_lost(
                record,
                (
                    f"the local server at {record.base_url} is not running any more; a local server keeps its "
                    "results only while it runs"
                ),
            )
        _warn(f"could not resume {request_id} ({endpoint}): {exc}")
        return record
    except errors.FalError as exc:
        if status is not None and not getattr(status, "ok", True):  # the request itself failed
            error_type = exc.error_type or getattr(status, "error_type", None)
            return store.record_finished(_finished(record, "failed", error=exc.message, error_type=error_type))
        hint = ""
        if isinstance(exc, errors.AuthError) and _is_local(record):
            hint = f"; pass client=falstudio.Client(base_url={record.base_url!r}, key=<that server's key>)"
        _warn(f"could not resume {request_id} ({endpoint}): {exc.message}{hint}")
        return record
    images = []
    for image in result.images:
        try:
            images.append(image.bytes())
        except errors.FalError as exc:  # e.g. an expired CDN URL: keep the URL, say so
            _warn(f"image of {request_id} not saved: {exc}")
            break
    return store.record_finished(
        _finished(
            record,
            "completed",
            output=result.data,
            images=images,
            inference_seconds=getattr(status, "inference_seconds", None),
        )
    )


def _wait_until_completed(client: Any, record: RunRecord, timeout: float | None) -> Any:
    """The request's Completed status, or None if ``timeout`` seconds pass first."""
    from falstudio.client import Completed

    deadline = None if timeout is None else time.monotonic() + timeout
    delay = POLL_FIRST
    while True:
        status = client.status(record.endpoint, record.request_id)
        if isinstance(status, Completed):
            return status
        if deadline is not None and time.monotonic() + delay > deadline:
            return None
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX)


def _finished(record: RunRecord, state: Any, **details: Any) -> Finished:
    return Finished(
        endpoint=record.endpoint, request_id=record.request_id, state=state, finished_at=time.time(), **details
    )


def _forgotten(record: RunRecord) -> str:
    reason = f"the server at {record.base_url or 'fal.ai'} no longer knows request {record.request_id}"
    if record.sync_mode:
        return reason + "; it was sent with sync_mode=True, whose results are not kept and cannot be fetched again"
    if _is_local(record):
        return reason + "; a local server forgets its requests when it restarts"
    return reason + "; fal keeps request results for a limited time"


def _refused(exc: BaseException) -> bool:
    import httpx

    cause = exc.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout))


def _warn(message: str) -> None:
    warnings.warn(message, HistoryWarning, stacklevel=4)
