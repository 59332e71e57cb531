"""A mask painter: a brush and an eraser over the first input image (``static/mask_painter.js``).

The browser paints over a small copy of the image and, on "Use as mask", makes the mask at the image's own size
as fal (after OpenAI) expects it: opaque where the image stays, transparent where the edit applies. Only the
small copy goes to the browser; the mask comes back in one message and becomes the mask field's value.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import traitlets

from ..._internal import images as _images
from ..._internal.theme import message as _message

_STATIC = pathlib.Path(__file__).parent.parent / "static"
BACKGROUND_PX = 512


def image_size(url: str) -> tuple[int, int] | None:
    """``(width, height)`` of an image given as a data URI (None for a URL or something unreadable)."""
    if not _images.is_data_uri(url):
        return None
    try:
        data, _mime = _images.decode_data_uri(url)
        image = _images.open_image(data)
    except Exception:  # not an image: the field's own row says so
        return None
    return int(image.width), int(image.height)


class MaskPainter(anywidget.AnyWidget):
    """Paint a mask over ``show(url)``'s image; ``on_mask(fn)`` gets the PNG bytes at the image's size."""

    _esm = _STATIC / "mask_painter.js"
    _css = _STATIC / "mask_painter.css"

    background = traitlets.Bytes(b"").tag(sync=True)
    mime = traitlets.Unicode("image/jpeg").tag(sync=True)
    image_width = traitlets.Int(0).tag(sync=True)
    image_height = traitlets.Int(0).tag(sync=True)
    brush = traitlets.Int(24).tag(sync=True)  # in pixels of the shown copy

    def __init__(self) -> None:
        super().__init__()
        self._callbacks: list[Callable[[bytes], None]] = []
        self.on_msg(self._on_message)

    def show(self, url: str) -> None:
        """Paint over the image at ``url`` (a data URI: an uploaded, dropped or pasted image)."""
        size = image_size(url)
        if size is None:
            raise ValueError("the mask painter paints over an uploaded, dropped or pasted image (not a URL)")
        data, mime = _images.thumbnail(_images.decode_data_uri(url)[0], max_px=BACKGROUND_PX)
        with self.hold_sync():
            self.image_width, self.image_height = size
            self.mime, self.background = mime, data

    def on_mask(self, callback: Callable[[bytes], None]) -> None:
        self._callbacks.append(callback)

    def receive(self, png: bytes) -> None:
        """What "Use as mask" does: hand the mask (PNG bytes) to the callbacks."""
        for callback in list(self._callbacks):
            callback(png)

    def _on_message(self, _widget: object, content: Any, buffers: Sequence[Any]) -> None:
        if isinstance(content, dict) and content.get("event") == "mask" and buffers:
            self.receive(bytes(buffers[0]))


def size_problem(mask_url: str | None, image_url: str | None) -> str | None:
    """Why a mask does not fit the first input image (fal expects the same size), or None."""
    if not mask_url or not image_url:
        return None
    mask, image = image_size(mask_url), image_size(image_url)
    if mask is None or image is None or mask == image:
        return None
    return (
        f"the mask is {mask[0]}×{mask[1]} but image 1 is {image[0]}×{image[1]}: fal expects a mask the size of "
        "the first image (paint one with Paint a mask…)"
    )


def attach(mask_editor: Any, first_image: Callable[[], str | None]) -> Any:
    """Give a mask field "Paint a mask…": a painter over ``first_image()`` (made when first asked for)."""
    import ipywidgets as w

    toggle = w.ToggleButton(
        value=False,
        description="Paint a mask…",
        tooltip="Paint the mask with a brush over the first input image",
        layout=w.Layout(width="auto", align_self="flex-start"),
    )
    toggle.add_class("fs-disclosure")
    box = w.VBox(layout=w.Layout(display="none"))

    def shown(change: dict[str, Any]) -> None:
        if not change["new"]:
            box.layout.display = "none"
            return
        url = first_image()
        try:
            if url is None:
                raise ValueError("add an image to edit first (upload, drop or paste it)")
            if not box.children:
                painter = MaskPainter()
                painter.on_mask(lambda png: _use(mask_editor, png))
                box.children = [painter]
            box.children[0].show(url)
        except ValueError as exc:
            mask_editor.status.value = _message("warn", f"Paint a mask: {exc}")
            toggle.value = False
            return
        box.layout.display = "flex"

    toggle.observe(shown, "value")
    mask_editor.children = (*mask_editor.children, toggle, box)
    return toggle


def _use(mask_editor: Any, png: bytes) -> None:
    mask_editor.urls = []
    mask_editor.add(png, name="painted mask")


Pair = tuple[Any, Any]  # (the images field's control, the mask field's control)


def _masks_and_images(controls: list[Any]) -> tuple[list[Any], list[Any]]:
    """The controls of single mask fields, and of input image lists."""
    masks = [c for c in controls if c.spec.role == "mask" and c.spec.kind == "image"]
    return masks, [c for c in controls if c.spec.role == "images" and c.spec.kind == "images"]


def shown_order(controls: Mapping[str, Any]) -> list[Any]:
    """The fields in the model's order, but a mask right after the images it masks."""
    shown = list(controls.values())
    masks, images = _masks_and_images(shown)
    if not masks or not images:
        return shown
    rest = [c for c in shown if c not in masks]
    at = rest.index(images[0]) + 1
    return rest[:at] + masks + rest[at:]


def attach_to(controls: Mapping[str, Any]) -> Pair | None:
    """A mask field beside an images field gets "Paint a mask…"; returns the two, for :func:`check`."""
    masks, images = _masks_and_images(list(controls.values()))
    if not masks or not images:
        return None
    first = images[0]
    attach(masks[0].editor, lambda: (first.get() or [None])[0])
    return first, masks[0]


def check(pair: Pair | None) -> None:
    """Say under the mask field when the mask is not the first image's size (and stop saying it once it is)."""
    if pair is None:
        return
    images, mask = pair
    problem = size_problem(mask.get(), (images.get() or [None])[0])
    status = mask.editor.status
    if problem:
        status.value = _message("warn", problem)
    elif "fal expects a mask the size" in status.value:
        status.value = ""
