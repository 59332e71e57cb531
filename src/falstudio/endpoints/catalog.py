"""fal's model catalog (Platform API ``GET /v1/models``): find endpoints by text, category and status.

>>> import falstudio as fs
>>> [e.display_name for e in fs.endpoints.search("gpt image", category="text-to-image")]

Each page asks for the schemas too (``expand=openapi-3.0``), so every entry arrives typed by the same OpenAPI
builder as :func:`falstudio.endpoints.get` (and its document goes to the same disk cache): forty models cost a
few requests, not forty. Anonymous calls are allowed (fal rate-limits them harder). Results are kept on disk
with their date and reused for :data:`MAX_AGE`; without a network an older copy is used and says so. The base
URL is ``$FALSTUDIO_PLATFORM_URL`` (e.g. a local server's ``/v1``), else fal's ``https://api.fal.ai/v1``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .._internal.errors import FalstudioError, FalstudioWarning
from . import _schema_cache, dated, loader
from .lifecycle import STATUSES
from .openapi import BadSchemaError, spec_from_openapi
from .registry import REGISTRY, EndpointSpec

URL_ENV = "FALSTUDIO_PLATFORM_URL"
DEFAULT_URL = "https://api.fal.ai/v1"
MAX_AGE = timedelta(hours=24)
PAGE_LIMIT = 10  # observed: fal answers at most 10 models a page when schemas are expanded
MAX_PAGES = 100
TIMEOUT_SECONDS = 30.0
MAX_BYTES = 64 * 1024 * 1024
FACTS = "catalog-facts"  # per endpoint id: status, streaming, display name (for later processes)

# (path, query parameters) -> the reply's JSON; raises PlatformReplyError for an error reply
FetchPage = Callable[[str, Sequence[tuple[str, str]]], Mapping[str, Any]]


class PlatformReplyError(FalstudioError, RuntimeError):
    """fal's Platform API refused or failed a call; ``type`` is the ``error.type`` of fal's error envelope."""

    def __init__(self, status: int, type_: str, message: str, url: str = "") -> None:
        where = f" ({url})" if url else ""
        super().__init__(f"fal's Platform API answered HTTP {status} {type_}: {message}{where}")
        self.status, self.type, self.error_message = status, type_, message


class CatalogTruncatedWarning(FalstudioWarning, UserWarning):
    """A catalog search had more pages than falstudio reads: the list holds the first ones only."""


class CatalogUnavailableError(FalstudioError, ConnectionError):
    """fal's catalog could not be reached and no earlier answer to the search is kept."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"fal's catalog at {platform_url()} could not be reached ({problem}) and no earlier answer to this search "
            f"is kept. Fix: retry with a network connection; offline, point ${URL_ENV} at a falstudio local server's "
            "/v1 (or use falstudio.client.Platform().search(...), which uses it when there is no key)"
        )


def platform_url() -> str:
    """The Platform API base: ``$FALSTUDIO_PLATFORM_URL``, else fal's."""
    return (os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def error_of(status: int, body: Any, reason: str = "") -> tuple[str, str]:
    """``(type, message)`` from fal's error envelope ``{"error": {"type", "message"}}`` (any body tolerated)."""
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("message"), str):
        return str(error.get("type") or "error"), error["message"]
    detail = body.get("detail") if isinstance(body, Mapping) else None
    return "error", str(detail or reason or f"HTTP {status}")


@dataclass(frozen=True)
class CatalogEntry:
    """One endpoint as fal's catalog lists it. ``spec`` is it typed from its schema (None: ``problem`` says why);
    a registered endpoint's ``spec`` is the hand-written one. ``status`` is ``""`` for an id fal has no entry for."""

    id: str
    display_name: str
    category: str
    status: str
    tags: tuple[str, ...]
    thumbnail_url: str
    description: str = ""
    model_url: str = ""
    streaming: bool = False
    spec: EndpointSpec | None = None
    problem: str = ""
    fetched_at: datetime | None = None

    @property
    def known(self) -> bool:
        """fal's catalog has an entry (``metadata``) for this id."""
        return bool(self.status)

    def label(self) -> str:
        """``Display name — id · category``, with ``(deprecated)`` when it is."""
        text = f"{self.display_name} — {self.id}" + (f" · {self.category}" if self.category else "")
        return text + ("" if self.status in ("active", "") else f" ({self.status})")

    def __str__(self) -> str:  # an entry stands for its endpoint id (sweeps, Compare's endpoint axis)
        return self.id


