"""falstudio: fal.ai's GPT Image endpoints as a notebook experience.

``import falstudio as fs`` is cheap: every package loads on first use. This module is the composition root:
it wires falstudio's history in as the client's default recorder (the client never imports the history).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._internal.version import VERSION as __version__
from .client import recorder as _recorder

# public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "Arena": ("falstudio.widgets", "Arena"),
    "AsyncClient": ("falstudio.client", "AsyncClient"),
    "Client": ("falstudio.client", "Client"),
    "Compare": ("falstudio.widgets", "Compare"),
    "Studio": ("falstudio.widgets", "Studio"),
    "client": ("falstudio.client", None),
    "encode_file": ("falstudio._internal.images", "encode_file"),
    "encode_image": ("falstudio._internal.images", "encode_image"),
    "endpoints": ("falstudio.endpoints", None),
    "errors": ("falstudio.client.errors", None),
    "history": ("falstudio.history", None),  # a module you can call: fs.history(limit=5)
    "local": ("falstudio.local", None),
    "read_metadata": ("falstudio.metadata", "read_metadata"),
    "sweep": ("falstudio.sweep", None),  # a module you can call: fs.sweep(base, quality=[...])
    "widgets": ("falstudio.widgets", None),
}

__all__ = ["__version__", *_LAZY]


def _history_recorder() -> _recorder.Recorder | None:
    from .history import default_recorder

    return default_recorder()


_recorder.set_default_factory(_history_recorder)


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'falstudio' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


if TYPE_CHECKING:
    from . import client as client
    from . import endpoints as endpoints
    from . import local as local
    from . import widgets as widgets
    from ._internal.images import encode_file as encode_file
    from ._internal.images import encode_image as encode_image
    from .client import AsyncClient as AsyncClient
    from .client import Client as Client
    from .client import errors as errors
    from .history import history as history  # the module is callable: type checkers see the function
    from .metadata import read_metadata as read_metadata
    from .sweep import sweep as sweep  # likewise
    from .widgets import Arena as Arena
    from .widgets import Compare as Compare
    from .widgets import Studio as Studio
