"""Two request models compared field by field, e.g. a hand-written row against fal's schema for the same endpoint.

The facts compared are the ones a request depends on: which fields exist, whether each is required, its default,
its type (enum values included) and its numeric and length limits. Validators and help texts are not compared.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from .fields import unwrap

_TYPE_NAMES: Mapping[Any, str] = {
    str: "string",
    SecretStr: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    list: "array",
    tuple: "array",
    dict: "object",
    Any: "any",
}
_LIMITS = ("ge", "gt", "le", "lt", "min_length", "max_length")


def facts(model: type[BaseModel]) -> dict[str, dict[str, Any]]:
    """``{field: {required, default, types, enum, ge, le, gt, lt, min_length, max_length}}`` in field order."""
    return {name: field_facts(info) for name, info in model.model_fields.items()}


def field_facts(info: FieldInfo) -> dict[str, Any]:
    required = info.is_required()
    typed = unwrap(info.annotation)
    metadata = [*info.metadata, *typed.metadata]
    members = typed.members
    types_: list[str] = []
    values: list[Any] = []
    for member in members:
        if typing.get_origin(member) is Literal:
            values += typing.get_args(member)
            types_.append("enum")
        elif isinstance(member, type) and issubclass(member, enum.Enum):
            values += [m.value for m in member]
            types_.append("enum")
        else:
            types_.append(_type_name(member))
    limits = {key: getattr(item, key) for item in metadata for key in _LIMITS if getattr(item, key, None) is not None}
    if types_ == ["integer"]:  # exclusive integer bounds are inclusive ones, one step in
        if "gt" in limits:
            limits["ge"] = limits.pop("gt") + 1
        if "lt" in limits:
            limits["le"] = limits.pop("lt") - 1
    default = None if required else info.get_default(call_default_factory=True)
    return {
        "required": required,
        "default": default.model_dump(mode="json") if isinstance(default, BaseModel) else default,
        "types": tuple(sorted(set(types_))),
        "enum": tuple(sorted(map(str, values))) if values else None,
        **{key: limits.get(key) for key in _LIMITS},
    }


def differences(
    expected: type[BaseModel], actual: type[BaseModel], labels: tuple[str, str] = ("hand-written", "fal's schema")
) -> list[str]:
    """One line per difference, e.g. ``quality.default: hand-written 'auto', fal's schema 'high'``."""
    mine, theirs = facts(expected), facts(actual)
    out = [f"{name}: only in the {labels[0]} model" for name in mine if name not in theirs]
    out += [f"{name}: only in {labels[1]}" for name in theirs if name not in mine]
    for name in (n for n in mine if n in theirs):
        for key, value in mine[name].items():
            if theirs[name][key] != value:
                out.append(f"{name}.{key}: {labels[0]} {value!r}, {labels[1]} {theirs[name][key]!r}")
    return out


def drift(endpoint_id: str) -> list[str]:
    """How the registered model of ``endpoint_id`` differs from fal's schema for it (cached, else fetched)."""
    from . import loader
    from .registry import REGISTRY, UnknownEndpointError

    if endpoint_id not in REGISTRY:
        raise UnknownEndpointError(
            endpoint_id, list(REGISTRY), "Drift compares a registered endpoint with fal's schema"
        )
    return differences(REGISTRY[endpoint_id].input_model, loader.load(endpoint_id).input_model)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation) or annotation
    if origin in _TYPE_NAMES:
        return _TYPE_NAMES[origin]
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return origin.__name__ if origin.__name__ == "ImageSize" else "object"
    return str(annotation)
