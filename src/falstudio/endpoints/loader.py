"""Specs for endpoints falstudio has no hand-written row for, typed from fal's OpenAPI document for each.

The document comes from ``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>`` (public, no key; the base
is ``$FALSTUDIO_OPENAPI_URL`` when set), is kept on disk (:mod:`._schema_cache`) and is then used offline and by
later processes; :func:`refresh` fetches it again. This is the one place in ``endpoints`` that does I/O: a single
GET with the standard library (``urllib``, imported on first use), so importing falstudio stays cheap; it has one
overall deadline, and follows no redirect to another host.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import _schema_cache as cache
from .openapi import BadSchemaError, EndpointSchemaError, spec_from_openapi
from .registry import REGISTRY, EndpointSpec, UnknownEndpointError

URL_ENV = "FALSTUDIO_OPENAPI_URL"
DEFAULT_URL = "https://fal.ai/api/openapi/queue/openapi.json"
TIMEOUT_SECONDS = 15.0
MAX_BYTES = 8 * 1024 * 1024

_memory: dict[str, EndpointSpec] = {}
_lock = threading.Lock()
clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731 - replaceable in tests


class SchemaUnavailableError(EndpointSchemaError):
    """fal's schema for the endpoint could not be fetched, and no copy is cached."""

    def __init__(self, endpoint_id: str, url: str, problem: str, unusable: str = "") -> None:
        path = cache.schema_path(endpoint_id)
        cached = f"the cached copy is unusable ({unusable})" if unusable else "no copy is cached"
        super().__init__(
            endpoint_id,
            list(REGISTRY),
            f"It is not registered, fal's OpenAPI schema for it could not be fetched ({problem}) and {cached}. "
            f"Fix: retry with a network connection (falstudio then keeps the schema for offline use); or, "
            f"air-gapped, open {url} elsewhere and save the reply as {path}; or point ${URL_ENV} at a mirror of "
            "fal's OpenAPI service. To send a request without checking it, use client.subscribe(..., validate=False)",
        )
        self.url, self.path, self.problem, self.unusable = url, path, problem, unusable


def openapi_url(endpoint_id: str) -> str:
    """fal's OpenAPI document URL for ``endpoint_id`` (``$FALSTUDIO_OPENAPI_URL`` replaces the base)."""
    from urllib.parse import quote

    base = os.environ.get(URL_ENV) or DEFAULT_URL
    return f"{base}{'&' if '?' in base else '?'}endpoint_id={quote(endpoint_id, safe='/')}"


def load(endpoint_id: str) -> EndpointSpec:
    """The spec typed from fal's schema: from memory, else the disk cache, else fetched (and cached)."""
    _check(endpoint_id)
    with _lock:
        spec = _memory.get(endpoint_id)
    if spec is not None:
        return spec
    unusable = ""
    try:
        spec = _from_cache(endpoint_id)
    except (ValueError, BadSchemaError) as exc:
        unusable = str(exc)
    if spec is None:
        try:
            spec = _fetch(endpoint_id)
        except SchemaUnavailableError as exc:
            if unusable:
                raise SchemaUnavailableError(endpoint_id, exc.url, exc.problem, unusable) from None
            raise
    return _remember(spec)


def cached(endpoint_id: str) -> EndpointSpec | None:
    """The spec if falstudio has it without the network (loaded in this process or cached on disk), else None."""
    if not cache.is_endpoint_id(endpoint_id):
        return None
    with _lock:
        spec = _memory.get(endpoint_id)
    if spec is not None:
        return spec
    try:
        spec = _from_cache(endpoint_id)
    except (ValueError, BadSchemaError):
        return None
    return _remember(spec) if spec is not None else None


def document(endpoint_id: str) -> dict[str, Any] | None:
    """fal's OpenAPI document for ``endpoint_id`` as cached on disk, or None."""
    try:
        entry = cache.read(endpoint_id) if cache.is_endpoint_id(endpoint_id) else None
    except ValueError:
        return None
    return entry.document if entry is not None else None


def cached_ids() -> list[str]:
    """The endpoint ids whose documents are cached on disk."""
    root = cache.cache_dir()
    if not root.is_dir():
        return []
    found = (p.relative_to(root).with_suffix("").as_posix() for p in sorted(root.rglob("*.json")))
    return [i for i in found if cache.is_endpoint_id(i)]


def refresh(endpoint_id: str) -> EndpointSpec:
    """Fetch fal's schema again and replace the cached copy (kept as it was when the fetch fails)."""
    _check(endpoint_id)
    spec = _fetch(endpoint_id)
    with _lock:
        _memory[endpoint_id] = spec
    return spec


def loaded() -> list[EndpointSpec]:
    """The specs loaded in this process, oldest first."""
    with _lock:
        return list(_memory.values())


