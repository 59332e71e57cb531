"""Images that say how they were made: the endpoint, the request (secrets never), its id, the model and the date.

Written into every image falstudio saves (``Image.save()``, the gallery's Save, history and Compare exports):

* PNG: an ``iTXt`` chunk ``falstudio`` holding :class:`ImageMetadata` as JSON, and ``parameters``, one
  human-readable paragraph in the style AUTOMATIC1111 made common (the prompt, then ``Key: value, ...``).
* JPEG and WebP: an XMP packet with ``falstudio:metadata`` (the same JSON) and ``falstudio:parameters``
  (namespace :data:`XMP_NAMESPACE`), plus the paragraph in EXIF ``UserComment`` (where AUTOMATIC1111 puts it).

The metadata is spliced into the file: pixels are never re-encoded, and the offline engine's own text and EXIF
(``Software``, ``Description``...) are kept. Input images are not copied into it (they are summarised). Read it
back with :func:`read_metadata` (``falstudio.read_metadata(path)``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._internal import image_chunks as _image_chunks
from ._internal.images import sniff_mime
from ._internal.redact import redact, scrub_text
from ._internal.version import VERSION

__all__ = [
    "KEY",
    "OMITTED",
    "PARAMETERS_KEY",
    "SCHEMA_VERSION",
    "XMP_NAMESPACE",
    "ImageMetadata",
    "build",
    "embed",
    "parameters_text",
    "read_metadata",
]

KEY = "falstudio"
PARAMETERS_KEY = "parameters"
XMP_NAMESPACE = "https://github.com/falstudio/falstudio/ns/metadata/1.0/"
OMITTED = "falstudio:omitted "  # prefix of a request value left out of the file (an input image)
SCHEMA_VERSION = 1
_USER_COMMENT, _EXIF_IFD, _SOFTWARE = 0x9286, 0x8769, 0x0131
_HISTORY_REF = "falstudio-history:"  # how a history record points at a stored input image
_MAX_READ = 256 * 1024 * 1024


class ImageMetadata(BaseModel):
    """How one image (``kind="image"``) or one comparison grid (``kind="grid"``) was made."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: int = SCHEMA_VERSION
    kind: Literal["image", "grid"] = "image"
    endpoint: str | None = None
    request: dict[str, Any] = Field(default_factory=dict, description="As sent, secrets redacted, inputs summarised.")
    request_id: str | None = None
    model: str | None = None
    mode: Literal["local", "fal"] | None = Field(None, description="local: falstudio's offline preview server.")
    created: str | None = Field(None, description="When the image was made, ISO 8601 UTC.")
    falstudio: str | None = Field(None, description="The falstudio version that wrote the file.")
    index: int | None = Field(None, description="Which image of the request's output (from 0).")
    count: int | None = None
    cost_estimate: str | None = None
    billed: str | None = Field(None, description="What fal reported billing (x-fal-billable-units), if it did.")
    axes: dict[str, list[Any]] = Field(default_factory=dict, description="Grids: the swept fields and values.")
    variations: list[dict[str, Any]] = Field(default_factory=list, description="Grids: one entry per tile.")

    def loadable_request(self) -> dict[str, Any]:
        """The request without the values that were left out of the file (input images, secrets)."""
        kept: dict[str, Any] = _without_omitted(self.request)
        return kept

    def parameters(self) -> str:
        """The human-readable paragraph written beside the JSON."""
        return parameters_text(self)


def build(
    *,
    endpoint: str | None,
    request: Any,
    request_id: str | None = None,
    mode: str | None = None,
    created: float | None = None,
    index: int | None = None,
    count: int | None = None,
    cost_estimate: object = None,
    billed: object = None,
    **grid: Any,
) -> ImageMetadata:
    """Metadata for one image; ``request`` is scrubbed of secrets and input images here, whatever it holds."""
    when = dt.datetime.fromtimestamp(created if created is not None else _now(), dt.UTC)
    body = request.redacted() if hasattr(request, "redacted") else request
    return ImageMetadata(
        endpoint=endpoint,
        request=_summarise(redact(dict(body or {}))),  # defence in depth: key names and secret-looking values
        request_id=request_id or None,
        model=_model(endpoint),
        mode=mode if mode in ("local", "fal") else None,
        created=when.isoformat(timespec="seconds").replace("+00:00", "Z"),
        falstudio=VERSION,
        index=index,
        count=count,
        cost_estimate=str(cost_estimate) if cost_estimate is not None else None,
        billed=str(billed) if billed is not None else None,
        **{k: redact(v) for k, v in grid.items()},
    )


