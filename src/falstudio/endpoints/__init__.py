"""What an endpoint is: request/response models, prices and the registry.

Endpoints without a hand-written row are typed from fal's OpenAPI schema by :mod:`.loader`, the one module here
that does I/O (a single lazy GET, then a disk cache).
"""

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
from .loader import SchemaUnavailableError
from .openapi import BadSchemaError, EndpointSchemaError, spec_from_openapi
from .pricing import NO_PRICE, CostEstimate, PriceTable, total
from .registry import REGISTRY, EndpointSpec, UnknownEndpointError, find, get, refresh, specs

__all__ = [
    "NO_PRICE",
    "REDACTED",
    "REGISTRY",
    "BadSchemaError",
    "CostEstimate",
    "EndpointSchemaError",
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
    "SchemaUnavailableError",
    "UnknownEndpointError",
    "Usage",
    "find",
    "get",
    "refresh",
    "spec_from_openapi",
    "specs",
    "total",
]
