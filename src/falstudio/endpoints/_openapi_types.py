"""The JSON schemas of one OpenAPI document turned into pydantic types, each ``$ref`` model built once."""

from __future__ import annotations

import keyword
import re
import warnings
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, ValidationError, create_model

from ._base import ImageFile, RequestModel
from ._openapi_limits import SchemaProblem, WorkLimits
from .fields import is_secret_field
from .sizes import ImageSize

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
_RESERVED = frozenset(n for n in dir(RequestModel) if not n.startswith("_") and n not in _V1_NAMES and "parse" not in n)
_MODULE = "falstudio.endpoints.openapi"  # the built models' home, as users know it

Typed = tuple[Any, dict[str, Any], bool]  # (annotation, field limits, nullable)


class InputModel(BaseModel):
    """Base of the objects nested in a request: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class OutputModel(BaseModel):
    """Base of the result and the objects in it: fields fal adds later are kept."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class TypeBuilder:
    """Builds the types of one document's ``components.schemas``; raises :class:`SchemaProblem` naming what is wrong."""

    def __init__(self, schemas: Mapping[str, Any]) -> None:
        self.schemas = schemas
        self.built: dict[tuple[str, type[BaseModel]], Any] = {}
        self.named: dict[tuple[str, type[BaseModel]], Typed] = {}  # each $ref once
        # How many schema nodes each typed $ref stands for once pydantic expands it (see WorkLimits).
        self.weights: dict[tuple[str, type[BaseModel]], int] = {}
        self.limits = WorkLimits()
        self.building: set[str] = set()
        self.aliasing: set[str] = set()  # non-object schemas being resolved (a $ref cycle among them stops there)

    def resolve(self, ref: str, where: str) -> tuple[str, Mapping[str, Any]]:
        name = ref.rsplit("/", 1)[-1]
        schema = self.schemas.get(name) if ref.startswith("#/components/schemas/") else None
        if not isinstance(schema, Mapping):
            raise SchemaProblem(f"{where} refers to {ref}, which the document does not define")
        return name, schema

    def model(self, ref: str, base: type[BaseModel], doc: str) -> type[BaseModel]:
        """The model of the object schema ``ref`` points at, built on ``base``."""
        name, schema = self.resolve(ref, "the endpoint")
        model = self._object(name, schema, base, doc)
        if not isinstance(model, type):
            raise SchemaProblem(f"{name} is not an object schema")
        return model

    def _object(self, name: str, schema: Mapping[str, Any], base: type[BaseModel], doc: str | None = None) -> Any:
        properties = schema.get("properties")
        if not isinstance(properties, Mapping):
            return dict[str, Any]
        self.limits.add_model(name)
        required = {r for r in schema.get("required") or () if isinstance(r, str)}
        order = [p for p in schema.get("x-fal-order-properties") or () if p in properties]
        order += [p for p in properties if p not in order]
        fields: dict[str, Any] = {}
        self.limits.open(0)  # the model's fields: built once, the model is what types using it refer to
        try:
            for field in order:
                if (
                    not isinstance(field, str)
                    or not field.isidentifier()
                    or keyword.iskeyword(field)
                    or field[0] == "_"
                ):
                    raise SchemaProblem(f"{name}.{field} is not a field name falstudio can type")
                if field in _RESERVED:
                    raise SchemaProblem(f"{name}.{field} clashes with a method of falstudio's request models")
                fields[field] = self._field(f"{name}.{field}", properties[field], field in required, base)
        finally:
            self.limits.close()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pydantic warns when a field shadows a BaseModel attribute
            return create_model(
                _class_name(name),
                __base__=base,
                __doc__=doc or schema.get("description") or f"{name} (fal's schema).",
                __module__=_MODULE,
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
            default = _default(where, annotation, schema["default"])
            nullable = nullable or schema["default"] is None
        else:
            default, nullable = None, True  # optional without a default: unset unless given
        if nullable:
            annotation = Union[annotation, None]  # noqa: UP007 - built at run time from a variable
        return annotation, Field(default, **info)

    def _type(self, where: str, schema: Mapping[str, Any], base: type[BaseModel]) -> Typed:
        """``(annotation, field limits, nullable)`` for one schema; limits go on the field (or in Annotated)."""
        self.limits.visit(where)
        self.limits.depth += 1
        self.limits.open(1)
        try:
            return self._inner_type(where, schema, base)
        finally:
            self.limits.depth -= 1
            self.limits.grow(where, self.limits.close())

    def _inner_type(self, where: str, schema: Mapping[str, Any], base: type[BaseModel]) -> Typed:
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
            self.limits.check_enum(where, schema["enum"])
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

    def _named(self, name: str, schema: Mapping[str, Any], where: str, base: type[BaseModel]) -> Typed:
        key = (name, _nested_base(base))
        if key in self.named:
            self.limits.grow(where, self.weights[key])
            return self.named[key]
        self.limits.open(0)
        try:
            typed = self._resolve_named(name, schema, where, base)
        finally:
            size = self.limits.close()
        if isinstance(typed[0], type) and issubclass(typed[0], BaseModel):
            size = 1  # a model is built once and referred to
        self.limits.grow(where, size)
        if name not in self.aliasing and name not in self.building:  # inside its own cycle it is not final yet
            self.named[key], self.weights[key] = typed, size
        return typed

    def _resolve_named(self, name: str, schema: Mapping[str, Any], where: str, base: type[BaseModel]) -> Typed:
        props = schema.get("properties")
        if name == "ImageSize" or (isinstance(props, Mapping) and set(props) == {"width", "height"}):
            return ImageSize, {}, False
        if _nested_base(base) is OutputModel and name in ("Image", "ImageFile"):
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

    def _union(self, where: str, key: str, members: list[Any], base: type[BaseModel], nullable: bool) -> Typed:
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


def _default(where: str, annotation: Any, value: Any) -> Any:
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
        raise SchemaProblem(f"the default of {where}, {shown}, is not a value of the field ({expected})") from None
    return converted


def _convert_default(annotation: Any, value: Any) -> Any:
    """A default as the field holds it (``{"width": ..}`` becomes an ImageSize); left as given if it does not fit."""
    if not isinstance(value, (dict, list)):
        return value
    try:
        return TypeAdapter(annotation).validate_python(value)
    except (ValidationError, TypeError):
        return value


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
    return Annotated[annotation, Field(**limits)] if limits else annotation


def _nested_base(base: type[BaseModel]) -> type[BaseModel]:
    return InputModel if base in (RequestModel, InputModel) else OutputModel


def _class_name(name: str) -> str:
    cleaned = re.sub(r"\W+", "_", name).strip("_") or "Schema"
    return cleaned if cleaned[0].isalpha() else f"Schema_{cleaned}"
