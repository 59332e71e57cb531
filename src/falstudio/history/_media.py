"""A history folder's image files: the input images of requests and the output images of results, stored once
by content in ``images/``, and their previews in ``thumbs/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from falstudio._internal import images as _images
from falstudio._internal.images import THUMBNAIL_PX
from falstudio._internal.redact import redact

from ._files import atomic_write, extension, pixel_size, store_blob
from ._record import FILE_REF, StoredImage

IMAGES = "images"  # the folder's images, by content
THUMBS = "thumbs"  # their previews


def thumbnail(root: Path, image: StoredImage, max_px: int = 160) -> tuple[bytes, str] | None:
    """A cached preview of a stored image: ``(bytes, content_type)``, or None if its file is gone.

    Made from the shared preview saved with the image when there is one (no decoding of the full image).
    """
    if not image.path or not image.sha256:
        return None
    for px in (max_px, THUMBNAIL_PX):
        for content_type in ("image/jpeg", "image/webp"):
            cached = root / THUMBS / f"{image.sha256}-{px}.{extension(content_type)}"
            if cached.exists():
                data = cached.read_bytes()
                if px == max_px:
                    return data, content_type
                if px > max_px:
                    return save_thumbnail(root, image.sha256, max_px, _images.thumbnail(data, max_px=max_px))
    source = root / image.path
    try:
        made = _images.thumbnail(source.read_bytes(), max_px=max_px)
    except (OSError, ValueError):  # gone, or not an image any more (UnidentifiedImageError is an OSError)
        return None
    return save_thumbnail(root, image.sha256, max_px, made)


def save_thumbnail(root: Path, digest: str, max_px: int, thumbnail: tuple[bytes, str]) -> tuple[bytes, str]:
    data, content_type = thumbnail
    try:
        atomic_write(root / THUMBS / f"{digest}-{max_px}.{extension(content_type)}", data)
    except OSError:
        pass  # a read-only history still displays
    return data, content_type


def store_request(root: Path, request: dict[str, Any], *, unsynced: list[Path] | None = None) -> dict[str, Any]:
    """The request scrubbed, its data URIs (input images, masks) moved to files in images/ (``unsynced``: as in
    :func:`store_blob`)."""

    def externalize(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: externalize(v) for k, v in value.items()}
        if isinstance(value, list):
            return [externalize(v) for v in value]
        if isinstance(value, str) and _images.is_data_uri(value):
            try:
                data, content_type = _images.decode_data_uri(value)
            except ValueError:
                return value
            name, _ = store_blob(root / IMAGES, data, _images.sniff_mime(data, content_type), unsynced=unsynced)
            return f"{FILE_REF}{IMAGES}/{name}"
        return value

    stored: dict[str, Any] = externalize(redact(request))
    return stored


def store_images(
    root: Path, output: dict[str, Any] | None, blobs: list[bytes], thumbnails: list[tuple[bytes, str] | None]
) -> list[StoredImage]:
    described = [i if isinstance(i, dict) else {} for i in ((output or {}).get("images") or [])]
    stored = []
    for index in range(max(len(described), len(blobs))):
        info = described[index] if index < len(described) else {}
        url = info.get("url") if isinstance(info.get("url"), str) else None
        data = blobs[index] if index < len(blobs) else None
        if data is None and url and _images.is_data_uri(url):  # sync_mode: the image is in the output
            try:
                data = _images.decode_data_uri(url)[0]
            except ValueError:
                data = None
        if url and _images.is_data_uri(url):
            url = None  # the bytes are on disk; keep the record small
        if data is None:
            stored.append(
                StoredImage(
                    url=url,
                    content_type=info.get("content_type"),
                    width=info.get("width"),
                    height=info.get("height"),
                )
            )
            continue
        content_type = _images.sniff_mime(data, info.get("content_type") or "application/octet-stream")
        name, digest = store_blob(root / IMAGES, data, content_type)
        shared = thumbnails[index] if index < len(thumbnails) else None
        if shared is not None:  # the preview the widgets already made: the history never decodes the image
            save_thumbnail(root, digest, THUMBNAIL_PX, shared)
        width, height = info.get("width"), info.get("height")
        if not (isinstance(width, int) and isinstance(height, int)):
            width, height = pixel_size(data)
        stored.append(
            StoredImage(
                path=f"{IMAGES}/{name}", sha256=digest, content_type=content_type, width=width, height=height, url=url
            )
        )
    return stored


def too_large(images: list[StoredImage]) -> str | None:
    """What to say about output images too large to decode (kept on disk as they came, never previewed)."""
    for number, image in enumerate(images, 1):
        if image.width and image.height and image.width * image.height > _images.MAX_PIXELS:
            return f"output image {number}: {_images.ImageTooLarge(image.width, image.height)}; its file is kept"
    return None
