"""An output image: its bytes fetched once and kept, a shared thumbnail, saving with how it was made."""

from __future__ import annotations

import asyncio
import base64
import builtins
import concurrent.futures
import mimetypes
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import PrivateAttr

from falstudio.endpoints import ImageFile

from .._internal import images as _images
from . import errors

if TYPE_CHECKING:
    import httpx
    from PIL import Image as PILImage

    from falstudio.endpoints import CostEstimate
    from falstudio.metadata import ImageMetadata

    from ._billed import BilledUnits

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif"}


class Downloader(Protocol):
    """Fetches image URLs for :class:`Image` (the client that produced it)."""

    def download(self, url: str) -> builtins.bytes: ...

    async def adownload(self, url: str) -> builtins.bytes: ...


class MadeBy(Protocol):
    """What an image's metadata reads from the result it is part of (a :class:`~falstudio.client.results.Result`)."""

    @property
    def endpoint(self) -> str: ...
    @property
    def request_id(self) -> str: ...
    @property
    def images(self) -> Sequence[Image]: ...
    @property
    def cost(self) -> CostEstimate | None: ...
    @property
    def billed(self) -> BilledUnits | None: ...
    def redacted_request(self) -> Any: ...


class Origin:
    """Links the images of one result to it (for the metadata saved with them): set as the result is built."""

    def __init__(self) -> None:
        self.result: MadeBy | None = None
        self.created = time.time()


