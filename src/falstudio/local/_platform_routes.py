"""fal's Platform API offline (``/v1``): the catalog, prices, estimates, keys and usage, in fal's shapes.

``/v1/models`` lists the registry and the endpoints typed from cached schemas; prices come from the registry's
tables (GPT Image as fal lists it: ``$1`` per ``"units"``) and from fal's unit prices falstudio keeps; keys
minted here are accepted by the queue API until revoked; usage is read from this server's job log, per key
alias. Errors use fal's envelope ``{"error": {"type", "message"}}``. Admin calls need the server's own key.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import endpoints
from .._internal.errors import FalstudioError
from ..endpoints import loader, unit_pricing
from ..endpoints.registry import EndpointSpec
from ._http import Routes, backend_of, json_body

router = Routes("/v1")
DEFAULT_LIMIT = 50
MAX_IDS = 50
MAX_QUANTITY = 1e9  # NaN and infinity fail the range check too
MAX_KEYS = 10_000  # a class, or a school, not an unbounded list in memory
_CATEGORY = {"text-to-image": "text-to-image", "image-edit": "image-to-image"}


class PlatformRefusal(FalstudioError):
    """An error answered in fal's Platform API envelope."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status, self.type, self.message = status, type_, message


async def refusal_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PlatformRefusal)
    return JSONResponse({"error": {"type": exc.type, "message": exc.message}}, status_code=exc.status)


def _auth(request: Request, *, admin: bool = False) -> None:
    backend = backend_of(request)
    header = request.headers.get("authorization")
    if backend.key_problem(header):
        raise PlatformRefusal(401, "authorization_error", "Authentication required")
    if admin and backend.keys.alias_of((header or "").partition(" ")[2].strip()) is not None:
        raise PlatformRefusal(403, "authorization_error", "Access denied: this needs the Admin API key")


def _ids(request: Request, name: str = "endpoint_id") -> list[str]:
    ids = [part.strip() for value in request.query_params.getlist(name) for part in value.split(",") if part.strip()]
    if len(ids) > MAX_IDS:
        raise PlatformRefusal(400, "validation_error", f"{name}: at most {MAX_IDS} values")
    return ids


def _page(request: Request, items: list[Any]) -> tuple[list[Any], str | None]:
    raw_limit = request.query_params.get("limit") or str(DEFAULT_LIMIT)
    cursor = request.query_params.get("cursor")
    try:
        limit = int(raw_limit)
        page = int(base64.b64decode(cursor, validate=True)) if cursor else 1
    except (ValueError, binascii.Error):
        raise PlatformRefusal(400, "validation_error", "Invalid request parameters: limit or cursor") from None
    if limit < 1 or page < 1:
        raise PlatformRefusal(400, "validation_error", "Invalid request parameters: limit and cursor start at 1")
    chunk = items[(page - 1) * limit : page * limit]
    more = len(items) > page * limit
    return chunk, base64.b64encode(str(page + 1).encode()).decode() if more else None


def _known() -> list[EndpointSpec]:
    """The registry, then endpoints typed from a cached schema (loaded in this process or on disk)."""
    found = {s.id: s for s in endpoints.specs()}
    for endpoint_id in loader.cached_ids():
        if endpoint_id not in found and (spec := endpoints.find(endpoint_id)) is not None:
            found[endpoint_id] = spec
    return list(found.values())


def _metadata(spec: EndpointSpec) -> dict[str, Any]:
    status = "active" if spec.status_on() == "active" else "deprecated"  # fal's enum has these two
    category = spec.category or _CATEGORY.get(spec.kind, "")
    metadata: dict[str, Any] = {
        "display_name": spec.title,
        "category": category,
        "description": spec.note_on() or spec.title,
        "status": status,
        "tags": ["offline"] + (["streaming"] if spec.streaming else []),
        "updated_at": "2026-12-01T00:00:00Z",
        "is_favorited": None,
        "thumbnail_url": "",
        "model_url": f"https://fal.run/{spec.id}",
        "date": "2026-01-01T00:00:00Z",
        "highlighted": False,
        "pinned": False,
        "kind": "inference",
    }
    if spec.streaming:
        metadata["stream_url"] = f"https://fal.run/{spec.id}/stream"
    return metadata


