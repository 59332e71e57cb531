"""falstudio's client for fal's queue protocol: ``AsyncClient`` (the implementation) and ``Client`` (blocking).

>>> import falstudio as fs
>>> result = fs.Client().subscribe("fal-ai/gpt-image-1.5", {"prompt": "a red fox, watercolour"})
>>> result.images[0].save("fox.png")
"""

from .._internal.images import encode_file, encode_image
from . import errors
from ._async import AsyncClient
from ._handles import AsyncRequestHandle, SyncRequestHandle
from ._retry import RetryPolicy
from ._status import Completed, InProgress, LogEntry, Queued, Status
from ._sync import Client
from .files import INLINE_LIMIT
from .results import Image, Result

__all__ = [
    "INLINE_LIMIT",
    "AsyncClient",
    "AsyncRequestHandle",
    "Client",
    "Completed",
    "Image",
    "InProgress",
    "LogEntry",
    "Queued",
    "Result",
    "RetryPolicy",
    "Status",
    "SyncRequestHandle",
    "encode_file",
    "encode_image",
    "errors",
]
