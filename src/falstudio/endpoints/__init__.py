"""What an endpoint is: request/response models, prices and the registry. No I/O here."""

from .._internal.redact import REDACTED
from ._base import ImageFile, ImageOutput, RequestModel, Usage
from .defaults import DEFAULT_ENDPOINT, DEFAULT_PROMPT, DEMO_PROMPT
from .gpt_image import (
    GptImage1EditByokRequest,
    GptImage1EditRequest,
    GptImage1MiniEditRequest,
    GptImage1MiniRequest,
    GptImage1TextToImageByokRequest,
    GptImage1TextToImageRequest,
    GptImage15EditRequest,
    GptImage15Request,
)
from .pricing import CostEstimate, PriceTable, total
from .registry import REGISTRY, EndpointSpec, UnknownEndpointError, find, get

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_PROMPT",
    "DEMO_PROMPT",
    "REDACTED",
    "REGISTRY",
    "CostEstimate",
    "EndpointSpec",
    "GptImage1EditByokRequest",
    "GptImage1EditRequest",
    "GptImage1MiniEditRequest",
    "GptImage1MiniRequest",
    "GptImage1TextToImageByokRequest",
    "GptImage1TextToImageRequest",
    "GptImage15EditRequest",
    "GptImage15Request",
    "ImageFile",
    "ImageOutput",
    "PriceTable",
    "RequestModel",
    "UnknownEndpointError",
    "Usage",
    "find",
    "get",
    "total",
]