def query(
    q: str | None = None,
    category: str | None = None,
    status: str | None = None,
    endpoint_ids: Sequence[str] = (),
    *,
    schemas: bool = True,
) -> list[tuple[str, str]]:
    """The query parameters of a ``GET /models`` search (array values as repeated keys, as fal's spec says)."""
    if status is not None and status not in ("active", "deprecated"):
        raise ValueError(f"status must be 'active' or 'deprecated' (or None for both), got {status!r}")
    params = [("endpoint_id", e) for e in endpoint_ids]
    params += [(name, value) for name, value in (("q", q), ("category", category), ("status", status)) if value]
    if schemas:
        params.append(("expand", "openapi-3.0"))
    params.append(("limit", str(PAGE_LIMIT)))
    return params


def collect(fetch_page: FetchPage, params: Sequence[tuple[str, str]], max_pages: int | None = None) -> list[Any]:
    """Every model of a search, page after page (``cursor`` = the previous ``next_cursor``, kept opaque), up to
    ``max_pages`` (:data:`MAX_PAGES`) with a :class:`CatalogTruncatedWarning` past it."""
    max_pages = max_pages or MAX_PAGES
    models: list[Any] = []
    cursor: str | None = None
    for _ in range(max_pages):
        page = fetch_page("/models", [*params, *([("cursor", cursor)] if cursor else [])])
        found = page.get("models")
        if not isinstance(found, list):
            raise PlatformReplyError(200, "bad_reply", "the catalog reply has no 'models' list")
        models += found
        cursor = page.get("next_cursor") if page.get("has_more") else None
        if not isinstance(cursor, str) or not cursor:
            return models
    # a search this broad (or a cursor that never ends): a shorter list that says so, not one silently cut
    warnings.warn(
        f"fal's catalog had more than {max_pages} pages for this search; showing the first {len(models)} models "
        "(narrow it with a search text, a category or a status)",
        CatalogTruncatedWarning,
        stacklevel=2,
    )
    return models


def entries_from(
    models: Sequence[Any], fetched_at: datetime | None = None, url: str = "", *, fresh: bool = True
) -> list[CatalogEntry]:
    """Catalog entries for fal's ``models`` list, each typed from its embedded schema where there is one.

    Schemas that build a spec are cached like :func:`falstudio.endpoints.get`'s (``fresh=False``: a kept reply,
    whose specs are loaded or on disk already). fal's ``deprecated`` marks a spec deprecated, here and in later
    processes; a registered endpoint keeps its own lifecycle (its dates and successor win).
    """
    entries = []
    facts: dict[str, dict[str, Any]] = {}
    for model in models:
        if not isinstance(model, Mapping) or not isinstance(model.get("endpoint_id"), str):
            continue
        endpoint_id: str = model["endpoint_id"]
        raw_meta = model.get("metadata")
        meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, Mapping) else {}
        status = str(meta.get("status") or "")
        streaming = bool(meta.get("stream_url"))
        name = str(meta.get("display_name") or "")
        spec = None if fresh or endpoint_id in REGISTRY else loader.cached(endpoint_id)
        problem = ""
        if spec is None:
            spec, problem = _spec_of(endpoint_id, model.get("openapi"), status, streaming, fetched_at, url, name)
        if meta and spec is not None and endpoint_id not in REGISTRY:
            facts[endpoint_id] = {"status": status, "streaming": spec.streaming, "display_name": name}
        if spec is not None and endpoint_id in REGISTRY:
            status = spec.status_on()
        tags = meta.get("tags")
        entries.append(
            CatalogEntry(
                endpoint_id,
                str(meta.get("display_name") or (spec.title if spec else endpoint_id)),
                str(meta.get("category") or (spec.category if spec else "")),
                status,
                tuple(str(t) for t in tags) if isinstance(tags, list) else (),
                str(meta.get("thumbnail_url") or ""),
                str(meta.get("description") or ""),
                str(meta.get("model_url") or ""),
                streaming or bool(spec and spec.streaming),
                spec,
                problem if spec is None else "",
                fetched_at,
            )
        )
    if facts:
        _remember_facts(facts)
    return entries


def _spec_of(
    endpoint_id: str, document: Any, status: str, streaming: bool, fetched_at: datetime | None, url: str, name: str
) -> tuple[EndpointSpec | None, str]:
    if endpoint_id in REGISTRY:
        return REGISTRY[endpoint_id], ""
    if not _schema_cache.is_endpoint_id(endpoint_id):
        return None, "not a fal endpoint id"
    if not isinstance(document, Mapping) or "openapi" not in document:
        error = document.get("error") if isinstance(document, Mapping) else None
        why = error.get("message") if isinstance(error, Mapping) else None
        cached = loader.cached(endpoint_id)
        return (cached, "") if cached is not None else (None, f"fal sent no schema ({why or 'not expanded'})")
    try:
        spec = spec_from_openapi(document, endpoint_id, note="Schema from fal's catalog.")
    except BadSchemaError as exc:
        return None, str(exc)
    _schema_cache.write(endpoint_id, dict(document), url or platform_url(), fetched_at)
    paths = document.get("paths")
    streaming = streaming or (isinstance(paths, Mapping) and f"/{endpoint_id}/stream" in paths)  # the schema says so
    return loader.put(_apply(spec, {"status": status, "streaming": streaming, "display_name": name})), ""


