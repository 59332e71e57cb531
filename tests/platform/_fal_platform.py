"""A fal-shaped Platform API on loopback (``/v1``), every reply checked against fal's own spec.

The shapes come from ``fal-platform-openapi.json`` (shared docs): pages of ``models`` with ``next_cursor`` /
``has_more`` (cursor = base64 of the page number, as fal's example ``Mg==``), ``expand=openapi-3.0`` schemas,
an unknown id answered without ``metadata``, ``/models/pricing`` and ``/models/pricing/estimate`` needing a key,
the estimate rate-limited after three calls, and every error in fal's envelope. Replies that do not match the
spec's response schema are collected in ``problems`` (a test asserts there are none).
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from jsonschema import Draft202012Validator

from falstudio.testing import LoopbackServer, QuietHandler

from ..openapi._documents import PRESETS, REF, _enum, _image_urls, _num_images, _prompt, fal_document

# fal's spec (https://api.fal.ai/v1/openapi.json), the paths falstudio uses, copied from the shared docs
SPEC = json.loads((Path(__file__).with_name("fal-platform-openapi.json")).read_text())
KEY = "fake_key_id:fake_key_secret"
PAGE = 2  # answer at most this many models a page, so every search spans pages

_SIZE = {
    "anyOf": [{"$ref": f"{REF}ImageSize"}, {"enum": ["auto", *PRESETS], "type": "string"}],
    "title": "Image Size",
    "default": "landscape_4_3",
}
FLUX = "fal-ai/flux/dev"
FLARE = "openai/gpt-image-2.5/flare/text-to-image"
FLARE_EDIT = "openai/gpt-image-2.5/flare/edit"
OLD = "fal-ai/old-model"
BROKEN = "fal-ai/no-schema"
_QUALITY_25 = _enum("Quality", ["auto", "low", "medium", "high", "xhigh", "max"], "high", "Quality")


def _meta(name: str, category: str, status: str = "active", **extra: Any) -> dict[str, Any]:
    return {
        "display_name": name,
        "category": category,
        "description": f"{name}, a test model",
        "status": status,
        "tags": ["new"],
        "updated_at": "2026-09-08T00:00:00Z",
        "is_favorited": None,
        "thumbnail_url": f"https://fal.media/files/{name.replace(' ', '-').lower()}.jpg",
        "model_url": "https://fal.run/x",
        "date": "2026-09-08T00:00:00Z",
        "highlighted": False,
        "pinned": False,
        **extra,
    }


def image_model(endpoint_id: str, name: str) -> dict[str, Any]:
    """A text-to-image catalog entry with its schema (prompt, size, count)."""
    props = {"prompt": _prompt(), "image_size": _SIZE, "num_images": _num_images()}
    schema = "".join(part.title() for part in re.split(r"[^A-Za-z0-9]+", endpoint_id.split("/", 1)[1]))
    document = fal_document(endpoint_id, "text-to-image", schema, props, ["prompt"])
    return {"endpoint_id": endpoint_id, "metadata": _meta(name, "text-to-image"), "openapi": document}


def _flare(edit: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"prompt": _prompt(2, 32000)}
    if edit:
        props["image_urls"] = _image_urls(16)
    props |= {"image_size": _SIZE, "quality": _QUALITY_25, "num_images": _num_images()}
    endpoint = FLARE_EDIT if edit else FLARE
    category = "image-to-image" if edit else "text-to-image"
    document = fal_document(endpoint, category, "Flare" + ("Edit" if edit else ""), props, ["prompt"])
    if edit:  # the edit endpoint's catalog entry has no stream_url: its schema lists the stream path
        document["paths"][f"/{endpoint}/stream"] = {"post": document["paths"][f"/{endpoint}"]["post"]}
    return document


MODELS: list[dict[str, Any]] = [
    image_model(FLUX, "FLUX.1 [dev]"),
    {
        "endpoint_id": OLD,
        "metadata": _meta("Old Model", "text-to-image", "deprecated"),
        "openapi": fal_document(OLD, "text-to-image", "Old", {"prompt": _prompt()}, ["prompt"]),
    },
    {
        "endpoint_id": FLARE,
        "metadata": _meta("GPT Image 2.5 Flare", "text-to-image", stream_url=f"https://fal.run/{FLARE}/stream"),
        "openapi": _flare(edit=False),
    },
    {
        "endpoint_id": FLARE_EDIT,
        "metadata": _meta("GPT Image 2.5 Flare Edit", "image-to-image"),
        "openapi": _flare(True),
    },
    {
        "endpoint_id": BROKEN,
        "metadata": _meta("No Schema", "text-to-image"),
        "openapi": {"error": {"code": "expansion_failed", "message": "schema unavailable"}},
    },
    {"endpoint_id": "openai/gpt-image-2", "metadata": _meta("GPT Image 2", "text-to-image")},
]
PRICES = {
    FLUX: (0.025, "megapixels"),
    OLD: (0.04, "images"),
    FLARE: (1, "units"),
    "openai/gpt-image-2": (1, "units"),
}


def check_shape(path: str, method: str, status: int, body: Any) -> None:
    """Raise (jsonschema's ValidationError) unless ``body`` is what fal's spec says ``method path`` answers."""
    op = SPEC["paths"][path][method]
    Draft202012Validator(op["responses"][str(status)]["content"]["application/json"]["schema"]).validate(body)


class FalPlatform:
    """The fake on a free loopback port; ``url`` is its ``/v1`` base. ``hits`` counts calls by path."""

    def __init__(self, models: list[dict[str, Any]] | None = None, page: int = PAGE) -> None:
        self.catalog = MODELS if models is None else models
        self.page = page
        self.prices = dict(PRICES)
        self.hits: Counter[str] = Counter()
        self.queries: list[dict[str, list[str]]] = []
        self.problems: list[str] = []
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                fake.answer(self, "get")

            def do_POST(self) -> None:
                fake.answer(self, "post")

        self._server = LoopbackServer(Handler)
        self.url = f"{self._server.url}/v1"

    def close(self) -> None:
        self._server.close()

    def answer(self, handler: QuietHandler, method: str) -> None:
        url = urlsplit(handler.path)
        path = url.path.removeprefix("/v1")
        query = parse_qs(url.query)
        self.hits[path] += 1
        self.queries.append(query)
        keyed = handler.headers.get("authorization") == f"Key {KEY}"
        body = None
        if method == "post":
            body = json.loads(handler.rfile.read(int(handler.headers.get("content-length") or 0)) or b"{}")
        status, reply = self.route(path, query, body, keyed)
        spec_path = path if path in SPEC["paths"] else "/models"
        try:
            check_shape(spec_path, method, status, reply)
        except Exception as exc:
            self.problems.append(f"{method.upper()} {path} {status}: {exc}")
        handler.send_json(status, reply)

    def route(self, path: str, query: dict[str, list[str]], body: Any, keyed: bool) -> tuple[int, Any]:
        if path == "/models":
            return 200, self.models(query)
        if not keyed:
            return 401, {"error": {"type": "authorization_error", "message": "Authentication required"}}
        if path == "/models/pricing":
            ids = [i for v in query.get("endpoint_id", []) for i in v.split(",")]
            prices = [
                {"endpoint_id": i, "unit_price": self.prices[i][0], "unit": self.prices[i][1], "currency": "USD"}
                for i in ids
                if i in self.prices
            ]
            return 200, {"prices": prices, "next_cursor": None, "has_more": False}
        if path == "/models/pricing/estimate":
            if self.hits[path] > 3:
                return 429, {"error": {"type": "rate_limited", "message": "Rate limit exceeded"}}
            total = sum(self.prices[e][0] * q["unit_quantity"] for e, q in body["endpoints"].items())
            return 200, {"estimate_type": body["estimate_type"], "total_cost": round(total, 2), "currency": "USD"}
        return 404, {"error": {"type": "not_found", "message": "Resource not found"}}

    def models(self, query: dict[str, list[str]]) -> dict[str, Any]:
        ids = query.get("endpoint_id", [])
        known = {m["endpoint_id"]: m for m in self.catalog}
        if ids:
            rows = [copy.deepcopy(known.get(i, {"endpoint_id": i})) for i in ids]
        else:
            q = query.get("q", [""])[0].lower()
            category = query.get("category", [None])[0]
            rows = [
                copy.deepcopy(m)
                for m in self.catalog
                if q in json.dumps(m["metadata"]).lower() + m["endpoint_id"]
                and (category is None or m["metadata"]["category"] == category)
            ]
        if "openapi-3.0" not in query.get("expand", []):
            for row in rows:
                row.pop("openapi", None)
        page = int(base64.b64decode(query["cursor"][0])) if "cursor" in query else 1
        size = min(self.page, int(query.get("limit", [self.page])[0]))
        more = len(rows) > page * size
        cursor = base64.b64encode(str(page + 1).encode()).decode() if more else None
        return {"models": rows[(page - 1) * size : page * size], "next_cursor": cursor, "has_more": more}
