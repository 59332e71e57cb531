"""What each field of a request is: its kind, title, help, default, choices and limits, worked out once per model.

``spec.fields`` (or :func:`fields_of` for any pydantic model) maps each field name to a :class:`Field`, in the
model's order. Registered endpoints and endpoints typed from fal's OpenAPI schema go through the same rules, so a
field gets the same kind whichever way its endpoint was typed. The form, Compare's axes, the offline server's
loaded endpoints and the client read it; :func:`unwrap` is the one place a type annotation is taken apart.

A field can ask for a kind with ``Field(json_schema_extra={"ui": "<kind>"})``.
"""

from __future__ import annotations

import copy
import enum
import re
import threading
import types
import typing
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from .sizes import ImageSize, SizeRules, rules_of

Kind = Literal["choice", "int", "float", "bool", "text", "long_text", "secret", "image", "images", "json", "size"]
"""The kind of value a field takes, which decides its control: ``long_text`` is a prompt or a long string,
``image`` one image URL (a mask too), ``images`` a list of them, ``size`` presets or a custom width and height,
``json`` anything without a kind of its own."""
KINDS: tuple[Kind, ...] = get_args(Kind)
Role = Literal["", "prompt", "images", "mask", "count", "seed"]
"""What the field is for, where the engines and widgets care: the prompt, the input images, the mask, how many
images to make, the seed."""
LONG_TEXT_CHARS = 200  # strings allowed to be at least this long are long text
_IMAGE_SUFFIXES = ("image_url", "image_urls", "mask_url")
_LIMITS = ("ge", "gt", "le", "lt", "min_length", "max_length")
# Words a field name abbreviates or spells in lower case; the rest are taken as they are.
_WORDS = {"num": "number of", "url": "URL", "urls": "URLs", "id": "ID", "api": "API", "openai": "OpenAI"}
_UNITS = {"px": ("size", "width", "height"), "images": ("num_images",), "s": ("_seconds", "duration")}


@dataclass(frozen=True)
class Unwrapped:
    """A type annotation taken apart: the types it takes, whether None is one, and Annotated's constraints."""

    members: tuple[Any, ...]  # the non-None types, unions flattened, Annotated taken off
    nullable: bool
    metadata: tuple[Any, ...]  # constraints of the Annotated layers around a single type (none for a union)

    @property
    def single(self) -> Any:
        """The one type taken (``X`` of ``Annotated[X | None, ...]``), or None for a union of several."""
        return self.members[0] if len(self.members) == 1 else None


def unwrap(annotation: Any) -> Unwrapped:
    """``Annotated[X | None, Field(ge=1)]`` -> ``Unwrapped((X,), nullable=True, metadata=(Ge(1),))``."""
    members: list[Any] = []
    metadata: list[Any] = []
    nullable = False

    def walk(value: Any, outer: bool) -> None:
        nonlocal nullable
        while get_origin(value) is typing.Annotated:
            value, *extra = get_args(value)
            if outer:
                for item in extra:
                    metadata.extend(getattr(item, "metadata", [item]))
        if get_origin(value) in (typing.Union, types.UnionType):
            args = get_args(value)
            rest = [a for a in args if a is not type(None)]
            nullable = nullable or len(rest) < len(args)
            for arg in rest:
                walk(arg, outer and len(rest) == 1)
        elif value is type(None):
            nullable = True
        else:
            members.append(value)

    walk(annotation, True)
    return Unwrapped(tuple(members), nullable, tuple(metadata))


@dataclass(frozen=True)
class Field:
    """What falstudio knows about one field of a request."""

    name: str
    kind: Kind
    label: str  # its title, as people read it
    description: str  # its help
    required: bool
    default: Any  # None when required
    nullable: bool  # None is allowed, so the field can be left unset
    options: tuple[tuple[str, Any], ...] = ()  # (label, value) for choices and a size's presets
    minimum: float | None = None  # numbers: value bounds (inclusive for whole numbers)
    maximum: float | None = None
    min_length: int | None = None  # strings: characters; lists: items
    max_length: int | None = None
    size_rules: SizeRules | None = None  # sizes: the limits on a custom width and height, when known
    unit: str = ""  # what a number or size counts ("px", "images")
    role: Role = ""

    @property
    def choices(self) -> tuple[Any, ...]:
        """The values a choice (or a size's presets and ``auto``) offers, in order."""
        return tuple(value for _, value in self.options)

    @property
    def takes_files(self) -> bool:
        """Whether the field takes file URLs, so a path, bytes or a PIL image given for it is uploaded first."""
        return is_url_field(self.name)

    @property
    def env_var(self) -> str:
        """For secrets: the environment variable a default is read from (``OPENAI_API_KEY``)."""
        return self.name.upper()

    def fresh_default(self) -> Any:
        return copy.deepcopy(self.default)


_CACHE: weakref.WeakKeyDictionary[type[BaseModel], Mapping[str, Field]] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def fields_of(model: type[BaseModel]) -> Mapping[str, Field]:
    """``{name: Field}`` for every field of ``model``, in its order; worked out once per model."""
    with _CACHE_LOCK:
        found = _CACHE.get(model)
    if found is None:
        found = types.MappingProxyType({name: field(name, info) for name, info in model.model_fields.items()})
        with _CACHE_LOCK:
            found = _CACHE.setdefault(model, found)
    return found


