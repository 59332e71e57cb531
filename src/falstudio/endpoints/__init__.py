"""What an endpoint is: request/response models, prices and the registry. No I/O here."""

from ._base import REDACTED, ImageFile, ImageOutput, RequestModel, Usage
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
from .gpt_image_2 import GptImage2EditRequest, GptImage2Request
from .lifecycle import Lifecycle
from .pricing import CostEstimate, PriceTable, total
from .registry import REGISTRY, EndpointSpec, UnknownEndpointError, find, get
from .sizes import ImageSize, SizeNotAccepted, SizeRules, fit_size

__all__ = [
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
    "GptImage2EditRequest",
    "GptImage2Request",
    "GptImage15EditRequest",
    "GptImage15Request",
    "ImageFile",
    "ImageOutput",
    "ImageSize",
    "Lifecycle",
    "PriceTable",
    "RequestModel",
    "SizeNotAccepted",
    "SizeRules",
    "UnknownEndpointError",
    "Usage",
    "find",
    "fit_size",
    "get",
    "total",
]