def embed(data: bytes, metadata: ImageMetadata) -> bytes:
    """``data`` (PNG, JPEG or WebP bytes) with ``metadata`` written in; other formats come back unchanged, and so
    does a file whose structure does not allow it (with a warning: the image is never lost for its metadata)."""
    try:
        return _embed(data, metadata)
    except _image_chunks.ContainerError as exc:
        warnings.warn(f"falstudio: image saved without its metadata: {exc}", RuntimeWarning, stacklevel=2)
        return data


def _embed(data: bytes, metadata: ImageMetadata) -> bytes:
    payload = scrub_text(metadata.model_dump_json(exclude_defaults=False))
    text = scrub_text(parameters_text(metadata))
    mime = sniff_mime(data)
    if mime == "image/png":
        return _image_chunks.png_set_text(data, {KEY: payload, PARAMETERS_KEY: text})
    if mime == "image/jpeg":
        exif, _ = _image_chunks.jpeg_get(data)
        xmp = _xmp(payload, text, metadata)
        if len(xmp) + len(_image_chunks.XMP_HEADER) > _image_chunks.JPEG_SEGMENT_MAX:  # one APP1 segment: 64 KB
            xmp = _xmp(_shortened(metadata).model_dump_json(), text[:2000], metadata)
        return _image_chunks.jpeg_set(data, exif=_merged_exif(exif, text[:8000]), xmp=xmp)
    if mime == "image/webp":
        exif, _ = _image_chunks.webp_get(data)
        return _image_chunks.webp_set(data, exif=_merged_exif(exif, text), xmp=_xmp(payload, text, metadata))
    return data


def read_metadata(source: str | os.PathLike[str] | bytes) -> ImageMetadata | None:
    """The falstudio metadata of an image file (a path or its bytes); None when it has none.

    Raises ValueError naming the file when it is not a PNG, JPEG or WebP image.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "these bytes"
    else:
        path = Path(source).expanduser()
        if path.stat().st_size > _MAX_READ:
            raise ValueError(f"{path} is too large to be an image falstudio wrote")
        data, name = path.read_bytes(), str(path)
    try:
        payload = _payload(data)
    except _image_chunks.ContainerError as exc:
        raise ValueError(f"{name}: {exc}; read_metadata reads PNG, JPEG and WebP files") from None
    if payload is None:
        return None
    try:
        return ImageMetadata.model_validate_json(payload)
    except ValidationError as exc:
        raise ValueError(f"{name}: its falstudio metadata is unreadable ({exc.errors()[0]['msg']})") from None


def parameters_text(metadata: ImageMetadata) -> str:
    """``<prompt>\\nEndpoint: ..., Quality: ..., Request id: ..., Date: ..., falstudio: ...`` (one paragraph)."""
    request = metadata.request
    items: list[tuple[str, Any]] = [("Endpoint", metadata.endpoint)]
    for name, value in request.items():
        if name == "prompt":
            continue
        if isinstance(value, list):
            value = f"{len(value)} item{'s' * (len(value) != 1)}"
        items.append((name.replace("_", " ").capitalize(), value))
    items += [
        ("Request id", metadata.request_id),
        ("Model", metadata.model),
        ("Server", {"local": "falstudio offline preview", "fal": "fal.ai"}.get(metadata.mode or "")),
        ("Cost estimate", metadata.cost_estimate),
        ("Billed", metadata.billed),
        ("Date", metadata.created),
        ("falstudio", metadata.falstudio),
    ]
    if metadata.kind == "grid":
        items.insert(1, ("Grid", " × ".join(metadata.axes) or "one request"))
    line = ", ".join(f"{k}: {_quoted(v)}" for k, v in items if v not in (None, ""))
    prompt = str(request.get("prompt", "")).strip()
    return f"{prompt}\n{line}" if prompt else line


# -- internals ---------------------------------------------------------------------------------------------------


def _now() -> float:
    return dt.datetime.now(dt.UTC).timestamp()


def _model(endpoint: str | None) -> str | None:
    from .endpoints import find

    spec = find(endpoint) if endpoint else None
    prices = getattr(spec, "prices", None)
    return getattr(prices, "model", None)


def _summarise(value: Any) -> Any:
    """Input images (data URIs, history file references) replaced by a short description."""
    if isinstance(value, Mapping):
        return {str(k): _summarise(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_summarise(v) for v in value]
    if isinstance(value, str) and value.startswith("data:"):
        kind = value[5:].split(";", 1)[0].split(",", 1)[0] or "data"
        return f"{OMITTED}{kind} input, {len(value) * 3 // 4 // 1024} KB"
    if isinstance(value, str) and value.startswith(_HISTORY_REF):
        return f"{OMITTED}input image kept in the run history ({value[len(_HISTORY_REF) :]})"
    return value


def _without_omitted(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _without_omitted(v) for k, v in value.items() if not _is_omitted(v)}
        return {k: v for k, v in kept.items() if v != []}
    if isinstance(value, list):
        return [_without_omitted(v) for v in value if not _is_omitted(v)]
    return value


def _is_omitted(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(OMITTED) or value == "***")


def _quoted(value: Any) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ',:\n"') else text


def _shortened(metadata: ImageMetadata) -> ImageMetadata:
    """For JPEG's 64 KB segment: the prompt cut (it is the only field that can be that long)."""
    request = dict(metadata.request)
    prompt = str(request.get("prompt", ""))
    request["prompt"] = prompt[:20000] + "… (cut: the full prompt did not fit in a JPEG)"
    return metadata.model_copy(update={"request": request})


