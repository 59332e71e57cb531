"""falstudio: fal.ai's GPT Image endpoints as a notebook experience.

``import falstudio as fs`` is cheap: the client, the widgets and the local server load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import endpoints

# Imported eagerly (both are light) so that the functions, not the submodules of the same name, are
# ``fs.sweep`` and ``fs.history``: importing a submodule later would otherwise shadow a lazy attribute.
from .history import history
from .sweep import sweep

__version__ = "0.1.0"

# public name -> (module, attribute or None for the module itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "AsyncClient": ("falstudio.client", "AsyncClient"),
    "Client": ("falstudio.client", "Client"),
    "encode_file": ("falstudio.client", "encode_file"),
    "encode_image": ("falstudio.client", "encode_image"),
    "errors": ("falstudio.client.errors", None),
    "client": ("falstudio.client", None),
    "local": ("falstudio.local", None),
    "widgets": ("falstudio.widgets", None),
    "Studio": ("falstudio.widgets", "Studio"),
    "Compare": ("falstudio.widgets", "Compare"),
    "read_metadata": ("falstudio.metadata", "read_metadata"),
}

__all__ = ["__version__", "endpoints", "history", "sweep", *_LAZY]


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
    from . import client, local, widgets
    from .client import AsyncClient, Client, encode_file, encode_image
    from .client import errors as errors
    from .metadata import read_metadata
    from .widgets import Compare, Studio