def _openapi(spec: EndpointSpec) -> dict[str, Any]:
    """The cached fal document, else one written from the request model (queue OpenAPI's shape)."""
    cached = loader.document(spec.id)
    if cached is not None:
        return cached
    schema = spec.input_model.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    name = spec.input_model.__name__
    return {
        "openapi": "3.0.4",
        "info": {
            "title": f"Queue OpenAPI for {spec.id}",
            "version": "1.0.0",
            "x-fal-metadata": {"endpointId": spec.id, "category": _metadata(spec)["category"]},
        },
        "components": {"schemas": {**defs, name: schema}},
        "paths": {
            f"/{spec.id}": {
                "post": {
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                    }
                }
            }
        },
        "servers": [{"url": "https://queue.fal.run"}],
    }


@router.get("/models")
async def models(request: Request) -> JSONResponse:
    params = request.query_params
    ids = _ids(request)
    q, category, status = (params.get("q") or "").lower(), params.get("category"), params.get("status")
    if status not in (None, "active", "deprecated"):
        raise PlatformRefusal(400, "validation_error", "status must be 'active' or 'deprecated'")
    known = {s.id: s for s in _known()}
    chosen: list[EndpointSpec | str] = [known.get(i, i) for i in ids] if ids else list(known.values())
    rows: list[dict[str, Any]] = []
    for item in chosen:
        if isinstance(item, str):  # an id with no entry: fal answers it without metadata
            rows.append({"endpoint_id": item})
            continue
        meta = _metadata(item)
        text = " ".join((item.id, meta["display_name"], meta["description"], meta["category"])).lower()
        if (
            (q and q not in text)
            or (category and meta["category"] != category)
            or (status and meta["status"] != status)
        ):
            continue
        rows.append({"endpoint_id": item.id, "metadata": meta})
    page, cursor = _page(request, rows)
    if "openapi-3.0" in params.getlist("expand"):
        page = [{**row, "openapi": _openapi(known[row["endpoint_id"]])} if "metadata" in row else row for row in page]
    return JSONResponse({"models": page, "next_cursor": cursor, "has_more": cursor is not None})


def _price(endpoint_id: str) -> dict[str, Any] | None:
    spec = endpoints.find(endpoint_id)
    if spec is not None and spec.prices is not None:  # token-billed, as fal lists GPT Image 2 (observed)
        return {"endpoint_id": endpoint_id, "unit_price": 1, "unit": "units", "currency": "USD"}
    price = unit_pricing.price_of(endpoint_id)
    return price.as_json() if price is not None else None


@router.get("/models/pricing")
async def pricing(request: Request) -> JSONResponse:
    _auth(request)
    ids = _ids(request)
    if not ids:
        raise PlatformRefusal(400, "validation_error", "endpoint_id is required (1-50 ids)")
    prices = [row for i in ids if (row := _price(i)) is not None]
    return JSONResponse({"prices": prices, "next_cursor": None, "has_more": False})


def _per_call(endpoint_id: str) -> Decimal:
    """What one call with the endpoint's defaults costs (the offline stand-in for fal's historical price)."""
    spec = endpoints.find(endpoint_id)
    if spec is None:
        raise PlatformRefusal(404, "not_found", f"Unknown endpoint: {endpoint_id}")
    try:
        estimate = spec.estimate_cost({"prompt": "a photo"})
    except ValueError:
        estimate = None
    return estimate.amount if estimate is not None and estimate.known else Decimal(0)


@router.post("/models/pricing/estimate")
async def estimate(request: Request) -> JSONResponse:
    _auth(request)
    body = await json_body(request, 1024 * 1024)
    kind = body.get("estimate_type") if isinstance(body, Mapping) else None
    wanted = body.get("endpoints") if isinstance(body, Mapping) else None
    field = {"unit_price": "unit_quantity", "historical_api_price": "call_quantity"}.get(str(kind))
    if field is None or not isinstance(wanted, Mapping) or not wanted:
        raise PlatformRefusal(400, "validation_error", "estimate_type and endpoints are required")
    total = Decimal(0)
    for endpoint_id, ask in wanted.items():
        quantity = ask.get(field) if isinstance(ask, Mapping) else None
        if isinstance(quantity, bool) or not isinstance(quantity, (int, float)) or not 0 < quantity <= MAX_QUANTITY:
            raise PlatformRefusal(
                400, "validation_error", f"endpoints.{endpoint_id}.{field} must be a number > 0 and <= {MAX_QUANTITY:g}"
            )
        if kind == "unit_price":
            row = _price(endpoint_id)
            if row is None:
                raise PlatformRefusal(404, "not_found", f"No price for endpoint: {endpoint_id}")
            total += Decimal(str(row["unit_price"])) * Decimal(str(quantity))
        else:
            total += _per_call(endpoint_id) * int(quantity)
    return JSONResponse({"estimate_type": kind, "total_cost": float(round(total, 2)), "currency": "USD"})


