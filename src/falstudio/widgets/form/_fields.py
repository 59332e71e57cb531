"""From a pydantic model's fields to plain field specs: which control, which options, bounds and default.

Pure functions (no widgets), so the mapping is tested on its own. Field order is the model's order.
A field can ask for a control with ``Field(json_schema_extra={"ui": "<kind>"})``.
"""

from __future__ import annotations

import copy
import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from ...endpoints.sizes import SizeRules, literal_sizes, rules_of, takes_custom_sizes

Kind = Literal["choice", "int", "float", "bool", "text", "long_text", "secret", "image", "images", "json", "size"]
KINDS: tuple[Kind, ...] = get_args(Kind)
LONG_TEXT_CHARS = 200  # strings allowed to be at least this long get a Textarea
_IMAGE_SUFFIXES = ("image_url", "image_urls", "mask_url")


@dataclass(frozen=True)
class FieldSpec:
    """What the form needs to know about one field."""

    name: str
    kind: Kind
    label: str
    description: str
    required: bool
    default: Any  # None when required
    nullable: bool  # None is allowed, so the field can be left unset
    options: tuple[tuple[str, Any], ...] = ()  # (label, value) for choices
    minimum: float | None = None  # numbers: value bounds
    maximum: float | None = None
    min_length: int | None = None  # strings: characters; lists: items
    max_length: int | None = None
    size_rules: SizeRules | None = None  # sizes: the limits on a custom width and height, when known
    unit: str = ""  # what a number or size counts ("px", "images"), shown next to the control

    @property
    def env_var(self) -> str:
        """For secrets: the environment variable the form reads a default from (``OPENAI_API_KEY``)."""
        return self.name.upper()

    def fresh_default(self) -> Any:
        return copy.deepcopy(self.default)


def field_specs(model: type[BaseModel]) -> list[FieldSpec]:
    """One spec per field of ``model``, in the model's order."""
    return [field_spec(name, info) for name, info in model.model_fields.items()]


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    annotation, nullable = _unwrap(info.annotation)
    bounds = _constraints(info)
    options: tuple[tuple[str, Any], ...] = ()
    kind: Kind
    if takes_custom_sizes(info):  # presets and auto, or a custom {width, height}
        kind, options = "size", tuple((v, v) for v in literal_sizes(info))
    elif get_origin(annotation) is Literal:
        kind, options = "choice", tuple((str(v), v) for v in get_args(annotation))
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kind, options = "choice", tuple((str(m.value), m) for m in annotation)
    else:
        kind = _kind_of(name, annotation, bounds.get("max_length"))
    override = (info.json_schema_extra or {}).get("ui") if isinstance(info.json_schema_extra, dict) else None
    if override is not None:
        if override not in KINDS:
            raise ValueError(f"field {name!r}: json_schema_extra ui={override!r} is not one of {', '.join(KINDS)}")
        kind = override
    if kind == "int":  # exclusive bounds become inclusive ones
        if bounds.get("gt") is not None:
            bounds["ge"] = bounds["gt"] + 1
        if bounds.get("lt") is not None:
            bounds["le"] = bounds["lt"] - 1
    required = info.is_required()
    default = None if required else info.get_default(call_default_factory=True)
    return FieldSpec(
        name=name,
        kind=kind,
        label=human_title(name, info.title),
        description=info.description or "",
        required=required,
        default=default,
        nullable=nullable,
        options=options,
        minimum=_first(bounds.get("ge"), bounds.get("gt")),
        maximum=_first(bounds.get("le"), bounds.get("lt")),
        min_length=bounds.get("min_length"),
        max_length=bounds.get("max_length"),
        size_rules=rules_of(info) if kind == "size" else None,
        unit=_unit(name, kind),
    )


# Words a field name abbreviates or spells in lower case; the rest are taken as they are.
_WORDS = {"num": "number of", "url": "URL", "urls": "URLs", "id": "ID", "api": "API", "openai": "OpenAI"}
_UNITS = {"px": ("size", "width", "height"), "images": ("num_images",), "s": ("_seconds", "duration")}


def human_title(name: str, title: str | None = None) -> str:
    """A label people read: ``num_images`` -> "Number of images", ``mask_url`` -> "Mask URL".

    A schema's own title wins unless it is just the field name title-cased ("Num Images", as fal's schemas say).
    """
    if title and title.replace(" ", "_").lower() != name.lower():
        return title
    words = [_WORDS.get(w, w) for w in name.split("_") if w]
    text = " ".join(words) or name
    return text[0].upper() + text[1:]


def _unit(name: str, kind: Kind) -> str:
    for unit, names in _UNITS.items():
        if kind in ("int", "float", "size", "choice") and any(name == n or name.endswith(n) for n in names):
            return unit
    return ""


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def _strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is typing.Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """``(inner type, nullable)`` with Annotated and ``X | None`` taken off."""
    annotation = _strip_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return _strip_annotated(rest[0]), len(rest) < len(args)
        return annotation, type(None) in args
    return annotation, False


def _constraints(info: FieldInfo) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for item in info.metadata:
        for key in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            value = getattr(item, key, None)
            if value is not None:
                found[key] = value
    return found


def _is_image_name(name: str) -> bool:
    return name.endswith(_IMAGE_SUFFIXES)


def _kind_of(name: str, annotation: Any, max_length: int | None) -> Kind:
    if annotation is SecretStr:
        return "secret"
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "float"
    if annotation is str:
        if _is_image_name(name):
            return "image"
        if name == "prompt" or (max_length is not None and max_length >= LONG_TEXT_CHARS):
            return "long_text"
        return "text"
    if get_origin(annotation) is list and _is_image_name(name):
        (item,) = get_args(annotation) or (str,)
        if _strip_annotated(item) is str:
            return "images"
    return "json"
