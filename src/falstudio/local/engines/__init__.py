"""Offline image engines (Pillow + numpy): pure functions, usable without the server.

``generate(request, endpoint_id, log=...)`` paints a scene from a text prompt; ``edit(request, inputs,
mask, log=...)`` applies the instruction's filters to input images; ``partial_images(final)`` gives what a
streamed run sends while it forms. Both return ``GeneratedImage``\\ s
(``data``, ``content_type``, ``width``, ``height``) and call ``log(message, progress)`` as they work.
"""

from ._output import MARK, GeneratedImage, LogFn
from .image_edit import edit
from .partials import partial_images
from .text_to_image import generate

__all__ = ["MARK", "GeneratedImage", "LogFn", "edit", "generate", "partial_images"]