@router.get("/keys")
async def list_keys(request: Request) -> JSONResponse:
    _auth(request, admin=True)
    page, cursor = _page(request, [k.listed() for k in backend_of(request).keys.listed()])
    return JSONResponse({"keys": page, "next_cursor": cursor, "has_more": cursor is not None})


@router.post("/keys")
async def create_key(request: Request) -> JSONResponse:
    _auth(request, admin=True)
    body = await json_body(request, 64 * 1024)
    alias = body.get("alias") if isinstance(body, Mapping) else None
    if not isinstance(alias, str) or not 1 <= len(alias) <= 255:
        raise PlatformRefusal(400, "validation_error", "alias is required (1-255 characters)")
    keys = backend_of(request).keys
    if len(keys.listed()) >= MAX_KEYS:
        raise PlatformRefusal(400, "validation_error", f"this local server keeps at most {MAX_KEYS} keys; revoke some")
    key = keys.mint(alias)
    reply = {"key_id": key.key_id, "key_secret": key.secret, "key": f"{key.key_id}:{key.secret}"}
    return JSONResponse(reply, status_code=201)


@router.delete("/keys/{key_id}")
async def delete_key(request: Request, key_id: str) -> Response:
    _auth(request, admin=True)
    backend_of(request).keys.revoke(key_id)
    return Response(status_code=204)


def _when(value: str | None, default: datetime) -> datetime:
    if not value:
        return default
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PlatformRefusal(400, "validation_error", f"not an ISO 8601 date: {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@router.get("/models/usage")
async def usage(request: Request) -> JSONResponse:
    """Each finished job of this server, priced by the registry's tables as fal would bill it (the offline
    server bills nothing), summed by endpoint and key alias."""
    _auth(request, admin=True)
    expand = set(request.query_params.getlist("expand")) or {"time_series"}
    if not expand & {"summary", "time_series"}:
        raise PlatformRefusal(400, "validation_error", "At least one of 'time_series' or 'summary' is required.")
    now = datetime.now(UTC)
    start = _when(request.query_params.get("start"), now - timedelta(hours=24))
    end = _when(request.query_params.get("end"), now)
    ids = set(_ids(request))
    lines: dict[tuple[str, str], dict[str, Any]] = {}
    backend = backend_of(request)
    wall_minus_monotonic = time.time() - time.monotonic()
    for job in backend.queue.jobs():
        when = datetime.fromtimestamp(wall_minus_monotonic + job.submitted_at, UTC)
        if job.output is None or not start <= when < end or (ids and job.endpoint_id not in ids):
            continue
        spec = endpoints.find(job.endpoint_id)
        cost = spec.estimate_cost(job.request) if spec is not None else None
        priced = cost is not None and cost.known
        line = lines.setdefault(
            (backend.keys.alias_for(job.id), job.endpoint_id),
            {
                "endpoint_id": job.endpoint_id,
                "unit": "units" if priced else "images",
                "quantity": Decimal(0),
                "unit_price": 1 if priced else 0,
                "percent_discount": None,
                "currency": "USD",
            },
        )
        line["quantity"] += cost.amount if priced and cost is not None else Decimal(len(job.output.get("images", [])))
    results = []
    for (alias, _endpoint), line in sorted(lines.items()):
        total = float(line["quantity"] * line["unit_price"])
        quantity = float(line.pop("quantity"))
        item = {**line, "quantity": quantity, "cost_subtotal": total, "cost_discount": 0, "cost_total": total}
        item["cost"] = total
        if "auth_method" in expand:
            item["auth_method"] = alias
        results.append(item)
    reply: dict[str, Any] = {"next_cursor": None, "has_more": False}
    if "summary" in expand:
        reply["summary"] = results
    if "time_series" in expand:
        reply["time_series"] = [{"bucket": start.isoformat(), "results": results}] if results else []
    return JSONResponse(reply)
