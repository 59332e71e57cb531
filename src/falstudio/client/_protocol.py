"""fal's wire protocol: hosts, URLs built from endpoint ids, and the status event stream (SSE)."""

from __future__ import annotations

import json
import logging
import math
import os
import re
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from .._internal.capped import megabytes_from_env
from . import errors

if TYPE_CHECKING:
    from falstudio.endpoints import RequestModel

FAL_QUEUE_URL = "https://queue.fal.run"
FAL_RUN_URL = "https://fal.run"
FAL_REST_URL = "https://rest.fal.ai"
FAL_CDN_URL = "https://v3.fal.media"

# fal's backup domains, tried once when connecting to the primary fails (as fal-client 1.0.3 does); connecting
# to either is given at most BACKUP_CONNECT_SECONDS, so a dead primary is left quickly.
BACKUP_HOSTS = {"queue.fal.run": "queue.falrun.com", "fal.run": "falrun.com"}
BACKUP_CONNECT_SECONDS = 5.0

logger = logging.getLogger("falstudio.client")
PRIORITIES = ("normal", "low")
_NAMESPACES = ("workflows", "comfy")
_LEGACY_ID = re.compile(r"^(\d+)-([\w-]+)$")
_LOOPBACK = ("127.", "localhost", "[::1]", "::1")


@dataclass(frozen=True)
class Hosts:
    """Where each part of the protocol lives. fal.ai uses four hosts; a local server serves all on one."""

    queue: str
    run: str
    rest: str
    cdn: str

    @classmethod
    def fal(cls) -> Hosts:
        """fal.ai, honouring ``FAL_RUN_HOST`` and ``FAL_QUEUE_RUN_HOST`` (each on its own) like fal-client does:
        the queue on ``FAL_QUEUE_RUN_HOST``, else ``queue.`` + the run host."""
        run_host = os.environ.get("FAL_RUN_HOST") or "fal.run"
        queue_host = os.environ.get("FAL_QUEUE_RUN_HOST") or f"queue.{run_host}"
        return cls(f"https://{queue_host}", f"https://{run_host}", FAL_REST_URL, FAL_CDN_URL)

    @classmethod
    def single(cls, base_url: str) -> Hosts:
        """A fal-compatible server on one origin: queue at the root, sync runs under ``/run``."""
        base = base_url.rstrip("/")
        if not base.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        return cls(base, f"{base}/run", base, base)

    @property
    def origins(self) -> frozenset[str]:
        """Origins that receive the API key: queue, run and REST (not the CDN, nor any other host)."""
        return frozenset(origin_of(u) for u in (self.queue, self.run, self.rest))

    @property
    def is_fal(self) -> bool:
        """Whether these are fal's own hosts (``*.fal.run``, ``*.fal.ai``, ``FAL_RUN_HOST``'s): where a
        ``fal auth login`` token may go."""
        host = (urlsplit(self.queue).hostname or "").lower()
        own = {urlsplit(origin).hostname for origin in Hosts.fal().origins}
        return host in own or host in ("fal.run", "fal.ai") or host.endswith((".fal.run", ".fal.ai"))

    @property
    def is_loopback(self) -> bool:
        host = urlsplit(self.queue).hostname or ""
        return host.startswith(_LOOPBACK) or host == "::1"


class BackupHostTransport(httpx.AsyncBaseTransport):
    """Sends each request through ``inner`` (an httpx client, so proxies from the environment still apply);
    when connecting to ``queue.fal.run`` or ``fal.run`` fails, sends it once more to the backup host.

    Only connect failures switch hosts: they prove nothing was sent, so even a submit cannot run twice.
    """

    def __init__(self, inner: httpx.AsyncClient) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host not in BACKUP_HOSTS and host not in BACKUP_HOSTS.values():
            return await self._inner.send(request, stream=True)
        _cap_connect_timeout(request)
        try:
            return await self._inner.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            backup = BACKUP_HOSTS.get(host)
            if backup is None:
                raise
            logger.info("connecting to %s failed (%s); trying %s", host, type(exc).__name__, backup)
            try:
                return await self._inner.send(_on_host(request, backup), stream=True)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                raise exc from None  # the primary's failure is the one to report (and to retry)

    async def aclose(self) -> None:
        await self._inner.aclose()


def _cap_connect_timeout(request: httpx.Request) -> None:
    timeouts = dict(request.extensions.get("timeout") or {})
    connect = timeouts.get("connect")
    timeouts["connect"] = BACKUP_CONNECT_SECONDS if connect is None else min(connect, BACKUP_CONNECT_SECONDS)
    request.extensions["timeout"] = timeouts


def _on_host(request: httpx.Request, host: str) -> httpx.Request:
    url = request.url.copy_with(host=host)
    headers = request.headers.copy()
    headers["Host"] = url.netloc.decode("ascii")
    return httpx.Request(request.method, url, headers=headers, stream=request.stream, extensions=request.extensions)


