"""Image previews: thumbnails go to the browser, the full image only on demand.

A :class:`Gallery` is one anywidget (``static/gallery.js``, sent once) whose ``tiles`` refer to
:class:`ImageTile` data models. A tile holds one thumbnail (≤ 384 px, JPEG, or WebP when it has
transparency), its ``alt`` text and caption, and is sent once when added; the gallery's own update
is then a list of references. Enlarging asks Python for the full image by message, so full-size bytes
never enter any widget state.
"""

from __future__ import annotations

import hashlib
import io
import json
import pathlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import anywidget
import ipywidgets
import traitlets

from ..._internal import images as _images
from ..._internal.redact import is_secret_key
from ..._internal.theme import COLOR, FONT_SMALL, esc
from ...client import Image, ImageSource, read_image
from ...endpoints import REDACTED
from .._html import card, grid_html, prompt_of, small_thumbnail, tile_html
from .._reader_view import ReaderView

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_ALT_MAX = 200
_ENDED_KEPT = 256  # a partial image arrives at most moments after its run ended: recent runs are enough
_SKIP_PARAMS = {"prompt", "sync_mode"}
_ALWAYS_SHOWN = ("image_size", "quality")  # they shape the picture and the price, even at their defaults

Caption = Sequence[tuple[str, str]]


def _thumbnail(source: ImageSource, max_px: int) -> tuple[bytes, str]:
    """The shared thumbnail of an output Image (made once, also used by Compare and the history), else one
    made from the bytes."""
    made = getattr(source, "thumbnail", None)
    if isinstance(source, Image) or (callable(made) and not hasattr(source, "mode")):  # not a PIL image's
        data, mime = made(max_px=max_px)  # type: ignore[misc]
        return bytes(data), mime
    return _images.thumbnail(read_image(source), max_px=max_px)


def _size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        return int(width), int(height)


def alt_text(prompt: str, index: int = 0, count: int = 1) -> str:
    """Alt text for image ``index`` of ``count`` made from ``prompt``."""
    text = " ".join(prompt.split()) or "generated image"
    if len(text) > _ALT_MAX:
        text = text[: _ALT_MAX - 1] + "…"
    return f"{text} (image {index + 1} of {count})" if count > 1 else text


def request_params(request: Any) -> dict[str, Any]:
    """The settings worth showing next to an image: what the user set, plus size and quality.

    Scalars only (no prompt, URLs or data URIs), and small objects of scalars (a custom size) as the JSON
    sent; secrets never appear.
    """
    if hasattr(request, "redacted"):
        chosen = set(request.redacted()) | set(_ALWAYS_SHOWN)
        body = {k: v for k, v in request.redacted(exclude_unset=False).items() if k in chosen}
    elif isinstance(request, Mapping):
        body = {str(k): v for k, v in request.items() if not is_secret_key(str(k))}  # a plain dict holds keys as-is
    else:
        return {}
    body = {k: json.dumps(v) if _small_object(v) else v for k, v in body.items()}
    return {
        k: v
        for k, v in body.items()
        if k not in _SKIP_PARAMS
        and v != REDACTED
        and isinstance(v, str | int | float | bool)
        and not (isinstance(v, str) and v.startswith(("http://", "https://", "data:")))
    }


def _small_object(value: Any) -> bool:
    """``{"width": 1536, "height": 864}`` and the like: a few scalars, nothing secret."""
    return (
        isinstance(value, Mapping)
        and 0 < len(value) <= 4
        and all(isinstance(v, int | float | bool) and not is_secret_key(str(k)) for k, v in value.items())
    )


def result_caption(result: Any) -> list[tuple[str, str]]:
    """Caption rows for the images of one result: endpoint, parameters, latency, estimated cost."""
    rows = [("Endpoint", str(getattr(result, "endpoint", "") or "unknown"))]
    prompt = prompt_of(getattr(result, "request", None))
    if prompt:
        rows.insert(0, ("Prompt", " ".join(prompt.split())))
    params = request_params(getattr(result, "request", None))
    if params:
        rows.append(("Parameters", ", ".join(f"{k}={v}" for k, v in params.items())))
    queue, inference = getattr(result, "queue_seconds", None), getattr(result, "inference_seconds", None)
    if queue is not None or inference is not None:
        parts = [
            f"queue {queue:.2f} s" if queue is not None else "",
            f"inference {inference:.2f} s" if inference is not None else "",
        ]
        rows.append(("Latency", " + ".join(p for p in parts if p)))
    cost = getattr(result, "cost", None)
    if cost is not None:
        rows.append(("Estimated cost", f"{cost} for the request"))
    return rows


def _refs(tiles: Sequence[ImageTile], _widget: object) -> list[str]:
    return [f"anywidget:{t.model_id}" for t in tiles]


