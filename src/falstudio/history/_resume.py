"""Re-attach to requests that were in flight when their process ended, and record how they ended.

Resuming follows the request with the client's tracked request (the one lifecycle), recording into this
history: what the server confirms (done, failed, cancelled) is recorded by it, exactly as for a live
request. What is left here is what only a resume meets: a server that forgot the request, or is gone.

The record has the endpoint, request id and server (``base_url``) but never a key, so the client comes from:
the ``client`` argument (used for records of its ``base_url``); else, for fal.ai, ``Client()`` with your
FAL_KEY; else, for a local server, a key-less client for ``base_url`` (a local server started with a key
needs ``client=Client(base_url=server.url, key=server.key)``).
"""

from __future__ import annotations

import sys
import time
import warnings
from typing import TYPE_CHECKING

from ._record import RunRecord
from ._store import HistoryStore, HistoryWarning, unconfirmed_reason

if TYPE_CHECKING:
    from falstudio.client import ClientLike

SENDING_SECONDS = 15 * 60  # longer than any submit with its retries: a record this old got no reply


def resume(
    store: HistoryStore, record: RunRecord, *, client: ClientLike | None = None, timeout: float | None = None
) -> RunRecord:
    """Fetch the result of one in-flight record and save it; returns the record as it now is.

    Never raises for a request that cannot be resumed: a request the server has forgotten (or whose local
    server is gone, or that was streamed and so cannot be fetched again) is marked ``lost`` with the reason;
    anything that may pass (no credentials, network, ``timeout`` seconds elapsed) leaves it in flight with a
    :class:`HistoryWarning`. A record written before sending that never got its request id is settled honestly
    (it may have been submitted, but cannot be resumed without a request id).
    """
    store.settle_twin(record)
    if not record.in_flight:
        return record
    if record.request_id is None:
        named = _settle_unconfirmed(store, record)
        if named.request_id is None:
            return named
        record = named
    if record.via != "queue":
        return store.mark_lost(record, _forgotten(record))
    if client is not None and client.base_url != record.base_url:
        client = None  # that client talks to another server; this request lives at record.base_url
    own = client is None
    if client is None:
        client, problem = _client_for(record)
        if client is None:
            _warn(problem)
            return record
    try:
        return _follow(store, record, client, timeout)
    finally:
        if own:
            client.close()


def _follow(store: HistoryStore, record: RunRecord, client: ClientLike, timeout: float | None) -> RunRecord:
    from falstudio.client import errors, recorder

    assert record.request_id is not None
    tracked = client.get_handle(record.endpoint, record.request_id).track(recorder=store)
    try:
        state = tracked.wait(timeout)
    except TimeoutError:
        tracked.close()
        _warn(f"{record.request_id} ({record.endpoint}) is still running after {timeout} s; resume again later")
        return record
    recorder.flush()  # the tracked request recorded what the server confirmed: read it back
    now = store.find(record.endpoint, record.request_id) or record
    error = state.error
    if not now.in_flight or error is None:
        return now
    if isinstance(error, errors.RequestNotFoundError):
        return store.mark_lost(record, _forgotten(record))
    if isinstance(error, errors.NetworkError) and _is_local(record) and _refused(error):
        reason = (
            f"the local server at {record.base_url} is not running any more; a local server keeps its results "
            "only while it runs"
        )
        return store.mark_lost(record, reason)
    hint = ""
    if isinstance(error, errors.AuthError) and _is_local(record):
        hint = f"; pass client=falstudio.Client(base_url={record.base_url!r}, key=<that server's key>)"
    _warn(f"could not resume {record.request_id} ({record.endpoint}): {error.message}{hint}")
    return record


def _settle_unconfirmed(store: HistoryStore, record: RunRecord) -> RunRecord:
    """A record written before sending, never completed with a request id. While the process sending it is
    alive (and not for long) it may still get its reply; else, when the folder's spend journal says which request
    id the server gave it, the record gets that id (to be followed); otherwise it is ``lost``, saying honestly that
    the request may have been submitted but cannot be resumed."""
    age = time.time() - (record.submitted_at or 0.0)
    if age < SENDING_SECONDS and _writer_alive(record.writer):
        _warn(
            f"a request to {record.endpoint} is being sent right now (by process {record.writer}); "
            "resume again in a moment"
        )
        return record
    from falstudio.client.recorder import bound_request_id

    request_id = bound_request_id(store.root, record.intent_id, store.spend_entries) if record.intent_id else None
    if request_id:  # the server named it, and the process ended before its record said so: follow it by that name
        named = store.save(record.model_copy(update={"request_id": request_id, "state": "queued"}))
        store.forget_intent(record.intent_id or "")
        return named
    why = "the process sending it ended before the server's reply was recorded"
    return store.mark_lost(record, unconfirmed_reason(record, why), error_type="unconfirmed")


def _writer_alive(writer: str | None) -> bool:
    """Whether ``"<host>:<pid>"`` names a running process of this machine (unknown: assume it is)."""
    import os
    import socket

    host, _, pid = (writer or "").rpartition(":")
    if not pid.isdigit() or host != socket.gethostname():
        return host != socket.gethostname() and bool(host)  # another machine's: cannot tell
    if os.name != "posix":
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _client_for(record: RunRecord) -> tuple[ClientLike | None, str]:
    from falstudio.client import Client, RetryPolicy, fal_base_url, has_key

    if _is_local(record):
        # A local server that is gone refuses connections at once: two tries are enough to be sure.
        retry = RetryPolicy(max_attempts=2, max_elapsed=5.0)
        return Client(_same_process_key(record.base_url), base_url=record.base_url, history=False, retry=retry), ""
    if not has_key():
        return None, (
            f"cannot resume {record.request_id} ({record.endpoint}) on {record.base_url or 'fal.ai'}: no FAL_KEY "
            "is set; set FAL_KEY (or pass client=falstudio.Client(key=...)) and resume again"
        )
    if not record.base_url or record.base_url == fal_base_url():
        return Client(history=False), ""
    return Client(base_url=record.base_url, history=False), ""


def _is_local(record: RunRecord) -> bool:
    if record.mode is not None:
        return record.mode == "local"
    from falstudio.client import is_loopback_url

    return is_loopback_url(record.base_url)


def _same_process_key(base_url: str) -> str | None:
    """The key of a local server running in this process at ``base_url`` (the embedded one, or one you started)."""
    if "falstudio.local.server" not in sys.modules:  # no server was ever started here: don't import one to look
        return None
    from falstudio.local import find_server

    server = find_server(base_url)
    return None if server is None else str(server.key)


def _forgotten(record: RunRecord) -> str:
    reason = f"the server at {record.base_url or 'fal.ai'} no longer knows request {record.request_id}"
    if record.via == "stream":
        return (
            f"request {record.request_id} was streamed (a sync request on fal): its result is not kept by request "
            "id and cannot be fetched again"
        )
    if record.sync_mode:
        return reason + "; it was sent with sync_mode=True, whose results are not kept and cannot be fetched again"
    if _is_local(record):
        return reason + "; a local server forgets its requests when it restarts"
    return reason + "; fal keeps request results for a limited time"


def _refused(exc: BaseException) -> bool:
    import httpx

    return isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout))


def _warn(message: str) -> None:
    warnings.warn(message, HistoryWarning, stacklevel=4)