def forget(endpoint_id: str | None = None) -> None:
    """Drop loaded specs from this process's memory (all when ``endpoint_id`` is None); the disk cache stays."""
    with _lock:
        if endpoint_id is None:
            _memory.clear()
        else:
            _memory.pop(endpoint_id, None)


def put(spec: EndpointSpec) -> EndpointSpec:
    """Make ``spec`` the one loaded for its id (the catalog's, which knows its status and streaming)."""
    with _lock:
        _memory[spec.id] = spec
    return spec


def _remember(spec: EndpointSpec) -> EndpointSpec:
    with _lock:
        return _memory.setdefault(spec.id, spec)  # two threads loading at once share the first spec


def _check(endpoint_id: str) -> None:
    if not isinstance(endpoint_id, str) or not cache.is_endpoint_id(endpoint_id):
        raise UnknownEndpointError(
            str(endpoint_id), list(REGISTRY), "It is not a fal endpoint id (owner/app or owner/app/path)"
        )


def _from_cache(endpoint_id: str) -> EndpointSpec | None:
    entry = cache.read(endpoint_id)
    if entry is None:
        return None
    from .catalog import with_catalog_facts  # what fal's catalog said of it (deprecated, streaming), if searched

    note = _fetched(entry.fetched_at, entry.path) if entry.fetched_at else f"Schema saved by hand as {entry.path}."
    return with_catalog_facts(spec_from_openapi(entry.document, endpoint_id, note=note))


def _fetch(endpoint_id: str) -> EndpointSpec:
    """GET the document, build the spec from it, and only then cache it (a broken document is never kept)."""
    import urllib.error

    url = openapi_url(endpoint_id)
    try:
        body = _download(url)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            raise UnknownEndpointError(
                endpoint_id,
                list(REGISTRY),
                f"It is not registered, and fal does not know it either (its OpenAPI service answered HTTP "
                f"{exc.code} for this id); check the id on fal.ai/models",
            ) from None
        raise SchemaUnavailableError(endpoint_id, url, f"HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SchemaUnavailableError(endpoint_id, url, f"{type(exc).__name__}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise BadSchemaError(endpoint_id, f"the reply is larger than {MAX_BYTES // 1024 // 1024} MiB")
    try:
        document: Any = json.loads(body)
    except ValueError as exc:
        raise BadSchemaError(endpoint_id, f"the reply from {url} is not JSON ({exc})") from None
    except RecursionError:
        raise BadSchemaError(endpoint_id, f"the reply from {url} is JSON nested too deeply") from None
    fetched_at = clock()
    spec = spec_from_openapi(document, endpoint_id, note=_fetched(fetched_at, cache.schema_path(endpoint_id)))
    cache.write(endpoint_id, document, url, fetched_at)  # only a document that built a spec is kept
    return spec


def _download(url: str) -> bytes:
    """The body at ``url`` (at most MAX_BYTES + 1 bytes), all of it within TIMEOUT_SECONDS.

    urllib's timeout bounds each socket operation, so a reply dripping a byte at a time would never time out;
    the GET runs on a worker thread that the caller stops waiting for at the deadline (the worker stops reading
    there too). A redirect to another host (or scheme) is not followed.
    """
    import time
    import urllib.request

    from .._internal.version import VERSION

    deadline = time.monotonic() + TIMEOUT_SECONDS
    outcome: list[bytes | BaseException] = []
    abandoned = threading.Event()

    def get() -> None:
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": f"falstudio/{VERSION}"}
        )
        try:
            opener = urllib.request.build_opener(_same_host_redirects())
            with opener.open(request, timeout=TIMEOUT_SECONDS) as reply:
                chunks: list[bytes] = []
                size = 0
                while size <= MAX_BYTES and not abandoned.is_set() and time.monotonic() < deadline:
                    chunk = reply.read1(64 * 1024)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
            outcome.append(b"".join(chunks))
        except BaseException as exc:  # handed to the caller
            outcome.append(exc)

    worker = threading.Thread(target=get, name="falstudio-openapi-fetch", daemon=True)
    worker.start()
    worker.join(TIMEOUT_SECONDS)
    if worker.is_alive() or not outcome or time.monotonic() >= deadline:
        abandoned.set()
        raise TimeoutError(f"no complete reply within {TIMEOUT_SECONDS:g} s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _same_host_redirects() -> Any:
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    class SameHostRedirects(urllib.request.HTTPRedirectHandler):
        """Follow a redirect on fal's own host only: a schema from elsewhere would be cached under fal's URL."""

        def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
            asked, told = urlsplit(req.full_url), urlsplit(newurl)
            if (told.scheme, told.netloc) != (asked.scheme, asked.netloc):
                where = f"{told.scheme}://{told.netloc}" if told.netloc else newurl[:80]
                raise urllib.error.HTTPError(
                    req.full_url, code, f"redirect to another host ({where}) not followed", headers, fp
                )
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return SameHostRedirects()


def _fetched(when: datetime, path: Path) -> str:
    return f"Schema fetched {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC (cached in {path})."
