"""fal's Platform API (``https://api.fal.ai/v1``): the catalog, prices, estimates, keys and usage.

>>> platform = fs.client.Platform()            # FAL_KEY -> fal's Platform API; no key -> the offline server's
>>> platform.search("flux", category="text-to-image")
>>> platform.prices(["fal-ai/flux/dev"])        # kept on disk: estimates of that endpoint then use them

The same transport as :class:`~falstudio.client.AsyncClient` (httpx, :class:`RetryPolicy`, the key sent only to
the API's origin), and fal's error envelope ``{"error": {"type", "message"}}`` becomes the usual typed errors.
The base URL is ``$FALSTUDIO_PLATFORM_URL`` when set. Keys and usage (:mod:`._platform_admin`) need an ADMIN key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

import httpx

from falstudio.endpoints import catalog, dated, unit_pricing
from falstudio.endpoints.catalog import CatalogEntry
from falstudio.endpoints.unit_pricing import UnitPrice

from .._internal.capped import Cap
from . import _platform_admin as admin
from . import errors
from ._credentials import Key, Target, find_credentials, resolve
from ._platform_admin import AliasUsage, ApiKey, NewKey
from ._protocol import Hosts
from ._retry import NO_RETRY, RetryPolicy
from ._wire import Wire

T = TypeVar("T")
IDS_PER_CALL = 50  # fal's limit for endpoint_id lists
MAX_REPLY_BYTES = 32 * 1024 * 1024  # a page of models, keys or usage is KBs: a bigger reply is refused unread


@dataclass(frozen=True)
class PlatformEstimate:
    """fal's answer to ``POST /models/pricing/estimate`` (a total only), with when it was asked."""

    estimate_type: str
    total_cost: Decimal
    currency: str
    fetched_at: datetime

    def __str__(self) -> str:
        how = "unit price × units" if self.estimate_type == "unit_price" else "fal's historical price per call"
        return f"${self.total_cost} {self.currency} ({how}; fal's estimate of {self.fetched_at:%Y-%m-%d %H:%M} UTC)"


def _key(key: str | Key | None, *, login: bool = True) -> Key | None:
    if isinstance(key, Key):
        return key
    if key is not None:
        return Key(key, "key=") if key else None
    found = find_credentials(login=login)[0]  # a login token keeps its scheme: ``Bearer``, as fal-client sends it
    return Key(found.value, found.source, found.scheme) if found and found.value else None


def _target(key: str | Key | None, base_url: str | None) -> tuple[Target, str]:
    """Where the Platform API is: ``base_url``, ``$FALSTUDIO_PLATFORM_URL``, fal's with a key, else the offline
    server's ``/v1`` (as ``Client()`` without a key)."""
    explicit = base_url or (catalog.platform_url() if catalog.URL_ENV in os.environ else None)
    given = _key(key, login=explicit is None or Hosts.single(explicit).is_fal)  # a login token: fal's hosts only
    if explicit is None and given is None:
        local = resolve(None, None)  # the embedded offline server
        return Target(local.hosts, local.key, "local"), f"{local.base_url}/v1"
    base = (explicit or catalog.DEFAULT_URL).rstrip("/")
    hosts = Hosts.single(base)
    return Target(hosts, given, "local" if hosts.is_loopback else "fal"), base