def field(name: str, info: FieldInfo) -> Field:
    """The :class:`Field` for one pydantic field (:func:`fields_of` caches these per model)."""
    typed = unwrap(info.annotation)
    single = typed.single
    limits = _limits((*info.metadata, *typed.metadata))
    options: tuple[tuple[str, Any], ...] = ()
    kind: Kind
    if ImageSize in typed.members:  # presets and auto, or a custom {width, height}
        kind, options = "size", tuple((v, v) for v in literal_sizes(info))
    elif get_origin(single) is Literal:
        kind, options = "choice", tuple((str(v), v) for v in get_args(single))
    elif isinstance(single, type) and issubclass(single, enum.Enum):
        kind, options = "choice", tuple((str(m.value), m) for m in single)
    else:
        kind = _kind_of(name, single, limits.get("max_length"))
    override = info.json_schema_extra.get("ui") if isinstance(info.json_schema_extra, dict) else None
    if override is not None:
        if override not in KINDS:
            raise ValueError(f"field {name!r}: json_schema_extra ui={override!r} is not one of {', '.join(KINDS)}")
        kind = override
    if kind == "int":  # exclusive bounds become inclusive ones
        if limits.get("gt") is not None:
            limits["ge"] = limits["gt"] + 1
        if limits.get("lt") is not None:
            limits["le"] = limits["lt"] - 1
    required = info.is_required()
    return Field(
        name=name,
        kind=kind,
        label=human_title(name, info.title),
        description=info.description or "",
        required=required,
        default=None if required else info.get_default(call_default_factory=True),
        nullable=typed.nullable,
        options=options,
        minimum=_first(limits.get("ge"), limits.get("gt")),
        maximum=_first(limits.get("le"), limits.get("lt")),
        min_length=limits.get("min_length"),
        max_length=limits.get("max_length"),
        size_rules=rules_of(info) if kind == "size" else None,
        unit=_unit(name, kind),
        role=_role(name, kind),
    )


def takes_custom_sizes(info: FieldInfo) -> bool:
    """Whether the field takes an :class:`~falstudio.endpoints.sizes.ImageSize` object (alone or in a union)."""
    return ImageSize in unwrap(info.annotation).members


def literal_sizes(info: FieldInfo) -> tuple[str, ...]:
    """The fixed string values a size field takes (``auto``, ``"1024x1024"``, preset names ...), in order."""
    values: list[str] = []
    for member in unwrap(info.annotation).members:
        if get_origin(member) is Literal:
            values += [v for v in get_args(member) if isinstance(v, str)]
    return tuple(dict.fromkeys(values))


def is_url_field(name: str) -> bool:
    """Fields that take file URLs: ``image_urls``, ``mask_image_url``, and any ``*_url`` / ``*_urls``."""
    return name.endswith(("_url", "_urls"))


_SECRET_NAME = re.compile(r"(?:^|_)(?:api_key|token)$|secret|^password$", re.I)


def is_secret_field(name: str, schema: Mapping[str, Any] | None = None) -> bool:
    """Whether a string property is a secret: named ``*_api_key``, ``*_token``, ``*secret*`` or ``password``,
    or marked ``format: password`` or ``writeOnly`` in its JSON ``schema``."""
    schema = schema or {}
    return bool(_SECRET_NAME.search(name)) or schema.get("format") == "password" or schema.get("writeOnly") is True


def human_title(name: str, title: str | None = None) -> str:
    """A label people read: ``num_images`` -> "Number of images", ``mask_url`` -> "Mask URL".

    A schema's own title wins unless it is just the field name title-cased ("Num Images", as fal's schemas say).
    """
    if title and title.replace(" ", "_").lower() != name.lower():
        return title
    words = [_WORDS.get(w, w) for w in name.split("_") if w]
    text = " ".join(words) or name
    return text[0].upper() + text[1:]


def _limits(metadata: tuple[Any, ...]) -> dict[str, Any]:
    return {key: value for item in metadata for key in _LIMITS if (value := getattr(item, key, None)) is not None}


def _unit(name: str, kind: Kind) -> str:
    for unit, names in _UNITS.items():
        if kind in ("int", "float", "size", "choice") and any(name == n or name.endswith(n) for n in names):
            return unit
    return ""


def _role(name: str, kind: Kind) -> Role:
    if kind in ("image", "images"):
        # a word of the name ends in mask(s): mask_url, inpaint_mask_url, inpaintmask_url; never unmasked_image_url
        return "mask" if any(w.endswith(("mask", "masks")) for w in name.lower().split("_")) else "images"
    if name == "prompt" and kind in ("text", "long_text"):
        return "prompt"
    if name == "num_images" and kind == "int":
        return "count"
    if name == "seed" and kind == "int":
        return "seed"
    return ""


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


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
        item = unwrap((get_args(annotation) or (str,))[0])
        if item.single is str and not item.nullable:
            return "images"
    return "json"
