"""What an endpoint is: request/response models, prices and the registry.

Endpoints without a hand-written row are typed from fal's OpenAPI schema by :mod:`.loader`; :mod:`.catalog`
searches fal's model catalog. Those two do I/O here (lazy anonymous GETs, then a disk cache); :mod:`.unit_pricing`
prices any endpoint from fal's unit prices once the client has fetched them.
"""

from .._internal.redact import REDACTED
from ._base import ImageFile, ImageOutput, RequestModel, Usage
from .catalog import CatalogEntry, search
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
from .gpt_image_2 import GptImage2EditRequest, GptImage2Request
from .lifecycle import Lifecycle
from .loader import SchemaUnavailableError
from .openapi import BadSchemaError, EndpointSchemaError, spec_from_openapi
from .pricing import NO_PRICE, CostEstimate, PriceTable, total
from .registry import REGISTRY, EndpointSpec, UnknownEndpointError, find, get, refresh, specs
from .sizes import ImageSize, SizeNotAccepted, SizeRules, fit_size
from .unit_pricing import UnitPrice

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_PROMPT",
    "DEMO_PROMPT",
    "NO_PRICE",
    "REDACTED",
    "REGISTRY",
    "BadSchemaError",
    "CatalogEntry",
    "CostEstimate",
    "EndpointSchemaError",
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
    "SchemaUnavailableError",
    "SizeNotAccepted",
    "SizeRules",
    "UnitPrice",
    "UnknownEndpointError",
    "Usage",
    "find",
    "fit_size",
    "get",
    "refresh",
    "search",
    "spec_from_openapi",
    "specs",
    "total",
]
