"""Endpoint specs built from fal's OpenAPI document for an endpoint (the one fal's playground builds its form from).

The request model comes from the Input schema (field order from ``x-fal-order-properties``; types, enums,
defaults, bounds, required fields, ``anyOf`` with null, ``$ref`` objects, titles as labels, descriptions as help),
the output model from the result schema, the kind from ``info.x-fal-metadata.category``. fal's ``ImageSize`` object
becomes :class:`falstudio.endpoints.sizes.ImageSize`, so ``image_size: Literal[presets] | ImageSize`` looks the same
whichever way the endpoint was typed. Pure: the document comes in as a dict (:mod:`.loader` fetches and caches).
This module reads the document; ``_openapi_types`` builds the types, within ``_openapi_limits``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._base import ImageOutput, RequestModel
from ._openapi_limits import MAX_DEPTH as MAX_DEPTH
from ._openapi_limits import MAX_ENUM as MAX_ENUM
from ._openapi_limits import MAX_MODELS as MAX_MODELS
from ._openapi_limits import MAX_NODES as MAX_NODES
from ._openapi_limits import MAX_SCHEMAS, SchemaProblem
from ._openapi_types import OutputModel, TypeBuilder
from .registry import REGISTRY, EndpointSpec, Kind, UnknownEndpointError

KINDS: Mapping[str, Kind] = {"text-to-image": "text-to-image", "image-to-image": "image-edit"}


class EndpointSchemaError(UnknownEndpointError):
    """fal's schema for an unregistered endpoint could not be loaded or used, so falstudio cannot type it."""


class BadSchemaError(EndpointSchemaError):
    """fal's OpenAPI document for the endpoint is not one falstudio can build a request model from."""

    def __init__(self, endpoint_id: str, problem: str) -> None:
        super().__init__(
            endpoint_id,
            list(REGISTRY),
            f"Its OpenAPI document cannot be used ({problem}); nothing was cached. Send requests unchecked with "
            "client.subscribe(..., validate=False), or report the document if fal's playground shows the endpoint",
        )
        self.problem = problem


def spec_from_openapi(document: Mapping[str, Any], endpoint_id: str | None = None, *, note: str = "") -> EndpointSpec:
    """An :class:`EndpointSpec` typed from fal's OpenAPI ``document`` (no price: fal's schema carries none).

    ``endpoint_id`` defaults to the document's ``x-fal-metadata.endpointId``; a document for another endpoint
    is refused. Raises :class:`BadSchemaError` naming what is wrong.
    """
    meta = _metadata(document, endpoint_id)
    endpoint_id = endpoint_id or str(meta.get("endpointId") or "")
    if not endpoint_id:
        raise BadSchemaError("<unnamed>", "the document names no endpoint (info.x-fal-metadata.endpointId)")
    if not isinstance(document.get("openapi"), str):
        raise BadSchemaError(endpoint_id, "it is not an OpenAPI document (no 'openapi' version)")
    named = meta.get("endpointId")
    if named and named != endpoint_id:
        raise BadSchemaError(endpoint_id, f"the document is for {named!r}")
    components = document.get("components")
    schemas = components.get("schemas") if isinstance(components, Mapping) else None
    if not isinstance(schemas, Mapping):
        raise BadSchemaError(endpoint_id, "it has no components.schemas")
    input_ref, output_ref = _io_refs(document, endpoint_id)
    if input_ref is None:
        raise BadSchemaError(endpoint_id, f"it has no request schema (no POST /{endpoint_id} with a JSON body)")
    category = str(meta.get("category") or "")
    kind = KINDS.get(category, "other")
    if len(schemas) > MAX_SCHEMAS:
        raise BadSchemaError(endpoint_id, f"it defines {len(schemas):,} schemas, over the limit of {MAX_SCHEMAS:,}")
    builder = TypeBuilder(schemas)
    try:
        input_model = builder.model(input_ref, RequestModel, f"``{endpoint_id}``: typed from fal's OpenAPI schema.")
        if output_ref is not None:
            output_model = builder.model(output_ref, OutputModel, f"The output of ``{endpoint_id}`` (fal's schema).")
        else:
            output_model = ImageOutput if kind != "other" else OutputModel
    except SchemaProblem as exc:
        raise BadSchemaError(endpoint_id, str(exc)) from None
    except Exception as exc:  # a document is untrusted input: any shape it takes becomes a clear error
        raise BadSchemaError(endpoint_id, f"a schema has an unexpected shape ({type(exc).__name__}: {exc})") from exc
    docs = meta.get("documentationUrl") or meta.get("playgroundUrl") or f"https://fal.ai/models/{endpoint_id}/api"
    return EndpointSpec(
        endpoint_id,
        str(meta.get("displayName") or meta.get("display_name") or endpoint_id.split("/", 1)[-1]),
        kind,
        input_model,  # type: ignore[arg-type]  # built on RequestModel
        output_model,
        None,
        "active",
        str(docs),
        _note(category, kind, note),
        category=category,
    )


def _note(category: str, kind: Kind, extra: str) -> str:
    parts = [f"Typed from fal's OpenAPI schema (category {category or 'unknown'}); no price known."]
    if kind == "other":
        parts.append(
            f"falstudio's widgets and offline server are made for images; this endpoint is "
            f"{category or 'of an unknown category'}, so results may not show."
        )
    if extra:
        parts.append(extra)
    return " ".join(parts)


def _metadata(document: Mapping[str, Any], endpoint_id: str | None) -> Mapping[str, Any]:
    if not isinstance(document, Mapping):
        raise BadSchemaError(endpoint_id or "<unnamed>", f"the document is a {type(document).__name__}, not an object")
    info = document.get("info")
    meta = info.get("x-fal-metadata") if isinstance(info, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def _io_refs(document: Mapping[str, Any], endpoint_id: str) -> tuple[str | None, str | None]:
    """The ``$ref``\\ s of the request body (``POST /<id>``) and of the result (``GET .../requests/{request_id}``)."""
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return None, None
    posts = {
        p: op["post"] for p, op in paths.items() if isinstance(op, Mapping) and isinstance(op.get("post"), Mapping)
    }
    post = posts.get(f"/{endpoint_id}") or (next(iter(posts.values())) if len(posts) == 1 else None)
    input_ref = _json_ref(post.get("requestBody")) if post else None
    owner_app = "/".join(endpoint_id.split("/")[:2])
    results = [f"/{endpoint_id}/requests/{{request_id}}", f"/{owner_app}/requests/{{request_id}}"]
    output_ref = None
    for path in results:
        get = paths.get(path, {}).get("get") if isinstance(paths.get(path), Mapping) else None
        if isinstance(get, Mapping):
            output_ref = _json_ref((get.get("responses") or {}).get("200"))
            break
    return input_ref, output_ref


def _json_ref(part: Any) -> str | None:
    try:
        ref = part["content"]["application/json"]["schema"]["$ref"]
    except (KeyError, TypeError):
        return None
    return ref if isinstance(ref, str) else None
