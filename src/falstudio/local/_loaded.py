"""Endpoints typed from fal's schema, on the offline engines: the common fields mapped, the rest named and ignored.

The engines act on ``prompt``, the size (``image_size`` as a preset, ``WxH`` or ``{width, height}``, or separate
``width`` / ``height`` fields), ``num_images``, ``output_format``, ``quality``, ``sync_mode`` and, for edits, the
input images (``image_url`` or ``image_urls``) and the mask (``mask_url`` or ``mask_image_url``). Any other field a
request sets is listed once in the job log as ignored.

Outputs carry every field the endpoint's output schema requires, so code that reads them behaves offline as on
fal: fields the engines cannot make (a ``seed``, a ``description``...) get typed placeholders, listed in the
output's ``offline_placeholders`` (strings also say so themselves); a ``seed`` the request set is echoed.
"""

from __future__ import annotations

import enum
import hashlib
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from falstudio.endpoints import REGISTRY, EndpointSpec, RequestModel
from falstudio.endpoints.fields import unwrap
from falstudio.endpoints.sizes import ImageSize, dimensions

FORMATS = {"png": "png", "jpeg": "jpeg", "jpg": "jpeg", "webp": "webp"}
# The offline engines draw a loaded endpoint no larger than a registered one (GPT Image 2's largest, 3840×2160),
# nor more images per request: fal's schema may allow far more, which would cost gigabytes per job here.
MAX_SIDE = 3840
MAX_PIXELS = 3840 * 2160
MAX_IMAGES = 4
QUALITIES = ("auto", "low", "medium", "high")
_HANDLED = {"prompt", "image_size", "width", "height", "num_images", "output_format", "quality", "sync_mode"}


class EngineRequest(RequestModel):
    """What the offline engines read from a request, filled from a loaded endpoint's fields."""

    prompt: str = ""
    image_size: str | ImageSize = "auto"
    num_images: int = 1
    output_format: str = "png"
    quality: str = "auto"
    sync_mode: bool = False
    image_urls: list[str] = Field(default_factory=list)
    mask_image_url: str | None = None


@dataclass
class Mapped:
    """A request as the engines take it, where its input images came from, and what the engines ignore."""

    request: Any
    image_field: str = "image_urls"  # the field the input images came from (for error locations)
    mask_field: str = "mask_image_url"
    notes: list[str] = field(default_factory=list)  # said once in the job log
    wanted: tuple[int, int] | None = None  # the requested pixel size, when one was asked for


def for_engines(spec: EndpointSpec, request: RequestModel) -> Mapped:
    """Registered requests as they are; loaded ones mapped onto :class:`EngineRequest`."""
    masks = [name for name, f in spec.fields.items() if f.role == "mask"]
    mask_field = next((n for n in masks if getattr(request, n, None)), masks[0] if masks else "mask_image_url")
    if spec.id in REGISTRY:
        return Mapped(request, mask_field=mask_field)
    given = {name: getattr(request, name) for name in type(request).model_fields}
    values: dict[str, Any] = {"prompt": str(given.get("prompt") or "")}
    notes: list[str] = []
    size, wanted = _size(given, notes)
    values["image_size"] = size
    if isinstance(given.get("num_images"), int):
        values["num_images"] = min(max(1, given["num_images"]), MAX_IMAGES)
    fmt = given.get("output_format")
    if fmt is not None:
        values["output_format"] = FORMATS.get(str(fmt).lower(), "png")
        if str(fmt).lower() not in FORMATS:
            notes.append(f"output_format {fmt!r} is drawn as png offline")
    if given.get("quality") in QUALITIES:
        values["quality"] = given["quality"]
    values["sync_mode"] = bool(given.get("sync_mode"))
    inputs = [name for name, f in spec.fields.items() if f.role == "images"]
    image_field = next((n for n in inputs if given.get(n)), inputs[0] if inputs else "image_urls")
    images = given.get(image_field)
    values["image_urls"] = [str(u) for u in images] if isinstance(images, list) else [str(images)] if images else []
    mask = given.get(mask_field)
    if isinstance(mask, list):  # a list-of-masks field: the engines paint one
        if len(mask) > 1:
            notes.append(f"{mask_field}: only its first mask is used offline")
        mask = str(mask[0]) if mask else None
    values["mask_image_url"] = mask
    handled = _HANDLED | {image_field, mask_field}
    if given.get("quality") is not None and given.get("quality") not in QUALITIES:
        handled.discard("quality")
    ignored = sorted(n for n in request.model_fields_set if n not in handled)
    if ignored:
        notes.append(f"Ignored offline (the engine cannot act on them): {', '.join(ignored)}")
    return Mapped(EngineRequest.model_validate(values), image_field, mask_field, notes, wanted)