def platform_error(response: httpx.Response, attempts: int = 1) -> errors.FalError:
    """The typed error for a non-2xx Platform API reply, from fal's error envelope."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: ``[[[[...``
        body = None
    type_, message = catalog.error_of(response.status_code, body, response.reason_phrase)
    code = response.status_code
    text = f"fal's Platform API: {message} ({response.request.method} {response.request.url.path})"
    context: dict[str, Any] = {"status_code": code, "error_type": type_}
    if code == 401:
        hint = "prices, estimates, keys and usage need a fal key: set FAL_KEY (or pass key=)"
        return errors.AuthError(text, **context, hint=hint)
    if code == 403:
        hint = "keys and usage need an ADMIN key (fal dashboard: Keys, scope ADMIN); an API key reads prices"
        return errors.AuthError(text, **context, hint=hint)
    if code == 404:
        return errors.NotFoundError(text, **context)
    if code == 429:
        tries = f" (tried {attempts} times)" if attempts > 1 else ""
        return errors.RateLimitedError(text + tries, **context, hint="wait a minute; estimates are cached on disk")
    if code >= 500:
        return errors.ServerError(text, **context)
    if code in (400, 422):
        return errors.InvalidRequestError(text, **context)
    return errors.FalError(text, **context)


class AsyncPlatform:
    """fal's Platform API with asyncio. ``key``: else FAL_KEY...; with none (and no ``base_url`` nor
    ``$FALSTUDIO_PLATFORM_URL``) the embedded offline server, which serves the same API."""

    def __init__(
        self,
        key: str | Key | None = None,
        *,
        base_url: str | None = None,
        timeout: float | None = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        target, self.base_url = _target(key, base_url)
        self._wire = Wire(target, timeout=timeout, retry=retry or RetryPolicy(), transport=transport)

    @property
    def has_key(self) -> bool:
        return self._wire.target.key is not None

    def __repr__(self) -> str:
        key = "set" if self.has_key else "none"
        return f"{type(self).__name__}(base_url={self.base_url!r}, key={key})"

    async def call(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        *,
        idempotent: bool = True,
    ) -> Any:
        """One call with retries; the reply's JSON (None for an empty one); fal's errors as typed errors."""
        what = f"{method} {path}"
        response = await self._wire.send(
            method,
            f"{self.base_url}{path}",
            endpoint=None,
            idempotent=idempotent,
            cap=Cap(MAX_REPLY_BYTES, lambda: _too_big(what)),
            error=platform_error,
            params=list(params),
            json=body,
        )
        if not response.content:
            return None
        try:
            return response.json()
        except (ValueError, RecursionError):
            raise errors.ServerError(f"fal's Platform API sent a reply that is not JSON ({method} {path})") from None

    async def search(
        self,
        q: str | None = None,
        category: str | None = None,
        status: str | None = None,
        *,
        endpoint_ids: Sequence[str] = (),
        refresh: bool = False,
        prices: bool = True,
    ) -> list[CatalogEntry]:
        """:func:`falstudio.endpoints.search` through this client (its key, base URL and retries); with a key
        (and ``prices``) the found endpoints' unit prices are fetched too, 50 ids a request."""
        loop = asyncio.get_running_loop()

        def fetch_page(path: str, params: Sequence[tuple[str, str]]) -> Mapping[str, Any]:
            page = asyncio.run_coroutine_threadsafe(self.call("GET", path, params), loop).result()
            if not isinstance(page, Mapping):
                raise errors.ServerError(f"fal's Platform API sent an unexpected reply to GET {path}")
            return page

        entries = await asyncio.to_thread(
            catalog.search, q, category, status, endpoint_ids=endpoint_ids, refresh=refresh, fetch_page=fetch_page
        )
        if prices and self.has_key:
            await self.prices([e.id for e in entries if e.known and e.spec is not None and e.spec.prices is None])
        return entries

    async def prices(self, endpoint_ids: Sequence[str], *, refresh: bool = False) -> list[UnitPrice]:
        """fal's unit prices for ``endpoint_ids`` (kept on disk with their date; those younger than a day are not
        asked again unless ``refresh``). Needs a key."""
        wanted = list(dict.fromkeys(endpoint_ids))
        known = {e: p for e in wanted if (p := unit_pricing.price_of(e)) is not None and not refresh and _fresh(p)}
        missing = [e for e in wanted if e not in known]
        for start in range(0, len(missing), IDS_PER_CALL):
            chunk = missing[start : start + IDS_PER_CALL]
            body = await self.call("GET", "/models/pricing", [("endpoint_id", e) for e in chunk])
            try:
                found = unit_pricing.parse_prices(body, dated.now())
            except ValueError as exc:
                raise errors.ServerError(f"fal's Platform API sent prices in an unexpected shape: {exc}") from None
            unit_pricing.remember(found)
            known.update((p.endpoint_id, p) for p in found)
        return [known[e] for e in wanted if e in known]

    async def estimate(
        self, *, units: Mapping[str, float] | None = None, calls: Mapping[str, int] | None = None
    ) -> PlatformEstimate:
        """fal's own estimate: ``units`` (endpoint -> billing units: unit price × units) or ``calls`` (endpoint ->
        number of calls: fal's historical price per call). fal rate-limits this call hard, so an answer is kept
        on disk for a day and reused for the same question."""
        if (units is None) == (calls is None):
            raise ValueError("estimate() takes units={endpoint: units} or calls={endpoint: calls}, one of them")
        if units is not None:
            body: dict[str, Any] = {
                "estimate_type": "unit_price",
                "endpoints": {e: {"unit_quantity": q} for e, q in units.items()},
            }
        else:
            body = {
                "estimate_type": "historical_api_price",
                "endpoints": {e: {"call_quantity": n} for e, n in (calls or {}).items()},
            }
        name = "estimate-" + hashlib.sha256(json.dumps([self.base_url, body], sort_keys=True).encode()).hexdigest()[:20]
        stored = dated.read(name)
        if stored is None or stored.age_seconds() >= catalog.MAX_AGE.total_seconds():
            reply = await self.call("POST", "/models/pricing/estimate", body=body)
            if not isinstance(reply, Mapping) or not isinstance(reply.get("total_cost"), (int, float)):
                raise errors.ServerError("fal's Platform API sent an estimate without a total_cost")
            stored = dated.write(name, dict(reply))
        data = stored.data
        return PlatformEstimate(
            str(data["estimate_type"]), Decimal(str(data["total_cost"])), str(data["currency"]), stored.fetched_at
        )

    async def list_keys(self) -> list[ApiKey]:
        """The account's API keys (ids, aliases, scope, creation time; never secrets). ADMIN key."""
        return await admin.list_keys(self)

    async def create_keys(
        self, aliases: Sequence[str], on_created: Callable[[NewKey], None] | None = None
    ) -> list[NewKey]:
        """One new API key per alias, each passed to ``on_created`` as it comes (fal shows a secret once; e.g.
        :class:`KeysFile`'s ``add``). ADMIN key."""
        return await admin.create_keys(self, aliases, on_created)

    async def revoke(self, alias: str | None = None, *, key_ids: Sequence[str] = ()) -> list[ApiKey]:
        """Revoke the keys whose alias matches ``alias`` (``'student-*'``) or whose id is in ``key_ids``."""
        return await admin.revoke(self, alias, key_ids=key_ids)

    async def usage(self, since: object = "24h", *, endpoint_ids: Sequence[str] = ()) -> list[AliasUsage]:
        """Spend per key alias since ``since`` (``"2h"``, ``"today"``, a date...). ADMIN key."""
        return await admin.usage(self, since, endpoint_ids=endpoint_ids)

    async def aclose(self) -> None:
        await self._wire.aclose()

    async def __aenter__(self) -> AsyncPlatform:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


