"""The image gallery: thumbnails in a grid, enlarge, save, "use as edit input"."""

from .._html import prompt_of
from ._gallery import Gallery, ImageTile, alt_text, request_params, result_caption

__all__ = ["Gallery", "ImageTile", "alt_text", "prompt_of", "request_params", "result_caption"]
