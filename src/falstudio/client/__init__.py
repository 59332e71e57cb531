"""falstudio's client for fal's queue protocol: ``AsyncClient`` (the implementation) and ``Client`` (blocking).

>>> import falstudio as fs
>>> result = fs.Client().subscribe("fal-ai/gpt-image-1.5", {"prompt": "a red fox, watercolour"})
>>> result.images[0].save("fox.png")

Modules load on first use (``falstudio.client.recorder``, which the history imports, stays light).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_LAZY = {
    "INLINE_LIMIT": ".files",
    "AsyncClient": "._async",
    "AsyncRequestHandle": "._handles",
    "Client": "._sync",
    "Completed": "._status",
    "Image": ".results",
    "InProgress": "._status",
    "LogEntry": "._status",
    "Queued": "._status",
    "Result": ".results",
    "RetryPolicy": "._retry",
    "Status": "._status",
    "SyncRequestHandle": "._handles",
    "encode_file": "falstudio._internal.images",
    "encode_image": "falstudio._internal.images",
}

__all__ = [*_LAZY, "errors"]


def __getattr__(name: str) -> Any:
    if name == "errors":
        return importlib.import_module(".errors", __name__)
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from .._internal.images import encode_file, encode_image
    from . import errors
    from ._async import AsyncClient
    from ._handles import AsyncRequestHandle, SyncRequestHandle
    from ._retry import RetryPolicy
    from ._status import Completed, InProgress, LogEntry, Queued, Status
    from ._sync import Client
    from .files import INLINE_LIMIT
    from .results import Image, Result
