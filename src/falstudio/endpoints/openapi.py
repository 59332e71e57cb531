"""Endpoint specs built from fal's OpenAPI document for an endpoint (the one fal's playground builds its form from).

The request model comes from the Input schema (field order from ``x-fal-order-properties``; types, enums,
defaults, bounds, required fields, ``anyOf`` with null, ``$ref`` objects, titles as labels, descriptions as help),
the output model from the result schema, the kind from ``info.x-fal-metadata.category``. fal's ``ImageSize`` object
becomes :class:`falstudio.endpoints.sizes.ImageSize`, so ``image_size: Literal[presets] | ImageSize`` looks the same
whichever way the endpoint was typed. Pure: the document comes in as a dict (:mod:`.loader` fetches and caches).
"""

from __future__ import annotations

import keyword
import re
import warnings
from collections.abc import Mapping
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, create_model

from ._base import ImageFile, ImageOutput, RequestModel
from .fields import is_secret_field
from .registry import REGISTRY, EndpointSpec, Kind, UnknownEndpointError
from .sizes import ImageSize

KINDS: Mapping[str, Kind] = {"text-to-image": "text-to-image", "image-to-image": "image-edit"}
_NUMBER_KEYS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt"}
_LENGTH_KEYS = {
    "minLength": "min_length",
    "maxLength": "max_length",
    "minItems": "min_length",
    "maxItems": "max_length",
}
_SCALARS: Mapping[str, type] = {"string": str, "integer": int, "number": float, "boolean": bool}
# A field named like a method falstudio calls would hide it (pydantic's deprecated v1 names may be shadowed).
_V1_NAMES = {
    "copy",
    "dict",
    "json",
    "schema",
    "schema_json",
    "validate",
    "construct",
    "from_orm",
    "update_forward_refs",
}
# Work allowed for one document: a hostile one whose ``$ref``\ s fan out or nest would otherwise take minutes and
# gigabytes. fal's real documents use a few dozen schemas, nested a few levels.
MAX_NODES = 20_000  # schemas visited
MAX_MODELS = 200  # object schemas turned into classes
MAX_SCHEMAS = 2_000  # schemas the document defines (counted before any work)
MAX_DEPTH = 48  # schemas nested inside each other
MAX_ENUM = 1_000  # values of one enum
_RESERVED = frozenset(n for n in dir(RequestModel) if not n.startswith("_") and n not in _V1_NAMES and "parse" not in n)


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


class _InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class _OutputModel(BaseModel):
    model_config = ConfigDict(extra="allow", protected_namespaces=())


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
    builder = _Builder(endpoint_id, schemas)
    try:
        input_model = builder.model(input_ref, RequestModel, f"``{endpoint_id}``: typed from fal's OpenAPI schema.")
        if output_ref is not None:
            output_model = builder.model(output_ref, _OutputModel, f"The output of ``{endpoint_id}`` (fal's schema).")
        else:
            output_model = ImageOutput if kind != "other" else _OutputModel
    except BadSchemaError:
        raise
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


