"""File inputs: a local path, bytes, a PIL image, an output Image, a URL or a data URI wherever an image URL goes.

Files of at most :data:`INLINE_LIMIT` bytes (1 MiB) travel inline as ``data:`` URIs, which every GPT
Image endpoint accepts and which cost no extra request; larger files are uploaded through fal's storage
protocol and replaced by their URL. URLs and data URIs pass through untouched.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from pydantic import SecretStr, ValidationError

from falstudio.endpoints import REDACTED, EndpointSpec, ImageFile, RequestModel

from .._internal import images as _images
from .errors import InvalidRequestError
from .results import Image

if TYPE_CHECKING:
    from PIL import Image as PILImage

INLINE_LIMIT = 1024 * 1024


class ImageLike(Protocol):
    """Anything that hands out its image file's bytes, like an output :class:`Image`."""

    def bytes(self) -> bytes: ...


ImageSource: TypeAlias = "bytes | bytearray | memoryview | PILImage.Image | Image | ImageLike | str | os.PathLike[str]"
"""Anything falstudio takes as an image: bytes, a PIL image, an output Image, a file path, a data URI or (where
an image URL goes) an http(s) URL."""
_PASS_THROUGH = ("http://", "https://", "data:")


class Uploader(Protocol):
    async def upload(self, data: bytes, content_type: str, file_name: str | None = None) -> str: ...


async def prepare_arguments(
    uploader: Uploader,
    spec: EndpointSpec | None,
    arguments: Mapping[str, Any] | RequestModel,
    *,
    endpoint: str,
    validate: bool = True,
) -> RequestModel | dict[str, Any]:
    """The request to send: files in URL fields turned into data URIs or uploads, then validated.

    With a spec and ``validate`` it returns the typed request (raising :class:`InvalidRequestError` naming each
    bad field before anything is sent); otherwise a plain dict that is only checked to be JSON.
    """
    if not validate:
        spec = None
    if isinstance(arguments, RequestModel):
        return _validate(spec, arguments, endpoint) if spec is not None else arguments
    if not isinstance(arguments, Mapping):
        raise InvalidRequestError(
            f"arguments must be a dict or the endpoint's request model, not {type(arguments).__name__}",
            endpoint=endpoint,
            hint="pass a dict such as {'prompt': '...'}, or the endpoint's input model",
        )
    from falstudio.endpoints.fields import is_url_field

    strict = spec is not None
    prepared = dict(arguments)
    jobs: list[tuple[tuple[str, int | None], Any]] = []
    for name, value in arguments.items():
        if not isinstance(name, str) or not is_url_field(name):
            continue
        if isinstance(value, (list, tuple)):
            prepared[name] = list(value)
            jobs.extend(((name, i), item) for i, item in enumerate(value))
        else:
            jobs.append(((name, None), value))
    converted = await asyncio.gather(*(_as_url(uploader, v, loc, strict, endpoint) for loc, v in jobs))
    for (name, index), url in zip((loc for loc, _ in jobs), converted, strict=True):
        if index is None:
            prepared[name] = url
        else:
            prepared[name][index] = url
    return _validate(spec, prepared, endpoint) if spec is not None else _json_only(prepared, endpoint)


def _validate(spec: EndpointSpec, arguments: Any, endpoint: str) -> RequestModel:
    try:
        return spec.validate(arguments)
    except ValidationError as exc:
        error = InvalidRequestError.from_validation_error(exc, endpoint=endpoint)
    if any(e["type"] == "extra_forbidden" for e in error.errors):
        error.hint = (
            "fix the field names above; if fal added a field falstudio's model does not know yet, send the request "
            "unchecked with validate=False"
            + ("" if spec.category == "" else f" (or re-load fal's schema: falstudio.endpoints.refresh({endpoint!r}))")
        )
    raise error