def offline_limits(spec: EndpointSpec, request: RequestModel) -> list[dict[str, Any]]:
    """fal-shaped 422 details for what the offline engines will not draw for a loaded endpoint (none if fine)."""
    if spec.id in REGISTRY:
        return []  # their own models hold the limits
    problems: list[dict[str, Any]] = []
    given = {name: getattr(request, name) for name in type(request).model_fields}
    _size_problem(given, problems)
    count = given.get("num_images")
    if isinstance(count, int) and count > MAX_IMAGES:
        problems.append(
            {
                "loc": ["body", "num_images"],
                "msg": f"The offline server draws at most {MAX_IMAGES} images per request; ask for {MAX_IMAGES} "
                "or fewer (send several requests for more)",
                "type": "less_than_equal",
                "ctx": {"le": MAX_IMAGES},
            }
        )
    return problems


def _size_problem(given: dict[str, Any], problems: list[dict[str, Any]]) -> None:
    value = given.get("image_size")
    if isinstance(value, BaseModel):
        value = value.model_dump()
    field, pixels = "image_size", dimensions(value) if value not in (None, "auto") else None
    width, height = given.get("width"), given.get("height")
    if pixels is None and isinstance(width, int) and isinstance(height, int):
        field, pixels = "width", (width, height)
    if pixels is None:
        return
    w, h = pixels
    if max(w, h) > MAX_SIDE or w * h > MAX_PIXELS:
        problems.append(
            {
                "loc": ["body", field],
                "msg": f"{w}x{h} is larger than the offline server draws (at most {MAX_SIDE} px a side and "
                f"{MAX_PIXELS:,} pixels, 3840x2160); ask for a smaller size",
                "type": "value_error",
            }
        )


def output(
    spec: EndpointSpec, files: list[dict[str, Any]], request: Any = None, request_id: str = ""
) -> dict[str, Any]:
    """The output body: ``{"images": [...]}`` (or ``{"image": {...}}`` for an endpoint whose schema returns one),
    plus a typed placeholder for every other field the output schema requires (see the module docstring)."""
    fields = spec.output_model.model_fields
    body: dict[str, Any] = {"image": files[0]} if "images" not in fields and "image" in fields and files else {}
    body = body or {"images": files}
    given_seed = getattr(request, "seed", None)
    seed = given_seed if isinstance(given_seed, int) else _seed(request_id)
    placeholders = []
    for name, info in fields.items():
        if name in body or not info.is_required():
            continue
        body[name] = seed if name == "seed" else _placeholder(info.annotation, name, seed)
        placeholders.append(name)
    if placeholders:
        body["offline_placeholders"] = placeholders
    return body


def _seed(request_id: str) -> int:
    """A seed as fal reports one, the same for a request id (a placeholder: no model drew with it)."""
    return int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:4], "big") >> 1


def _placeholder(annotation: Any, name: str, seed: int, depth: int = 0) -> Any:
    """A value of ``annotation``'s type that validates: the first choice of an enum or union, a required-fields-only
    object, the smallest list the schema allows; strings say they are offline placeholders."""
    if depth > 8:
        return None
    arms = unwrap(annotation).members
    if not arms:
        return None
    annotation = arms[0]
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Literal:
        return args[0]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {
            n: _placeholder(f.annotation, n, seed, depth + 1)
            for n, f in annotation.model_fields.items()
            if f.is_required()
        }
    if origin in (list, tuple, set, frozenset) or annotation in (list, tuple):
        return [_placeholder(args[0], name, seed, depth + 1) if args else None]  # one: valid under a minimum
    if origin is dict or annotation is dict:
        return {}
    if annotation is bool:
        return False
    if annotation is int:
        return 0
    if annotation is float:
        return 0.0
    return f"offline preview: no model ran, so no {name.replace('_', ' ')}"


def _size(given: dict[str, Any], notes: list[str]) -> tuple[str | ImageSize, tuple[int, int] | None]:
    value = given.get("image_size")
    if isinstance(value, BaseModel):
        value = value.model_dump()
    width, height = given.get("width"), given.get("height")
    if value is None and isinstance(width, int) and isinstance(height, int):
        value = {"width": width, "height": height}
    if value is None or value == "auto":
        return "auto", None
    pixels = dimensions(value)
    if pixels is None or min(pixels) <= 0:
        notes.append(f"image_size {value!r} is not a size the offline engine knows; it picks one")
        return "auto", None
    w, h = pixels
    return ImageSize(width=w, height=h), (w, h)
