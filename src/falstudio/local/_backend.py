"""The server's state: settings, storage, the queue, upload tokens and outgoing HTTP (webhooks)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._internal.tls import default_context
from ._keyring import KeyRing
from ._multipart import MultipartUploads
from ._runner import Runner
from ._threads import background_pool
from .faults import Faults
from .jobs import Job, JobQueue
from .storage import Storage

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger("falstudio.local")
TOKEN_SECONDS = 3600
# fal: "If the webhook fails to deliver the payload, it will retry 10 times in the span of 2 hours". The spacing
# is not published: here each wait doubles, the ten summing to two hours (7.0 s, 14.1 s, ... 60 min).
WEBHOOK_RETRIES = 10
WEBHOOK_RETRY_SPAN = 2 * 3600.0
WEBHOOK_DELAYS = tuple(WEBHOOK_RETRY_SPAN / (2**WEBHOOK_RETRIES - 1) * 2**n for n in range(WEBHOOK_RETRIES))
PRUNE_SECONDS = 60.0  # how often old jobs and files are looked for


STREAM_DIALECTS = ("fal", "image", "completed", "openai")  # shapes of stream events: see _stream_routes


@dataclass
class Settings:
    """What a server was started with. ``latency`` and ``faults`` may change while it runs."""

    key: str
    latency: float = 1.0
    concurrency: int = 2
    faults: Faults = field(default_factory=Faults)
    allow_remote_fetch: bool = False
    max_upload_bytes: int = 50 * 1024 * 1024
    storage_dir: str | None = None
    host: str = "127.0.0.1"
    """The interface the server listens on: requests must name it, or a loopback name, as their Host."""
    allowed_hosts: tuple[str, ...] = ()
    """More host names accepted in the Host header (e.g. this machine's name when serving a network)."""
    retention_seconds: float = 24 * 3600
    """Finished jobs and stored files older than this are forgotten (fal keeps results for a limited time too)."""
    max_storage_bytes: int = 1024**3
    """Stored files beyond this total are removed, oldest first."""
    max_jobs: int = 1000
    """Finished jobs remembered (status and result by request id), the oldest forgotten first."""
    typed_cancellation: bool = True
    """A cancelled request's status and result carry ``error_type: request_cancelled`` (falstudio's convention);
    False answers like fal: COMPLETED with no error fields, and a result whose ``detail`` says it was cancelled."""
    webhook_time_scale: float = 1.0
    """Multiplies the waits of fal's webhook retry schedule (10 retries over 2 hours): 0.001 runs it in ~7 s."""
    stream_dialect: str = "fal"
    """The shape of a streamed run's events (``/run/{id}/stream``): one of ``STREAM_DIALECTS`` (see
    :mod:`._stream_routes`), so clients can be tried against each shape seen in the wild."""

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("the server key must be a non-empty string")
        if not all("!" <= char <= "~" for char in self.key):  # it is compared with an HTTP header
            raise ValueError("the server key must be printable ASCII without spaces")
        if self.latency < 0:
            raise ValueError(f"latency is a multiplier >= 0 (0 = instant), got {self.latency!r}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency is the number of workers (>= 1), got {self.concurrency!r}")
        if self.max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be positive, got {self.max_upload_bytes!r}")
        if not self.retention_seconds > 0:  # NaN too
            raise ValueError(f"retention_seconds must be > 0, got {self.retention_seconds!r}")
        if not self.webhook_time_scale > 0:
            raise ValueError(f"webhook_time_scale must be > 0, got {self.webhook_time_scale!r}")
        if self.stream_dialect not in STREAM_DIALECTS:
            raise ValueError(f"stream_dialect must be one of {', '.join(STREAM_DIALECTS)}; got {self.stream_dialect!r}")
        if self.max_storage_bytes < 1 or self.max_jobs < 1:
            raise ValueError(
                f"max_storage_bytes and max_jobs must be positive, got {self.max_storage_bytes!r}, {self.max_jobs!r}"
            )
        self.allowed_hosts = tuple(self.allowed_hosts)


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Backend:
    """Owns everything a request handler needs. Created with the app, started in its lifespan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.storage = Storage(
            settings.storage_dir, max_age=settings.retention_seconds, max_bytes=settings.max_storage_bytes
        )
        self.uploads = MultipartUploads(self.storage, settings.max_upload_bytes)
        self._tokens: dict[str, float] = {}
        self.keys = KeyRing()  # keys minted through the Platform API (POST /v1/keys)
        self._executor: ThreadPoolExecutor | None = None
        self._http: httpx.AsyncClient | None = None
        self._webhooks: set[asyncio.Task[None]] = set()
        self._queue: JobQueue | None = None
        self._pruner: asyncio.Task[None] | None = None
        self.closing = False

    # --- lifecycle (on the server's loop) ---

    async def start(self) -> None:
        # Engine work is CPU-bound: more threads than cores only make every job late (and starve the loop);
        # and it yields to request handling (and, embedded, to the notebook's own code).
        self._executor = background_pool(os.cpu_count() or 2, "falstudio-engine")
        self._queue = JobQueue(
            self.settings.concurrency,
            Runner(self, self._executor),
            self._finished,
            max_jobs=self.settings.max_jobs,
            max_age=self.settings.retention_seconds,
        )
        self._queue.start()
        self._pruner = asyncio.create_task(self._prune_now_and_then(), name="falstudio-prune")

    def begin_shutdown(self) -> None:
        """Cancel unfinished jobs and wake every open status stream, so open requests end before the HTTP
        server stops."""
        self.closing = True
        if self._queue is not None:
            for job in self._queue.jobs():
                self._queue.cancel(job)
                job.notify()

    async def _prune_now_and_then(self) -> None:
        """Expire old jobs and files even while no new ones arrive (each new one prunes too)."""
        every = min(PRUNE_SECONDS, self.settings.retention_seconds / 4)
        while True:
            await asyncio.sleep(every)
            self.queue.prune()
            await asyncio.to_thread(self.storage.prune)

    async def stop(self) -> None:
        if self._pruner is not None:
            self._pruner.cancel()
        self.begin_shutdown()
        if self._queue is not None:
            await self._queue.stop()
        for task in list(self._webhooks):
            task.cancel()
        await asyncio.gather(*self._webhooks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        self.uploads.close()
        self.storage.close()

    @property
    def queue(self) -> JobQueue:
        if self._queue is None:
            raise RuntimeError("the local server has not started")
        return self._queue

    @property
    def http(self) -> httpx.AsyncClient:
        """For remote images and webhooks: made on first use (with the process's shared TLS context)."""
        if self._http is None:
            if self._queue is None or self.closing:
                raise RuntimeError("the local server is not running")
            import httpx

            self._http = httpx.AsyncClient(timeout=15.0, verify=default_context())
        return self._http

    # --- auth ---

    def key_problem(self, authorization: str | None) -> str | None:
        """Why ``authorization`` is not accepted for the API (never echoing it), or None when it is."""
        if not authorization:
            return (
                "Authorization header is required: send 'Authorization: Key <key>' with the key this local "
                "server printed (LocalServer.key)"
            )
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "key" or not value.strip():
            return "Authorization header must be 'Key <key>'"
        if self.keys.alias_of(value.strip()) is not None:  # a key minted by POST /v1/keys, not revoked
            return None
        if not secrets.compare_digest(value.strip().encode(), self.settings.key.encode()):
            return "No user found for Key ID and Secret: this local server was started with a different key"
        return None

    def issue_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        expires = time.time() + TOKEN_SECONDS
        self._tokens = {t: e for t, e in self._tokens.items() if e > time.time()}
        self._tokens[token] = expires
        expires_at = datetime.now(UTC) + timedelta(seconds=TOKEN_SECONDS)
        return {"token": token, "token_type": "Bearer", "expires_at": expires_at.isoformat()}

    def upload_auth_problem(self, authorization: str | None) -> str | None:
        """Uploads accept a CDN token from /storage/auth/token or the API key."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        if scheme.lower() == "bearer":
            expires = self._tokens.get(value.strip())
            return None if expires and expires > time.time() else "Upload token is invalid or expired"
        return self.key_problem(authorization)

    # --- URLs ---

    def own_origins(self, base_url: str) -> set[str]:
        """Origins that mean "this server": the one a request came in on, and loopback names for our port."""
        parts = urlsplit(base_url)
        origins = {f"{parts.scheme}://{parts.netloc}".lower()}
        if parts.port is not None:
            origins |= {f"{parts.scheme}://{host}:{parts.port}" for host in ("127.0.0.1", "localhost", "[::1]")}
        return origins

    def is_own_url(self, url: str, base_url: str) -> bool:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}".lower() in self.own_origins(base_url)

    def webhook_problem(self, url: str) -> str | None:
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as exc:
            return f"fal_webhook is not a valid URL ({exc}); pass an absolute http(s) URL, url-encoded"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return "fal_webhook must be an absolute http(s) URL"
        if not self.settings.allow_remote_fetch and not is_loopback_url(url):
            return (
                "This local server only calls loopback webhooks (127.0.0.1, localhost); "
                "start it with allow_remote_fetch=True to allow others"
            )
        return None

    # --- completion ---

    def _finished(self, job: Job) -> None:
        if job.webhook_url and not self.closing:
            task = asyncio.create_task(self._deliver(job))
            self._webhooks.add(task)
            task.add_done_callback(self._webhooks.discard)

    async def _deliver(self, job: Job) -> None:
        """POST fal's webhook envelope, retried on fal's schedule (:data:`WEBHOOK_DELAYS`, times
        ``webhook_time_scale``) until a 2xx; failures are logged, never raised."""
        envelope: dict[str, Any] = {"request_id": job.id, "gateway_request_id": job.id}
        if job.output is not None:
            envelope |= {"status": "OK", "payload": job.output}
        else:
            envelope |= {
                "status": "ERROR",
                "error": f"Invalid status code: {job.error_status}",
                "payload": job.error_body,
            }
        assert job.webhook_url is not None
        waits = [delay * self.settings.webhook_time_scale for delay in WEBHOOK_DELAYS]
        for attempt in range(WEBHOOK_RETRIES + 1):
            try:
                response = await self.http.post(job.webhook_url, json=envelope)
                if response.status_code < 300:
                    return
                reason = f"HTTP {response.status_code}"
            except Exception as exc:  # any failure of someone else's endpoint must not reach the server
                reason = type(exc).__name__
            if attempt < WEBHOOK_RETRIES:
                logger.info(
                    "webhook for request %s: %s; retry %d in %.1f s", job.id, reason, attempt + 1, waits[attempt]
                )
                await asyncio.sleep(waits[attempt])
        logger.warning("webhook for request %s failed after %d attempts (%s)", job.id, WEBHOOK_RETRIES + 1, reason)
