"""A before/after view of two images (an edit's input and output): a swipe slider or side by side.

The position, mode, labels and images are traits, so Python can set them and reads what the user did.
Where the widget's JavaScript cannot load (a reopened notebook, GitHub, an HTML export), the static
``text/html`` fallback shows both images side by side.
"""

from __future__ import annotations

import io
import pathlib
from typing import Any

import anywidget
import traitlets

from .._internal import images as _images
from .._internal.theme import esc
from ..client import ImageSource, read_image
from ._html import card, grid_html, small_thumbnail, tile_html
from ._reader_view import ReaderView

_STATIC = pathlib.Path(__file__).parent / "static"
_FALLBACK_PX = 240

ImageLike = ImageSource  # bytes, a PIL image, a falstudio Image, a file path or a data URI


def image_bytes(source: ImageSource) -> bytes:
    """Encoded image bytes (PNG, JPEG, WebP or GIF) from any of the image forms falstudio accepts."""
    try:
        return read_image(source)
    except TypeError:
        if isinstance(source, str):  # an http(s) URL
            raise TypeError(
                "BeforeAfter needs the image itself, not a URL: pass the falstudio Image, bytes or a path"
            ) from None
        raise
    except ValueError:
        raise ValueError("expected PNG, JPEG, WebP or GIF image data; these bytes are not an image") from None


class ImageBytes(traitlets.Bytes):
    """A Bytes trait that accepts any image form and stores encoded bytes (sent as a binary buffer)."""

    info_text = "image bytes, a PIL image, a falstudio Image, a path or a data URI"

    def validate(self, obj: Any, value: Any) -> bytes:
        try:
            return image_bytes(value)
        except (TypeError, ValueError, OSError) as exc:
            raise traitlets.TraitError(f"{type(obj).__name__}.{self.name}: {exc}") from None


class BeforeAfter(ReaderView, anywidget.AnyWidget):
    """Two images compared with a slider (``position``: percent of the width showing ``before``) or side by side.

    Keyboard: the slider is a native range input (arrow keys move 1 %, Page Up/Down 10 %, Home/End the ends).
    """

    _esm = _STATIC / "before_after.js"
    _css = _STATIC / "before_after.css"

    before = ImageBytes(b"").tag(sync=True)
    after = ImageBytes(b"").tag(sync=True)
    position = traitlets.Float(50.0, min=0.0, max=100.0).tag(sync=True)
    mode = traitlets.Enum(("slider", "side-by-side"), default_value="slider").tag(sync=True)
    before_label = traitlets.Unicode("Before").tag(sync=True)
    after_label = traitlets.Unicode("After").tag(sync=True)
    alt = traitlets.Unicode("").tag(sync=True)  # what the images show, e.g. the edit prompt

    @classmethod
    def from_images(
        cls, before: ImageLike, after: ImageLike, *, max_px: int | None = None, **traits: Any
    ) -> BeforeAfter:
        """Compare ``before`` with ``after``; ``max_px`` shrinks both first (smaller widget state)."""
        data = [image_bytes(before), image_bytes(after)]
        if max_px is not None:
            data = [_images.thumbnail(d, max_px=max_px, quality=90)[0] for d in data]
        return cls(before=data[0], after=data[1], **traits)

    def __repr__(self) -> str:
        return (
            f"BeforeAfter(before={_describe(self.before)}, after={_describe(self.after)}, "
            f"position={self.position:g}, mode={self.mode!r})"
        )

    @traitlets.observe("before", "after", "before_label", "after_label", "alt")
    def _images_changed(self, _change: Any) -> None:
        self._reader_changed()

    def _static_html(self) -> str:
        tiles = []
        for label, data in ((self.before_label, self.before), (self.after_label, self.after)):
            alt = f"{label}: {self.alt}" if self.alt else label
            thumb, mime = small_thumbnail(data, _FALLBACK_PX) if data else (None, "")
            tiles.append(tile_html(thumb, mime, alt, title=label, px=_FALLBACK_PX))
        title = f"<b>{esc(self.before_label)} / {esc(self.after_label)}</b>"
        if self.alt:
            title += f" — {esc(self.alt)}"
        return card(title, grid_html(tiles, columns=2))

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle  # anywidget's is (data, metadata); the shared StaticFallback expects a dict
        data["text/html"] = self._static_html()
        return data, metadata


def _describe(data: bytes) -> str:
    if not data:
        return "none"
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return f"{image.width}x{image.height} {image.format}"