class _Builder:
    """Turns the document's JSON schemas into pydantic types, each ``$ref`` model built once."""

    def __init__(self, endpoint_id: str, schemas: Mapping[str, Any]) -> None:
        self.endpoint_id = endpoint_id
        self.schemas = schemas
        self.built: dict[tuple[str, type[BaseModel]], Any] = {}
        self.named: dict[tuple[str, type[BaseModel]], tuple[Any, dict[str, Any], bool]] = {}  # each $ref once
        # How many schema nodes each typed $ref stands for once pydantic expands it: a $ref to a non-object schema
        # is inlined into every type using it (only models are shared), so refs that fan out grow exponentially.
        self.weights: dict[tuple[str, type[BaseModel]], int] = {}
        self.sizes: list[int] = [0]  # the expanded size of each type being built, innermost last
        self.building: set[str] = set()
        self.aliasing: set[str] = set()  # non-object schemas being resolved (a $ref cycle among them stops there)
        self.nodes = self.models = self.depth = 0

    def fail(self, problem: str) -> BadSchemaError:
        return BadSchemaError(self.endpoint_id, problem)

    def visit(self, where: str) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(f"it has more than {MAX_NODES:,} schemas to type (the limit), reached at {where}")

    def grow(self, where: str, size: int) -> None:
        """Count ``size`` expanded nodes into the type being built; refuse a type that would be too large."""
        self.sizes[-1] += size
        if self.sizes[-1] > MAX_NODES:
            raise self.fail(f"its $refs fan out: {where} would expand to more than {MAX_NODES:,} schemas (the limit)")
        if self.depth > MAX_DEPTH:
            raise self.fail(f"its schemas nest more than {MAX_DEPTH} levels deep (the limit), reached at {where}")

    def resolve(self, ref: str, where: str) -> tuple[str, Mapping[str, Any]]:
        name = ref.rsplit("/", 1)[-1]
        schema = self.schemas.get(name) if ref.startswith("#/components/schemas/") else None
        if not isinstance(schema, Mapping):
            raise self.fail(f"{where} refers to {ref}, which the document does not define")
        return name, schema

    def model(self, ref: str, base: type[BaseModel], doc: str) -> type[BaseModel]:
        name, schema = self.resolve(ref, "the endpoint")
        model = self._object(name, schema, base, doc)
        if not isinstance(model, type):
            raise self.fail(f"{name} is not an object schema")
        return model

    def _object(self, name: str, schema: Mapping[str, Any], base: type[BaseModel], doc: str | None = None) -> Any:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return dict[str, Any]
        self.models += 1
        if self.models > MAX_MODELS:
            raise self.fail(f"it has more than {MAX_MODELS} object schemas (the limit), reached at {name}")
        required = {r for r in schema.get("required") or () if isinstance(r, str)}
        order = [p for p in schema.get("x-fal-order-properties") or () if p in properties]
        order += [p for p in properties if p not in order]
        fields: dict[str, Any] = {}
        self.sizes.append(0)  # the model's fields: built once, the model is what types using it refer to
        try:
            for field in order:
                if (
                    not isinstance(field, str)
                    or not field.isidentifier()
                    or keyword.iskeyword(field)
                    or field[0] == "_"
                ):
                    raise self.fail(f"{name}.{field} is not a field name falstudio can type")
                if field in _RESERVED:
                    raise self.fail(f"{name}.{field} clashes with a method of falstudio's request models")
                fields[field] = self._field(f"{name}.{field}", properties[field], field in required, base)
        finally:
            self.sizes.pop()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic warns when a field shadows a BaseModel attribute
            return create_model(
                _class_name(name),
                __base__=base,
                __doc__=doc or schema.get("description") or f"{name} (fal's schema).",
                __module__=__name__,
                **fields,
            )

    def _field(self, where: str, schema: Any, required: bool, base: type[BaseModel]) -> tuple[Any, Any]:
        schema = schema if isinstance(schema, Mapping) else {}
        annotation, limits, nullable = self._type(where, schema, base)
        if annotation is str and is_secret_field(where.rsplit(".", 1)[-1], schema):
            annotation = SecretStr  # like the seed BYOK key: never shown, recorded or exported
        info: dict[str, Any] = dict(limits)
        for key, target in (("title", "title"), ("description", "description")):
            if isinstance(schema.get(key), str):
                info[target] = schema[key].strip()
        if isinstance(schema.get("examples"), list):
            info["examples"] = schema["examples"]
        if required:
            default: Any = ...
        elif "default" in schema:
            default = self._default(where, annotation, schema["default"], nullable)
            nullable = nullable or schema["default"] is None
        else:
            default, nullable = None, True  # optional without a default: unset unless given
        if nullable:
            annotation = Union[annotation, None]  # noqa: UP007 - built at run time from a variable
        return annotation, Field(default, **info)

    def _default(self, where: str, annotation: Any, value: Any, nullable: bool) -> Any:
        """The default as the field holds it; an error naming the field when it is not a value of the field's type."""
        converted = _convert_default(annotation, value)
        if value is None:
            return converted
        try:
            TypeAdapter(annotation).validate_python(converted)
        except (ValidationError, TypeError) as exc:
            shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
            if getattr(annotation, "__origin__", None) is Literal:
                count = len(annotation.__args__)
                expected = f"one of its {count} allowed value{'s' * (count != 1)}"
            else:
                expected = str(exc.errors()[0]["msg"])[:120] if isinstance(exc, ValidationError) else str(exc)[:120]
            raise self.fail(f"the default of {where}, {shown}, is not a value of the field ({expected})") from None
        return converted

    def _type(self, where: str, schema: Mapping[str, Any], base: type[BaseModel]) -> tuple[Any, dict[str, Any], bool]:
        """``(annotation, field limits, nullable)`` for one schema; limits go on the field (or in Annotated)."""
        self.visit(where)
        self.depth += 1
        self.sizes.append(1)
        try:
            return self._inner_type(where, schema, base)
        finally:
            self.depth -= 1
            size = self.sizes.pop()
            self.grow(where, size)

    def _inner_type(
        self, where: str, schema: Mapping[str, Any], base: type[BaseModel]
    ) -> tuple[Any, dict[str, Any], bool]:
        nullable = bool(schema.get("nullable"))
        if "$ref" in schema:
            name, target = self.resolve(str(schema["$ref"]), where)
            inner, limits, null = self._named(name, target, where, base)
            return inner, limits, nullable or null
        for key in ("allOf", "anyOf", "oneOf"):
            members = schema.get(key)
            if isinstance(members, list) and members:
                return self._union(where, key, members, base, nullable)
        if "const" in schema:
            return Literal[schema["const"]], {}, nullable
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            if len(schema["enum"]) > MAX_ENUM:
                raise self.fail(f"{where} lists {len(schema['enum']):,} allowed values, over the limit of {MAX_ENUM:,}")
            values = tuple(v for v in schema["enum"] if v is not None)
            nullable = nullable or None in schema["enum"]
            return (Literal[values] if values else type(None)), {}, nullable
        kind = schema.get("type")
        if isinstance(kind, list):
            nullable = nullable or "null" in kind
            rest = [k for k in kind if k != "null"]
            kind = rest[0] if len(rest) == 1 else None
        limits = _limits(schema)
        if isinstance(kind, str) and kind in _SCALARS:
            return _SCALARS[kind], limits, nullable
        if kind == "array":
            item, item_limits, item_null = self._type(f"{where}[]", schema.get("items") or {}, base)
            element = Union[_annotated(item, item_limits), None] if item_null else _annotated(item, item_limits)  # noqa: UP007
            return list.__class_getitem__(element), limits, nullable  # list[element], built at run time
        if kind == "object" or "properties" in schema:
            return self._object(_class_name(where), schema, _nested_base(base)), {}, nullable
        return Any, {}, nullable

    def _named(
        self, name: str, schema: Mapping[str, Any], where: str, base: type[BaseModel]
    ) -> tuple[Any, dict[str, Any], bool]:
        key = (name, _nested_base(base))
        if key in self.named:
            self.grow(where, self.weights[key])
            return self.named[key]
        self.sizes.append(0)
        try:
            typed = self._resolve_named(name, schema, where, base)
        finally:
            size = self.sizes.pop()
        if isinstance(typed[0], type) and issubclass(typed[0], BaseModel):
            size = 1  # a model is built once and referred to
        self.grow(where, size)
        if name not in self.aliasing and name not in self.building:  # inside its own cycle it is not final yet
            self.named[key], self.weights[key] = typed, size
        return typed

    def _resolve_named(
        self, name: str, schema: Mapping[str, Any], where: str, base: type[BaseModel]
    ) -> tuple[Any, dict[str, Any], bool]:
        props = schema.get("properties")
        if name == "ImageSize" or (isinstance(props, Mapping) and set(props) == {"width", "height"}):
            return ImageSize, {}, False
        if _nested_base(base) is _OutputModel and name in ("Image", "ImageFile"):
            return ImageFile, {}, False  # falstudio's ImageFile (it keeps every extra field)
        if schema.get("type", "object") != "object" or not isinstance(props, Mapping):
            if name in self.aliasing:  # A -> B -> A with no object in between: any value, like a recursive object
                return Any, {}, False
            self.aliasing.add(name)
            try:
                return self._type(where, schema, base)
            finally:
                self.aliasing.discard(name)
        nested = _nested_base(base)
        key = (name, nested)
        if key not in self.built:
            if name in self.building:
                return dict[str, Any], {}, False  # a recursive schema: any object
            self.building.add(name)
            try:
                self.built[key] = self._object(name, schema, nested)
            finally:
                self.building.discard(name)
        return self.built[key], {}, False

    def _union(
        self, where: str, key: str, members: list[Any], base: type[BaseModel], nullable: bool
    ) -> tuple[Any, dict[str, Any], bool]:
        typed: list[tuple[Any, dict[str, Any]]] = []
        for member in members:
            member = member if isinstance(member, Mapping) else {}
            if member.get("type") == "null":
                nullable = True
                continue
            inner, limits, null = self._type(where, member, base)
            nullable = nullable or null
            typed.append((inner, limits))
        if not typed:
            return type(None), {}, True
        if len(typed) == 1:
            return typed[0][0], typed[0][1], nullable
        if key == "allOf":
            return dict[str, Any], {}, nullable  # an intersection of objects: not typed field by field
        types = [_annotated(inner, limits) for inner, limits in typed]
        literals = [t for t in types if getattr(t, "__origin__", None) is Literal]
        ordered = literals + [t for t in types if t not in literals]  # Literal[presets] | ImageSize
        return Union[tuple(ordered)], {}, nullable  # noqa: UP007