def _apply(spec: EndpointSpec, facts: Mapping[str, Any]) -> EndpointSpec:
    """``spec`` with what fal's catalog says of it: its display name, streaming, and a deprecation."""
    streaming = spec.streaming or bool(facts.get("streaming"))
    spec = dataclasses.replace(spec, streaming=streaming, title=str(facts.get("display_name") or spec.title))
    if facts.get("status") == "deprecated":
        spec = dataclasses.replace(spec, status="deprecated", note=f"fal's catalog marks it deprecated. {spec.note}")
    return spec


def _remember_facts(facts: Mapping[str, Mapping[str, Any]]) -> None:
    stored = dated.read(FACTS)
    known = dict(stored.data) if stored is not None and isinstance(stored.data, dict) else {}
    if any(known.get(i) != f for i, f in facts.items()):
        dated.write(FACTS, {**known, **facts})


def with_catalog_facts(spec: EndpointSpec) -> EndpointSpec:
    """``spec`` (typed from a cached schema) with what fal's catalog said of it when last searched."""
    stored = dated.read(FACTS)
    facts = stored.data.get(spec.id) if stored is not None and isinstance(stored.data, dict) else None
    return _apply(spec, facts) if isinstance(facts, dict) else spec


def ordered(entries: Sequence[CatalogEntry]) -> list[CatalogEntry]:
    """Live first, then deprecated, then retired, then ids fal has no entry for; otherwise as fal listed them."""
    rank: dict[str, int] = {s: i for i, s in enumerate(STATUSES)}
    return sorted(entries, key=lambda e: rank.get(e.status, len(rank)))


def search(
    q: str | None = None,
    category: str | None = None,
    status: str | None = None,
    *,
    endpoint_ids: Sequence[str] = (),
    refresh: bool = False,
    max_age: timedelta = MAX_AGE,
    fetch_page: FetchPage | None = None,
) -> list[CatalogEntry]:
    """Endpoints in fal's catalog matching ``q`` (free text), ``category`` (``text-to-image``...) and ``status``
    (``active``/``deprecated``; None: both), live first, each with its spec. A copy younger than ``max_age`` is
    reused unless ``refresh``; when fal cannot be reached an older copy is used."""
    params = query(q, category, status, endpoint_ids)
    name = "catalog-" + hashlib.sha256(json.dumps(params).encode()).hexdigest()[:20]
    stored = dated.read(name)
    if stored is not None and not refresh and stored.age_seconds() < max_age.total_seconds():
        return ordered(entries_from(stored.data, stored.fetched_at, fresh=False))
    try:
        models = collect(fetch_page or _urllib_page, params)
    except (PlatformReplyError, OSError) as exc:
        if stored is None and isinstance(exc, PlatformReplyError):
            raise
        if stored is None:
            raise CatalogUnavailableError(str(exc).splitlines()[0]) from exc
        return ordered(entries_from(stored.data, stored.fetched_at, fresh=False))
    kept = dated.write(name, models)
    return ordered(entries_from(models, kept.fetched_at))


def _urllib_page(path: str, params: Sequence[tuple[str, str]]) -> Mapping[str, Any]:
    """One anonymous GET with the standard library (like :mod:`.loader`; keyed calls go through the client)."""
    import urllib.error
    import urllib.parse
    import urllib.request

    from .._internal.version import VERSION

    url = f"{platform_url()}{path}?{urllib.parse.urlencode(list(params))}"
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": f"falstudio/{VERSION}"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:
            body = reply.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        try:
            error = json.loads(exc.read(1024 * 1024))
        except ValueError:
            error = None
        raise PlatformReplyError(exc.code, *error_of(exc.code, error, str(exc.reason)), url=url) from None
    if len(body) > MAX_BYTES:
        raise PlatformReplyError(200, "bad_reply", f"the reply is larger than {MAX_BYTES // 2**20} MiB", url)
    try:
        page: Any = json.loads(body)
    except ValueError as exc:
        raise PlatformReplyError(200, "bad_reply", f"the reply is not JSON ({exc})", url) from None
    except RecursionError:
        raise PlatformReplyError(
            200, "bad_reply", "the reply is JSON nested too deeply to be a catalog page", url
        ) from None
    if not isinstance(page, Mapping):
        raise PlatformReplyError(200, "bad_reply", "the reply is not a JSON object", url)
    return page