def _secret_as_json(value: object) -> object:
    if isinstance(value, SecretStr):  # sent revealed, in the body's encoding only
        return REDACTED
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _json_only(arguments: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """``arguments`` unchanged, if JSON can carry them (validate=False sends them as given)."""
    for name, value in arguments.items():
        problem = None
        if not isinstance(name, str):
            problem = f"the field name {name!r} is not a string"
        else:
            try:
                json.dumps(value, allow_nan=False, default=_secret_as_json)
            except (TypeError, ValueError) as exc:
                problem = f"not JSON ({exc})"
        if problem is not None:
            raise InvalidRequestError(
                "invalid request (checked locally, nothing was sent)",
                errors=[{"loc": (str(name),), "msg": problem, "type": "json_invalid"}],
                endpoint=endpoint,
                hint="with validate=False arguments go as given: use strings, numbers, booleans, lists and dicts",
            )
    return arguments


async def _as_url(uploader: Uploader, value: Any, loc: tuple[str, int | None], strict: bool, endpoint: str) -> Any:
    file = _read(value, loc, strict, endpoint)
    if file is None:
        return value.url if isinstance(value, ImageFile) else value
    data, content_type, name = file
    content_type = _images.sniff_mime(data, content_type or "application/octet-stream")
    if strict and (not data or not content_type.startswith("image/")):  # registered endpoints take images only
        problem = "is empty" if not data else f"is not an image (PNG, JPEG, WebP or GIF) but {content_type}"
        raise _file_error(loc, f"{name or 'the data'} {problem}", "file_not_image", endpoint)
    if len(data) <= INLINE_LIMIT:
        return _images.to_data_uri(data, content_type)
    return await uploader.upload(data, content_type, name)


def _file_error(loc: tuple[str, int | None], msg: str, error_type: str, endpoint: str) -> InvalidRequestError:
    where = tuple(p for p in loc if p is not None)
    field = ".".join(str(p) for p in where)
    return InvalidRequestError(
        "invalid request (checked locally, nothing was sent)",
        errors=[{"loc": where, "msg": msg, "type": error_type}],
        endpoint=endpoint,
        hint=f"give {field} an http(s) URL, a data URI, an existing image file path, image bytes or a PIL image",
    )


def _read(
    value: Any, loc: tuple[str, int | None], strict: bool, endpoint: str
) -> tuple[bytes, str | None, str | None] | None:
    """``(bytes, content type, file name)`` for a file-like value, None for a URL or anything else."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value), None, None
    pil = sys.modules.get("PIL.Image")
    if pil is not None and isinstance(value, pil.Image):
        return _images.image_bytes(value, "png"), "image/png", None
    if isinstance(value, os.PathLike) or (isinstance(value, str) and not value.startswith(_PASS_THROUGH)):
        path = Path(value)
        if path.is_file():
            return path.read_bytes(), mimetypes.guess_type(path.name)[0], path.name
        if strict or isinstance(value, os.PathLike):
            raise _file_error(loc, f"no such file: {str(value)[:200]!r}", "file_not_found", endpoint)
    return None


def encode_image(image: PILImage.Image, format: str = "jpeg") -> str:
    """A data URI holding a PIL image, encoded as ``format``: JPEG by default, as fal-client (smaller); pass
    ``"png"`` to keep transparency and every pixel exactly."""
    return _images.encode_image(image, format)


def read_image(source: ImageSource) -> bytes:
    """The encoded bytes (PNG, JPEG, WebP or GIF) of a local image: bytes, a PIL image, an output Image (fetched
    once), a data URI or a file path. A plain http(s) URL is refused: pass the image itself."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, Image) or (not isinstance(source, str) and callable(getattr(source, "bytes", None))):
        data = bytes(source.bytes())  # type: ignore[union-attr]
    elif isinstance(source, str) and _images.is_data_uri(source):
        data = _images.decode_data_uri(source)[0]
    elif isinstance(source, str) and source.startswith(("http://", "https://")):
        raise TypeError("expected the image itself, not a URL: pass the falstudio Image, bytes or a path")
    elif isinstance(source, (str, os.PathLike)):
        data = Path(source).expanduser().read_bytes()
    elif (pil := sys.modules.get("PIL.Image")) is not None and isinstance(source, pil.Image):
        data = _images.image_bytes(source, "png")
    else:
        raise TypeError(f"expected image bytes, a PIL image, a falstudio Image or a path, got {type(source).__name__}")
    if data and not _images.sniff_mime(data).startswith("image/"):
        raise ValueError("these bytes are not a PNG, JPEG, WebP or GIF image")
    return data
