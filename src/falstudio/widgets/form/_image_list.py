"""The editor for image-URL fields: rows with a thumbnail, the file's name, Move up and Remove, plus a path or URL,
Upload, drag-and-drop and paste (anywhere on the field), and ``form.add_image`` from Python.

Images stay in the kernel: the list is a plain (unsynced) trait, and only small thumbnails travel to the
browser. Local things (paths, bytes, uploads, PIL images) become ``data:`` URIs the endpoint accepts.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import ipywidgets as w
import traitlets

from ..._internal import images as _images
from ..._internal.regular_files import read_regular
from ..._internal.theme import COLOR, esc, message, style
from ...client import is_loopback_url
from .._a11y import name_by_tooltip
from .._drop_zone import DropZone
from .._html import CHECKERBOARD, close_tree

MAX_IMAGE_BYTES = 50 * 1024 * 1024  # OpenAI's limit per input image; a bigger file is refused unread

THUMB_PX = 64


def to_image_url(item: Any) -> str:
    """An http(s) URL or a ``data:image/...`` URI for a URL, data URI, path, bytes or PIL image."""
    from PIL import Image

    if isinstance(item, Image.Image):
        return _images.encode_image(item)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return _image_data_uri(bytes(item), "these bytes")
    if isinstance(item, str) and item.startswith(("http://", "https://")):
        return item
    if isinstance(item, str) and (scheme := re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", item)):
        raise ValueError(f"cannot use {scheme[0]} URLs; give an http(s) URL, a data:image/... URI or a file path")
    if isinstance(item, str) and item.startswith("data:"):
        if not item.startswith("data:image/"):
            raise ValueError(f"not an image data URI: {item[:40]!r}...; expected data:image/png;base64,...")
        return item
    if isinstance(item, (str, os.PathLike)):
        path = Path(item).expanduser()
        if not path.is_file():
            raise ValueError(f"no such file: {str(path)!r}; give an http(s) URL, a data:image/... URI or a file path")
        return _image_data_uri(read_regular(path, MAX_IMAGE_BYTES), str(path))
    raise TypeError(f"cannot use a {type(item).__name__} as an image; give a URL, data URI, path, bytes or PIL image")


def _image_data_uri(data: bytes, what: str) -> str:
    if len(data) > MAX_IMAGE_BYTES:
        raise ValueError(f"{what}: {len(data):,} bytes, over the {MAX_IMAGE_BYTES // 2**20} MB an input image may be")
    mime = _images.sniff_mime(data)
    if not mime.startswith("image/"):
        raise ValueError(f"{what}: not a PNG, JPEG, WebP or GIF image")
    return _images.to_data_uri(data, mime)


def describe(url: str) -> str:
    """A short, deterministic description: ``'PNG 1024×1024, 1.2 MB'`` or the URL shortened."""
    if not _images.is_data_uri(url):
        return url if len(url) <= 72 else url[:40] + "…" + url[-28:]
    return _inspect(url)[1]


def thumb_html(url: str, alt: str) -> str:
    """An ``<img>`` for one image: a small kernel-made thumbnail for data URIs, the URL itself otherwise."""
    if not _images.is_data_uri(url):
        return img(url, alt, px=THUMB_PX)
    src, description = _inspect(url)
    if src is None:
        problem = "too large" if "too large" in description else "not an image"
        return f'<span style="color:{COLOR["error"]}" title="{esc(description)}">Error: {problem}</span>'
    return img(src, alt, px=THUMB_PX)


def img(src: str, alt: str, *, px: int = THUMB_PX) -> str:
    """An ``<img>`` with alt text and a checkerboard behind it (transparent images stay visible)."""
    frame = style(
        display="inline-block",
        width=f"{px}px",
        height=f"{px}px",
        overflow="hidden",
        vertical_align="middle",
        font_size="0.7em",
        line_height="1.1",
    )  # a broken image's alt stays inside
    css = f"max-width:{px}px;max-height:{px}px;object-fit:contain;{CHECKERBOARD}"
    return f'<span style="{frame}"><img src="{esc(src)}" alt="{esc(alt)}" title="{esc(alt)}" style="{css}"></span>'


@lru_cache(maxsize=16)
def _inspect(uri: str) -> tuple[str | None, str]:
    """``(thumbnail data URI or None, description)`` of a data URI; cached, as rows are redrawn often."""
    try:
        data, mime = _images.decode_data_uri(uri)
    except ValueError:
        return None, "unreadable data URI"
    kind, size = mime.removeprefix("image/").upper(), _human_bytes(len(data))
    try:
        image = _images.open_image(data)
        thumb, thumb_mime = _images.thumbnail(image, max_px=THUMB_PX * 2)
    except _images.ImageTooLarge as exc:  # the endpoint refuses it too: say so, and what to do
        return None, f"{kind} {exc.width}×{exc.height}, {size}: too large, resize it to at most 1536 px"
    except Exception:  # not decodable: shown as such; the model or the endpoint reports the error
        return None, f"{kind}, {size}"
    return _images.to_data_uri(thumb, thumb_mime), f"{kind} {image.width}×{image.height}, {size}"


def _human_bytes(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n / 1024 / 1024:.1f} MB"


class ImageListEditor(w.VBox):
    """Edit a list of image URLs. ``urls`` holds them (kernel-side only); ``add()`` takes anything image-like."""

    urls = traitlets.List(traitlets.Unicode(), help="http(s) URLs or data:image URIs, in order (not synced)")

    def __init__(self, label: str, description: str, *, max_items: int | None = None, offline: bool = False) -> None:
        self.label = label
        self.max_items = max_items
        self.offline = offline  # for the embedded offline server, which cannot fetch http(s) URLs
        noun = "image" if max_items == 1 else "images"
        self.title = w.HTML(f"<b>{esc(label)}</b>", tooltip=description)
        self.help = w.HTML(
            message(
                "muted",
                f"{description} "
                + (
                    "The offline preview server has no network: upload the image or type a file path "
                    "(http(s) URLs work once FAL_KEY is set)."
                    if offline
                    else "Paste a URL or a file path, upload, or call form.add_image(...) with a path, bytes or "
                    "PIL image."
                ),
            )
        )
        self.rows = w.VBox()
        self.source = w.Text(
            description=f"add {noun}",
            placeholder=self._placeholder(),
            tooltip=f"{self._placeholder().capitalize()} on the kernel's machine, then press Add ({label})",
            continuous_update=False,
            style={"description_width": "initial"},
            layout=w.Layout(flex="1 1 auto", width="auto", max_width="40em"),
        )
        self.add_button = w.Button(
            description="Add",
            icon="plus",
            tooltip=f"Add this image to {label}",
            layout=w.Layout(width="auto", flex="0 0 auto"),
        )
        self.upload = DropZone(
            "Upload…",
            button_tooltip=f"Upload image files into {label} (up to about 10 MB at a time); or drop or paste them here",
            hint="or drop or paste images on this field" if max_items != 1 else "or drop or paste an image here",
            multiple=max_items != 1,
            target="fs-image-field",
        )
        self.status = w.HTML()
        self.names: dict[str, str] = {}  # url -> the file name it came from (shown in its row)
        self._row_cache: dict[tuple[int, str], w.HBox] = {}
        self.add_button.on_click(lambda _: self._add_from_text())
        self.upload.on_files(self._on_files)
        super().__init__(
            [
                self.title,
                self.rows,
                w.HBox([self.source, self.add_button], layout=w.Layout(align_items="center")),
                self.upload,
                self.status,
                self.help,
            ],
            layout=w.Layout(margin="2px 0"),
        )
        self.add_class("fs-image-field")
        self._redraw()

    def add(self, item: Any, name: str | None = None) -> str:
        """Append an image (URL, data URI, path, bytes or PIL image); returns the URL as stored. ``name``: what
        its row calls it (default: a path's file name)."""
        if self.max_items is not None and len(self.urls) >= self.max_items:
            raise ValueError(f"{self.label} holds at most {self.max_items} image(s); remove one first")
        url = to_image_url(item)
        if name is None and isinstance(item, (str, os.PathLike)) and not str(item).startswith(("data:", "http")):
            name = Path(item).name
        if name:
            self.names[url] = name
        self.urls = [*self.urls, url]
        return url

    def remove(self, index: int) -> None:
        self.urls = [u for i, u in enumerate(self.urls) if i != index]

    def move_up(self, index: int) -> None:
        """Swap image ``index`` with the one before it (the order is the order sent)."""
        if 0 < index < len(self.urls):
            urls = list(self.urls)
            urls[index - 1], urls[index] = urls[index], urls[index - 1]
            self.urls = urls

    def _add_from_text(self) -> None:
        text = self.source.value.strip()
        if not text:
            self.status.value = message("error", "paste a URL or type a file path first")
            return
        if self.offline and text.startswith(("http://", "https://")) and not is_loopback_url(text):
            self.status.value = message(
                "error",
                f"{self.label}: the offline preview server cannot fetch http(s) URLs (it has no network); "
                "press Upload, or type a file path or a data:image URI",
            )
            return
        try:
            self.add(text)
        except (ValueError, OSError) as exc:  # OSError: e.g. a file it may not read
            self.status.value = message("error", str(exc))
            return
        self.source.value = ""
        self.status.value = ""

    def _on_files(self, files: list[tuple[str, bytes]]) -> None:
        problems = []
        for name, data in files:
            try:
                self.add(data, name=name)
            except (ValueError, OSError) as exc:
                problems.append(f"{name}: {exc}")
        self.status.value = message("error", "; ".join(problems)) if problems else ""

    @traitlets.observe("urls")
    def _on_urls(self, change: dict[str, Any]) -> None:
        self.names = {u: n for u, n in self.names.items() if u in change["new"]}
        self._redraw()

    def _row(self, i: int, url: str) -> w.HBox:
        remove = w.Button(
            description="Remove",
            icon="trash",
            tooltip=f"Remove image {i + 1} from {self.label}",
            layout=w.Layout(width="auto", flex="0 0 auto"),
        )
        remove.on_click(lambda _: self.remove(i))
        name = self.names.get(url)
        shown = f"{name} · {describe(url)}" if name else describe(url)
        info = w.HTML(
            f'<span style="{style(font_size="0.9em", padding="0 8px")}" title="{esc((name or url)[:200])}">'
            f"{i + 1}. {esc(shown)}</span>",
            layout=w.Layout(flex="1 1 auto", min_width="0"),
        )
        thumb = w.HTML(thumb_html(url, f"{self.label} image {i + 1}" + (f": {name}" if name else "")))
        parts = [thumb, info]
        if i > 0:
            up = w.Button(
                description="Move up",
                tooltip=f"Move image {i + 1} up in {self.label} (the order is the order sent)",
                layout=w.Layout(width="auto", flex="0 0 auto"),
            )
            name_by_tooltip(up)
            up.on_click(lambda _: self.move_up(i))
            parts.append(up)
        return w.HBox([*parts, remove], layout=w.Layout(align_items="center", grid_gap="4px"))

    def _redraw(self) -> None:
        stale, kept = self._row_cache, {}
        for i, url in enumerate(self.urls):  # rows whose position and image did not change are kept
            kept[(i, url)] = stale.pop((i, url), None) or self._row(i, url)
        self._row_cache = kept
        self.rows.children = list(kept.values())
        for row in stale.values():
            close_tree(row)
        full = self.max_items is not None and len(self.urls) >= self.max_items
        for control in (self.source, self.add_button, self.upload):
            control.disabled = full
        self.source.placeholder = f"{self.label} is full (at most {self.max_items})" if full else self._placeholder()

    def _placeholder(self) -> str:
        return "a file path or data:image/… (or Upload)" if self.offline else "https://…, data:image/…, or a file path"