def has_backup_hosts(hosts: Hosts) -> bool:
    return any(urlsplit(u).hostname in BACKUP_HOSTS for u in (hosts.queue, hosts.run))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class EndpointId:
    """``owner/app[/path]``; status, result and cancel live under ``owner/app`` only."""

    owner: str
    app: str
    path: str = ""

    @classmethod
    def parse(cls, endpoint: str) -> EndpointId:
        if not isinstance(endpoint, str):
            kind = type(endpoint).__name__
            raise TypeError(f"the endpoint id must be a string like 'fal-ai/gpt-image-1.5', not {kind}")
        legacy = _LEGACY_ID.match(endpoint)
        if legacy:
            return cls(legacy.group(1), legacy.group(2))
        parts = endpoint.strip("/").split("/")
        if parts[0] in _NAMESPACES:
            if len(parts) < 3:
                raise ValueError(f"endpoint id {endpoint!r} must look like '{parts[0]}/owner/app'")
            return cls(f"{parts[0]}/{parts[1]}", parts[2], "/".join(parts[3:]))
        if len(parts) < 2 or not all(parts):
            raise ValueError(f"endpoint id {endpoint!r} must look like 'owner/app[/path]', e.g. 'fal-ai/gpt-image-1.5'")
        return cls(parts[0], parts[1], "/".join(parts[2:]))

    @property
    def full(self) -> str:
        return "/".join(p for p in (self.owner, self.app, self.path) if p)

    @property
    def app_id(self) -> str:
        return f"{self.owner}/{self.app}"


class Urls:
    """The URLs of one endpoint on given hosts."""

    def __init__(self, hosts: Hosts, endpoint: str) -> None:
        self.hosts = hosts
        self.id = EndpointId.parse(endpoint)

    @property
    def submit(self) -> str:
        return f"{self.hosts.queue}/{self.id.full}"

    @property
    def run(self) -> str:
        return f"{self.hosts.run}/{self.id.full}"

    def request(self, request_id: str) -> str:
        return f"{self.hosts.queue}/{self.id.app_id}/requests/{request_id}"

    def status(self, request_id: str) -> str:
        return f"{self.request(request_id)}/status"

    def status_stream(self, request_id: str) -> str:
        return f"{self.request(request_id)}/status/stream"

    def cancel(self, request_id: str) -> str:
        return f"{self.request(request_id)}/cancel"


class JsonBody(httpx.AsyncByteStream):
    """A JSON request body (``content=body, headers=body.headers``) that keeps secrets out of sight.

    The request is encoded here, at once, into bytes that no repr shows: secrets (``SecretStr``) are revealed
    only inside that encoding, so a traceback's locals (``%xmode Verbose``, ``pytest --showlocals``, Sentry)
    hold this object, never a dict with the plain key.
    """

    __slots__ = ("_data",)

    def __init__(self, request: RequestModel | Mapping[str, Any]) -> None:
        self._data = _encode(request)

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", "Content-Length": str(len(self._data))}

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._data

    def __repr__(self) -> str:
        return f"<JSON body, {len(self._data)} bytes>"


def sealed(value: Any) -> Any:
    """Plain arguments (a dict) with each secret's string (``openai_api_key``, ``*_token``... as for loaded
    endpoints) wrapped in ``SecretStr`` from the moment the blocking client gets them: no falstudio frame's
    locals hold it in plain text while the call waits. Anything else is returned as it is."""
    if not isinstance(value, Mapping):
        return value
    from pydantic import SecretStr  # pydantic and the endpoints load with the first request

    from falstudio.endpoints import RequestModel
    from falstudio.endpoints.fields import is_secret_field

    if isinstance(value, RequestModel):
        return value
    return {k: SecretStr(v) if isinstance(v, str) and is_secret_field(str(k)) else v for k, v in value.items()}