class ImageTile(ipywidgets.Widget):
    """One image as data: thumbnail, alt text and caption (synced once), the source kept in Python."""

    thumbnail = traitlets.Bytes(b"").tag(sync=True)
    mime = traitlets.Unicode("image/jpeg").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)
    caption = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)
    checker = traitlets.Bool(False).tag(sync=True)
    forming = traitlets.Bool(False).tag(sync=True)  # a partial image of a run still going: not a result

    def __init__(
        self,
        image: ImageSource,
        *,
        alt: str = "",
        caption: Caption = (),
        thumbnail_px: int = _images.THUMBNAIL_PX,
        save_dir: str | pathlib.Path | None = None,
        forming: bool = False,
    ) -> None:
        data, mime = _thumbnail(image, thumbnail_px)
        checker = mime != "image/jpeg"  # thumbnails are JPEG unless the image has transparency
        super().__init__(
            thumbnail=data,
            mime=mime,
            alt=alt or "generated image",
            caption=[list(r) for r in caption],
            checker=checker,
            forming=forming,
        )
        self.image = image
        self._thumbnail_px = thumbnail_px
        self.save_dir = pathlib.Path(save_dir) if save_dir is not None else None

    def __repr__(self) -> str:
        return f"ImageTile({self.alt!r})"

    def show(self, image: ImageSource, caption: Caption | None = None) -> None:
        """Show another picture in this tile (an image still forming, then its next form)."""
        data, mime = _thumbnail(image, self._thumbnail_px)
        self.image = image
        with self.hold_sync():
            self.mime, self.checker, self.thumbnail = mime, mime != "image/jpeg", data
            if caption is not None:
                self.caption = [list(r) for r in caption]

    def full_bytes(self) -> bytes:
        """The full-size image bytes (fetched from the source on first use)."""
        return read_image(self.image)

    def save(self, directory: str | pathlib.Path | None = None) -> pathlib.Path:
        """Write the full image to ``directory`` (default: the tile's ``save_dir``, else the cwd), with how it
        was made written into the file when the image came from a request (see :mod:`falstudio.metadata`).
        A tile still forming (a streamed run's partial image) is not a result: saving it raises ValueError."""
        if self.forming:
            raise ValueError("this image is still forming (a partial image): save it once the final image is in")
        data = self.full_bytes()
        ext = _images.sniff_mime(data, "image/png").split("/")[-1].replace("jpeg", "jpg")
        folder = pathlib.Path(directory or self.save_dir or pathlib.Path.cwd())
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"falstudio-{hashlib.sha256(data).hexdigest()[:12]}.{ext}"
        describe = getattr(self.image, "metadata", None)
        info = describe() if callable(describe) else None
        if info is not None:
            from ...metadata import embed

            data = embed(data, info)
        path.write_bytes(data)
        return path

    def static_html(self, px: int = 160) -> str:
        data, mime = small_thumbnail(self.thumbnail, px)
        return tile_html(data, mime, self.alt, [(k, v) for k, v in self.caption], px=px, checkerboard=self.checker)