def _xmp(payload: str, text: str, metadata: ImageMetadata) -> bytes:
    created = f"<xmp:CreateDate>{escape(metadata.created)}</xmp:CreateDate>" if metadata.created else ""
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:falstudio="{XMP_NAMESPACE}" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f"<xmp:CreatorTool>falstudio {escape(VERSION)}</xmp:CreatorTool>{created}"
        f"<falstudio:metadata>{escape(payload)}</falstudio:metadata>"
        f"<falstudio:parameters>{escape(text)}</falstudio:parameters>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _merged_exif(existing: bytes | None, text: str) -> bytes:
    """The file's EXIF (the engine's description and software kept) plus ``UserComment`` = ``text``."""
    from PIL import Image

    exif = Image.Exif()
    if existing:
        try:
            exif.load(existing)
        except Exception:  # unreadable EXIF: replaced rather than fail the save
            exif = Image.Exif()
    exif.get_ifd(_EXIF_IFD)[_USER_COMMENT] = b"UNICODE\x00" + text.encode("utf-16-be")
    exif.setdefault(_SOFTWARE, f"falstudio {VERSION}")
    return exif.tobytes().removeprefix(_image_chunks.EXIF_HEADER)


def _payload(data: bytes) -> str | None:
    """The ``falstudio`` JSON text in the file, or None."""
    mime = sniff_mime(data)
    if mime == "image/png":
        return _image_chunks.png_text(data, (KEY,)).get(KEY)
    if mime == "image/jpeg":
        xmp = _image_chunks.jpeg_get(data)[1]
    elif mime == "image/webp":
        xmp = _image_chunks.webp_get(data)[1]
    else:
        raise _image_chunks.ContainerError(f"not a PNG, JPEG or WebP file ({mime})")
    return _from_xmp(xmp) if xmp else None


def _from_xmp(packet: bytes) -> str | None:
    try:
        root = ET.fromstring(packet)
    except ET.ParseError:
        return None
    tag = f"{{{XMP_NAMESPACE}}}metadata"
    for element in root.iter():
        if element.tag == tag and element.text:
            return element.text
        if tag in element.attrib:
            return element.attrib[tag]
    return None