def _limits(schema: Mapping[str, Any]) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    for key, target in _NUMBER_KEYS.items():
        value = schema.get(key)
        if isinstance(value, bool):  # OpenAPI 3.0: exclusiveMinimum: true turns minimum exclusive
            if value and key.startswith("exclusive"):
                plain = "ge" if target == "gt" else "le"
                if plain in limits:
                    limits[target] = limits.pop(plain)
        elif isinstance(value, (int, float)):
            limits[target] = value
    if "gt" in limits and "ge" in limits:
        limits.pop("ge")
    if "lt" in limits and "le" in limits:
        limits.pop("le")
    for key, target in _LENGTH_KEYS.items():
        value = schema.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            limits[target] = value
    return limits


def _annotated(annotation: Any, limits: Mapping[str, Any]) -> Any:
    if not limits:
        return annotation
    from typing import Annotated

    return Annotated[annotation, Field(**limits)]


def _nested_base(base: type[BaseModel]) -> type[BaseModel]:
    return _InputModel if base in (RequestModel, _InputModel) else _OutputModel


def _convert_default(annotation: Any, value: Any) -> Any:
    """A default as the field holds it (``{"width": ..}`` becomes an ImageSize); left as given if it does not fit."""
    if not isinstance(value, (dict, list)):
        return value
    try:
        return TypeAdapter(annotation).validate_python(value)
    except (ValidationError, TypeError):
        return value


def _class_name(name: str) -> str:
    cleaned = re.sub(r"\W+", "_", name).strip("_") or "Schema"
    return cleaned if cleaned[0].isalpha() else f"Schema_{cleaned}"