def _encode(request: RequestModel | Mapping[str, Any]) -> bytes:
    from falstudio.endpoints import RequestModel

    body = request.payload() if isinstance(request, RequestModel) else request
    return json.dumps(body, default=_reveal, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _reveal(value: object) -> object:
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        return value.get_secret_value()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


MAX_EVENT_MB_ENV = "FALSTUDIO_MAX_EVENT_MB"
MAX_EVENT_MB = 32  # one event (a line, or an event's data) larger than this ends the stream with an error


def max_event_bytes() -> int:
    """The cap on one incoming event: ``$FALSTUDIO_MAX_EVENT_MB`` MiB (default 32; a bad value: the default)."""
    return megabytes_from_env(MAX_EVENT_MB_ENV, MAX_EVENT_MB)


async def sse_events(
    chunks: AsyncIterator[bytes],
    *,
    limit: int | None = None,
    idle_seconds: float | None = None,
    endpoint: str | None = None,
) -> AsyncIterator[Any]:
    """The JSON ``data`` of each server-sent event in the bytes ``chunks``; comments (``: ping``) and a closing
    ``data: [DONE]`` are skipped.

    Bounded: a line or an event's data over ``limit`` bytes (default :func:`max_event_bytes`) raises a
    ServerError at once (never buffered further); with ``idle_seconds``, a stream that sends no event for that
    long (only pings) raises FalTimeoutError.
    """
    cap = max_event_bytes() if limit is None else limit
    data: list[bytes] = []
    size = 0
    partial = bytearray()  # the line being received (scanned once: chunks are searched, never the whole line)
    last_event = time.monotonic()
    async for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            partial += chunk[start:end]
            start = end + 1
            line = bytes(partial).removesuffix(b"\r")
            partial.clear()
            if not line:
                if data:
                    last_event = time.monotonic()
                    joined, data, size = b"\n".join(data), [], 0
                    if joined.strip() != b"[DONE]":
                        yield _event(joined, endpoint)
            elif not line.startswith(b":") and line.partition(b":")[0] == b"data":
                value = line[5:].removeprefix(b" ")
                size += len(value)
                if size > cap:
                    raise _too_large(cap, endpoint)
                data.append(value)
        partial += chunk[start:]
        if len(partial) > cap:
            raise _too_large(cap, endpoint)
        if idle_seconds is not None and time.monotonic() - last_event > idle_seconds:
            raise errors.FalTimeoutError(
                f"the stream sent no event for {idle_seconds:g} s (only keep-alive pings); it was closed",
                endpoint=endpoint,
                hint="raise the client's timeout= for runs that take longer between events",
            )
    if partial.startswith(b"data:"):
        data.append(bytes(partial[5:]).removeprefix(b" "))
    if data:
        joined = b"\n".join(data)
        if joined.strip() != b"[DONE]":
            yield _event(joined, endpoint)


def _event(data: bytes, endpoint: str | None) -> Any:
    """One event's data as JSON; a ServerError (not a bare ValueError or RecursionError) when it is not."""
    try:
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        shown = data[:60].decode("utf-8", "replace")
        raise errors.ServerError(
            f"a stream event is not JSON ({type(exc).__name__}: {str(exc)[:100]}): {shown!r}…; the stream was closed",
            endpoint=endpoint,
        ) from None


def _too_large(cap: int, endpoint: str | None) -> errors.ServerError:
    return errors.ServerError(
        f"a stream event passed {cap / 2**20:g} MiB without ending; the stream was closed (nothing more was read)",
        endpoint=endpoint,
        hint=f"if the server really sends events this large, raise {MAX_EVENT_MB_ENV} (MiB)",
    )


def json_body(response: httpx.Response, endpoint: str | None) -> Any:
    """The reply's JSON; a :class:`~falstudio.client.errors.ServerError` when it is something else."""
    try:
        return response.json()
    except ValueError:
        raise errors.ServerError(
            f"expected JSON from {response.request.url.path}, got {response.headers.get('content-type')!r}",
            endpoint=endpoint,
            status_code=response.status_code,
        ) from None


def json_object(response: httpx.Response, endpoint: str | None) -> dict[str, Any]:
    body = json_body(response, endpoint)
    if not isinstance(body, dict):
        raise errors.ServerError(f"expected a JSON object from {response.request.url.path}", endpoint=endpoint)
    return body


def request_headers(
    headers: Mapping[str, str] | None = None,
    *,
    hint: str | None = None,
    priority: str | None = None,
    start_timeout: float | None = None,
) -> dict[str, str]:
    """The headers of a request that makes fal do work, as fal-client builds them: yours (``headers=``) first,
    then ``X-Fal-Runner-Hint``, ``X-Fal-Queue-Priority`` and ``X-Fal-Request-Timeout`` over them; all checked."""
    merged = httpx.Headers()
    for name, value in (headers or {}).items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"headers must map strings to strings; {name!r}: {type(value).__name__} is not")
        merged[name] = value
    if hint is not None:
        if not isinstance(hint, str) or not hint:
            raise ValueError(f"hint must be a non-empty string (a runner hint), got {hint!r}")
        merged["X-Fal-Runner-Hint"] = hint
    merged.update(queue_headers(priority, start_timeout))
    return dict(merged.multi_items())


def with_path(endpoint: str, path: str) -> str:
    """``endpoint`` with fal-client's ``path=`` (a sub-path such as ``"edit"``) appended."""
    if not isinstance(path, str):
        raise TypeError(f"path must be a string such as 'edit', not {type(path).__name__}")
    tail = path.strip("/")
    return f"{endpoint.rstrip('/')}/{tail}" if tail else endpoint


def queue_headers(priority: str | None, start_timeout: float | None) -> dict[str, str]:
    """The submit headers for a queue ``priority`` and a ``start_timeout`` (seconds), both checked."""
    headers = {}
    if priority is not None:
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, got {priority!r}")
        headers["X-Fal-Queue-Priority"] = priority
    start_timeout = seconds("start_timeout", start_timeout)
    if start_timeout is not None:
        headers["X-Fal-Request-Timeout"] = str(start_timeout)
    return headers


def seconds(name: str, value: float | None) -> float | None:
    """``value`` as seconds if it is a finite number > 0, None for "no limit"; else an error naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds (or None for no limit), not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number of seconds > 0, or None for no limit; got {value!r}")
    return float(value)