_priced_once: set[str] = set()


def _too_big(what: str) -> errors.ServerError:
    return errors.ServerError(
        f"fal's Platform API sent {what} a reply of more than {MAX_REPLY_BYTES // 2**20} MiB; refused unread "
        "(check base_url points at fal's Platform API, https://api.fal.ai/v1)"
    )


async def price_once(wire: Wire, endpoint_id: str) -> None:
    """Fetch fal's unit price of an endpoint typed from its schema, once per process (then kept on disk), so its
    estimate and the budget count it; when fal does not answer, the estimate stays "no price known"."""
    key = wire.target.key
    if key is None or endpoint_id in _priced_once or unit_pricing.price_of(endpoint_id) is not None:
        return
    _priced_once.add(endpoint_id)
    platform = AsyncPlatform(key, timeout=wire.timeout, retry=NO_RETRY, transport=wire.transport)
    try:
        await platform.prices([endpoint_id])
    except errors.FalError:
        pass
    finally:
        await platform.aclose()


def _fresh(price: UnitPrice) -> bool:
    return price.fetched_at is not None and (dated.now() - price.fetched_at) < catalog.MAX_AGE


class Platform:
    """The blocking :class:`AsyncPlatform` (same arguments), run on falstudio's loop thread."""

    def __init__(self, key: str | Key | None = None, **options: Any) -> None:
        from ._loop import LOOP

        self._runner = LOOP
        self._async = AsyncPlatform(key, **options)
        self._runner.close_at_exit(self._async)

    @classmethod
    def of(cls, client: object) -> Platform:
        """The Platform API where ``client`` works: its local server's ``/v1`` (with its key), else fal's."""
        wire = getattr(getattr(client, "_async", client), "_wire", None)
        target: Target | None = getattr(wire, "target", None)
        if target is None:
            return cls()
        if target.mode == "local":
            return cls(target.key, base_url=f"{target.base_url}/v1")
        return cls(target.key)

    @property
    def base_url(self) -> str:
        return self._async.base_url

    @property
    def has_key(self) -> bool:
        return self._async.has_key

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncPlatform", "Platform", 1)

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coro)

    def search(
        self, q: str | None = None, category: str | None = None, status: str | None = None, **kw: Any
    ) -> list[CatalogEntry]:
        return self._run(self._async.search(q, category, status, **kw))

    def prices(self, endpoint_ids: Sequence[str], *, refresh: bool = False) -> list[UnitPrice]:
        return self._run(self._async.prices(endpoint_ids, refresh=refresh))

    def estimate(self, **kw: Any) -> PlatformEstimate:
        return self._run(self._async.estimate(**kw))

    def list_keys(self) -> list[ApiKey]:
        return self._run(self._async.list_keys())

    def create_keys(self, aliases: Sequence[str], on_created: Callable[[NewKey], None] | None = None) -> list[NewKey]:
        return self._run(self._async.create_keys(aliases, on_created))

    def revoke(self, alias: str | None = None, *, key_ids: Sequence[str] = ()) -> list[ApiKey]:
        return self._run(self._async.revoke(alias, key_ids=key_ids))

    def usage(self, since: object = "24h", *, endpoint_ids: Sequence[str] = ()) -> list[AliasUsage]:
        return self._run(self._async.usage(since, endpoint_ids=endpoint_ids))

    def close(self) -> None:
        self._run(self._async.aclose())
