"""Specs for endpoints falstudio has no hand-written row for, typed from fal's OpenAPI document for each.

The document comes from ``https://fal.ai/api/openapi/queue/openapi.json?endpoint_id=<id>`` (public, no key; the base
is ``$FALSTUDIO_OPENAPI_URL`` when set), is kept on disk (:mod:`._schema_cache`) and is then used offline and by
later processes; :func:`refresh` fetches it again. This is the one place in ``endpoints`` that does I/O: a single
GET with the standard library (``urllib``, imported on first use), so importing falstudio stays cheap.
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
    note = _fetched(entry.fetched_at, entry.path) if entry.fetched_at else f"Schema saved by hand as {entry.path}."
    return spec_from_openapi(entry.document, endpoint_id, note=note)


def _fetch(endpoint_id: str) -> EndpointSpec:
    """GET the document, build the spec from it, and only then cache it (a broken document is never kept)."""
    import urllib.error
    import urllib.request

    from .._internal.version import VERSION

    url = openapi_url(endpoint_id)
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": f"falstudio/{VERSION}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
            body = reply.read(MAX_BYTES + 1)
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
    fetched_at = clock()
    spec = spec_from_openapi(document, endpoint_id, note=_fetched(fetched_at, cache.schema_path(endpoint_id)))
    cache.write(endpoint_id, document, url, fetched_at)  # only a document that built a spec is kept
    return spec


def _fetched(when: datetime, path: Path) -> str:
    return f"Schema fetched {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC (cached in {path})."
