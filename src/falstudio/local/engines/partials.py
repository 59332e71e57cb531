"""Partial images of a streamed run: the finished picture as it would look while it forms, coarse to fine.

A model streaming its output sends rougher renders of the same scene before the final one; offline, each
partial is the final picture reduced (more for earlier partials), softened and sent at half its size.
"""

from __future__ import annotations

import io

from PIL import Image, ImageFilter

from falstudio._internal.images import image_bytes

from ._output import GeneratedImage

__all__ = ["partial_images"]

# Detail kept by each partial, coarse to fine: the picture is shrunk by this factor, then brought back up.
_DETAIL = (24, 8, 3)


def partial_images(final: bytes, count: int = 3) -> list[GeneratedImage]:
    """``count`` (1 to 3) JPEG partials of the image file ``final``, coarsest first."""
    with Image.open(io.BytesIO(final)) as source:
        picture = source.convert("RGB")
    width, height = max(1, picture.width // 2), max(1, picture.height // 2)
    out = []
    for factor in _DETAIL[-max(1, min(count, len(_DETAIL))) :]:
        reduced = (max(1, picture.width // factor), max(1, picture.height // factor))
        small = picture.resize(reduced, Image.Resampling.BOX)
        # Softened while small, then brought up smoothly: as soft as blurring the enlarged picture, at a third of
        # the time for the coarse ones (the blur's cost grows with the pixels it runs over)
        soft = small.filter(ImageFilter.GaussianBlur(factor / 3 * small.width / width))
        rough = soft.resize((width, height), Image.Resampling.BICUBIC)
        out.append(GeneratedImage(image_bytes(rough, "jpeg", quality=70), "image/jpeg", width, height))
    return out