class Gallery(ReaderView, anywidget.AnyWidget):
    """Thumbnails of generated images in a grid, newest first; click one to enlarge it.

    ``limit`` bounds how many tiles stay on screen (older ones are dropped from the view, not deleted).
    Arrow keys move between tiles; Enter enlarges; Save and "Use as edit input" act on the full image.
    """

    _esm = _STATIC / "gallery.js"
    _css = _STATIC / "gallery.css"

    tiles = traitlets.List(traitlets.Instance(ImageTile)).tag(sync=True, to_json=_refs)
    columns = traitlets.Int(3).tag(sync=True)
    title = traitlets.Unicode("Images").tag(sync=True)
    can_use = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    lead = traitlets.Int(0).tag(sync=True)  # the first ``lead`` tiles are shown large (the current result)
    compact = traitlets.Bool(False).tag(sync=True)  # the other tiles as one row of small thumbnails

    def __init__(
        self,
        images: Iterable[ImageSource] = (),
        *,
        columns: int = 3,
        limit: int = 48,
        save_dir: str | pathlib.Path | None = None,
        thumbnail_px: int = _images.THUMBNAIL_PX,
        title: str = "Images",
        compact: bool = False,
    ) -> None:
        if columns < 1 or limit < 1:
            raise ValueError("columns and limit must be at least 1")
        super().__init__(columns=columns, title=title, compact=compact)
        self.limit = limit
        self.save_dir = save_dir
        self.thumbnail_px = thumbnail_px
        self._lock = threading.RLock()
        self._on_use: Callable[[ImageSource], None] | None = None
        self._forming: dict[object, ImageTile] = {}
        self._ended: dict[object, None] = {}  # runs whose forming tile is gone for good (the newest _ENDED_KEPT)
        self.on_msg(self._on_message)
        self.add_images(list(images))
        self.observe(lambda _change: self._reader_changed(), "tiles")

    # -- adding images ---------------------------------------------------------------------------

    def add(self, image: ImageSource, *, alt: str = "", caption: Caption = ()) -> ImageTile:
        """Show one image first in the grid; returns its tile."""
        return self._prepend([self._tile(image, alt, caption)])[0]

    def add_images(
        self, images: Sequence[ImageSource], *, prompt: str = "", caption: Caption = (), lead: bool = False
    ) -> list[ImageTile]:
        """Show several images (kept in their order) ahead of the existing ones; ``lead``: shown large, as the
        current result (the previous lead joins the others)."""
        return self._prepend(
            [self._tile(img, alt_text(prompt, i, len(images)), caption) for i, img in enumerate(images)], lead=lead
        )

    def add_result(self, result: Any, *, lead: bool = False) -> list[ImageTile]:
        """Show the images of a client ``Result`` with alt text from its prompt and a caption."""
        request = getattr(result, "request", None)
        return self.add_images(
            list(result.images), prompt=prompt_of(request), caption=result_caption(result), lead=lead
        )

    def show_forming(
        self, key: object, image: ImageSource, *, alt: str = "", caption: Caption = (), lead: bool = False
    ) -> ImageTile | None:
        """Show an image still forming (a streamed run's newest partial image) in one tile kept for ``key``,
        first in the grid; later calls with the same key update that tile. Once :meth:`end_forming` was called
        for ``key`` nothing more is shown for it (a late partial of a cancelled run is not a result): None."""
        with self._lock:
            if key in self._ended:
                return None
            tile = self._forming.get(key)
        if tile is not None:
            tile.show(image, caption)
            return tile
        tile = self._tile(image, alt, caption)
        tile.forming = True
        with self._lock:
            self._forming[key] = tile
        return self._prepend([tile], lead=lead)[0]

    def end_forming(self, key: object) -> None:
        """Remove the forming tile of ``key`` (its run ended: the final images replace it, or nothing does)."""
        with self._lock:
            self._ended[key] = None
            if len(self._ended) > _ENDED_KEPT:
                del self._ended[next(iter(self._ended))]
            tile = self._forming.pop(key, None)
            if tile is None:
                return
            tiles = list(self.tiles)
            with self.hold_sync():
                if tile in tiles[: self.lead]:
                    self.lead -= 1
                self.tiles = [t for t in tiles if t is not tile]
        tile.close()

    def demote(self) -> None:
        """The large (current) images join the others: a new run is about to take their place."""
        self.lead = 0

    def on_use(self, callback: Callable[[ImageSource], None] | None) -> None:
        """Call ``callback(image)`` when someone clicks "Use as edit input" (None hides the button)."""
        self._on_use = callback
        self.can_use = callback is not None

    def clear(self) -> None:
        with self._lock:
            old, self.tiles = self.tiles, []
        for tile in old:
            tile.close()

    def close(self) -> None:
        for tile in self.tiles:
            tile.close()
        super().close()

    # -- reading ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.tiles)

    def __repr__(self) -> str:
        return f"Gallery(images={len(self.tiles)}, columns={self.columns})"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = self._static_html()  # shown when the live widget cannot be
        return data, metadata

    def _static_html(self) -> str:
        shown = self.tiles[: min(4, self.columns * 2)]
        more = len(self.tiles) - len(shown)
        muted = f"color:{COLOR['muted']};font-size:{FONT_SMALL}"
        note = f'<div style="{muted}">and {more} more</div>' if more > 0 else ""
        body = (
            grid_html((t.static_html() for t in shown), min(self.columns, 4))
            if shown
            else f'<div style="{muted}">No images yet.</div>'
        )
        return card(f"<b>{esc(self.title)}</b> ({len(self.tiles)})", body + note)

    # -- internals -------------------------------------------------------------------------------

    def _tile(self, image: ImageSource, alt: str, caption: Caption) -> ImageTile:
        return ImageTile(image, alt=alt, caption=caption, thumbnail_px=self.thumbnail_px, save_dir=self.save_dir)

    def _prepend(self, tiles: list[ImageTile], *, lead: bool = False) -> list[ImageTile]:
        with self._lock:
            current, shown = list(self.tiles), self.lead
            ordered = tiles + current if lead else current[:shown] + tiles + current[shown:]
            kept, dropped = ordered[: self.limit], ordered[self.limit :]
            with self.hold_sync():
                self.tiles = kept
                self.lead = min(len(tiles) if lead else shown, len(kept))
        for tile in dropped:
            tile.close()
        return tiles

    def _find(self, ref: object) -> ImageTile:
        tiles: list[ImageTile] = list(self.tiles)
        for tile in tiles:
            if ref in (tile.model_id, f"anywidget:{tile.model_id}"):
                return tile
        raise LookupError("that image is no longer in the gallery")

    def _on_message(self, _widget: object, content: Any, _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        event, ref = content.get("event"), content.get("tile")
        try:
            tile = self._find(ref)
            if event == "enlarge":
                data = tile.full_bytes()
                width, height = _size(data)
                mime = _images.sniff_mime(data, "image/png")
                self.send({"event": "full", "tile": ref, "mime": mime, "width": width, "height": height}, [data])
            elif event == "save":
                self.status = f"Saved to {tile.save()}"
            elif event == "use" and self._on_use is not None:
                self._on_use(tile.image)
                self.status = "Added to the edit inputs"
        except Exception as exc:  # shown in the gallery: exceptions in comm handlers are otherwise invisible
            self.status = f"Error: {exc}"
            if event == "enlarge":
                self.send({"event": "full", "tile": ref, "error": f"Could not load the full image: {exc}"})