class Image(ImageFile):
    """One output image. Its bytes are fetched once, on first use, and kept; so is its thumbnail, which the
    gallery, Compare and the run history share (the full image is decoded once)."""

    _data: builtins.bytes | None = PrivateAttr(default=None)
    _downloader: Downloader | None = PrivateAttr(default=None)
    _origin: Origin | None = PrivateAttr(default=None)  # the Result this image is part of
    _thumbnail: tuple[builtins.bytes, str] | None = PrivateAttr(default=None)
    _fetching: concurrent.futures.Future[builtins.bytes] | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)  # held briefly, never during I/O
    _thumbnail_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def model_post_init(self, context: Any, /) -> None:
        if isinstance(context, dict):
            self._downloader = context.get("downloader")
            self._origin = context.get("origin")

    def bytes(self, *, keep: bool = True) -> builtins.bytes:
        """The image file's bytes (a data URI is decoded locally; a URL is downloaded once, even when several
        threads ask at once: the others wait for that download).

        ``keep=False``: bytes not kept already are fetched for this call only (the run history stores them on
        disk and lets them go, so a long sweep does not hold every image in memory).
        """
        if self._data is None and _images.is_data_uri(self.url):
            data = _images.decode_data_uri(self.url)[0]
            if not keep:
                return data
            self._data = data
        if self._data is not None:
            return self._data
        fetch, mine = self._claim()
        if not mine:
            return fetch.result()
        download = self._downloader.download if self._downloader is not None else plain_download
        try:
            data = download(self.url)
        except BaseException as exc:
            self._release(fetch, exc)
            raise
        if keep:
            return self._deliver(fetch, data)
        with self._lock:
            self._fetching = None  # whoever waited has them; a later call fetches again
        fetch.set_result(data)
        return data

    async def abytes(self) -> builtins.bytes:
        """:meth:`bytes` for async code: downloads (or waits for another's download) without blocking the loop."""
        if self._data is not None or _images.is_data_uri(self.url) or self._downloader is None:
            return self.bytes()
        fetch, mine = self._claim()
        if not mine:
            return await asyncio.wrap_future(fetch)
        try:
            data = await self._downloader.adownload(self.url)
        except BaseException as exc:
            self._release(fetch, exc)
            raise
        return self._deliver(fetch, data)

    def _claim(self) -> tuple[concurrent.futures.Future[builtins.bytes], bool]:
        """The download in flight, and whether it is ours to do."""
        with self._lock:
            if self._fetching is not None:
                return self._fetching, False
            self._fetching = concurrent.futures.Future()
            return self._fetching, True

    def _deliver(self, fetch: concurrent.futures.Future[builtins.bytes], data: builtins.bytes) -> builtins.bytes:
        self._data = data
        fetch.set_result(data)
        return data

    def _release(self, fetch: concurrent.futures.Future[builtins.bytes], error: BaseException) -> None:
        with self._lock:
            self._fetching = None  # a later call tries again
        fetch.set_exception(error)

    @property
    def mime_type(self) -> str:
        return self.content_type or (self._data and _images.sniff_mime(self._data)) or "image/png"

    def to_pil(self) -> PILImage.Image:
        return _images.open_image(self.bytes())

    def metadata(self) -> ImageMetadata | None:
        """How this image was made (endpoint, redacted request, request id, model, date), as saved into files."""
        origin = self._origin
        result = origin.result if origin is not None else None
        if origin is None or result is None:
            return None
        from falstudio.metadata import build

        return build(
            endpoint=result.endpoint,
            request=result.redacted_request(),
            request_id=result.request_id,
            mode=getattr(self._downloader, "mode", None),
            created=origin.created,
            index=next(i for i, image in enumerate(result.images) if image is self),
            count=len(result.images),
            cost_estimate=result.cost,
            billed=result.billed,
        )

    def save(self, path: str | os.PathLike[str], *, metadata: bool = True) -> Path:
        """Write the image to ``path`` (a folder gets the file's own name); a differing suffix converts it.

        PNG, JPEG and WebP files carry how the image was made (see :mod:`falstudio.metadata`; secrets never),
        unless ``metadata=False``.
        """
        target = Path(path)
        if target.is_dir():
            target = target / (self.file_name or f"image{_EXTENSIONS.get(self.mime_type, '.png')}")
        elif not target.suffix:
            target = target.with_suffix(_EXTENSIONS.get(self.mime_type, ".png"))
        wanted = mimetypes.guess_type(target.name)[0]
        data = self.bytes()
        if wanted and wanted.startswith("image/") and wanted != _images.sniff_mime(data, self.mime_type):
            data = _images.image_bytes(self.to_pil(), wanted.split("/")[1])
        info = self.metadata() if metadata else None
        if info is not None:
            from falstudio.metadata import embed

            data = embed(data, info)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    @property
    def shared_thumbnail(self) -> tuple[builtins.bytes, str] | None:
        """The :data:`~falstudio._internal.images.THUMBNAIL_PX` preview if a view already made it, else None."""
        return self._thumbnail

    def thumbnail(self, max_px: int = _images.THUMBNAIL_PX) -> tuple[builtins.bytes, str]:
        """A small preview ``(bytes, content_type)``: JPEG, or WebP when the image has transparency.

        The :data:`~falstudio._internal.images.THUMBNAIL_PX` one is made once and kept; smaller ones are made
        from it (without decoding the full image again).
        """
        shared = self._thumbnail
        if shared is None:
            data = self.bytes()
            with self._thumbnail_lock:
                if self._thumbnail is None:
                    self._thumbnail = _images.thumbnail(data)
                shared = self._thumbnail
        if max_px >= _images.THUMBNAIL_PX:
            return shared
        return _images.thumbnail(shared[0], max_px)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        try:
            data, mime = self.thumbnail()
        except Exception:  # a display hook must not raise
            return {"text/plain": repr(self)}
        return {mime: base64.b64encode(data).decode("ascii"), "text/plain": repr(self)}

    def __repr__(self) -> str:
        size = f"{self.width}x{self.height} " if self.width and self.height else ""
        where = self.url if not _images.is_data_uri(self.url) else "data URI"
        return f"Image({size}{self.content_type or 'image'}, {where})"

    __str__ = __repr__


def plain_download(url: str, *, auth: httpx.Auth | None = None, timeout: float | None = 60.0) -> builtins.bytes:
    """One GET outside any client's loop, refused past the download cap (``$FALSTUDIO_MAX_DOWNLOAD_MB``, 256 MiB);
    failures become :class:`~falstudio.client.errors.FalError`."""
    import httpx

    from .._internal.tls import default_context
    from ._download_cap import download_cap

    try:
        with httpx.stream(
            "GET", url, auth=auth, follow_redirects=True, timeout=timeout, verify=default_context()
        ) as response:
            if not response.is_error:
                return download_cap(url).read(response)
            response.read()
    except httpx.TransportError as exc:
        raise errors.network_error(exc, url, timeout=timeout) from exc
    raise errors.from_response(response, endpoint=None)
