"""A fal-compatible server with offline image engines: the full experience without a key or a network.

``with LocalServer(port=0, latency=0) as server:`` serves fal's queue, sync-run and storage APIs on
``server.url``; ``embedded_server()`` is the one ``falstudio.Client()`` starts when there are no credentials.
The server parts (FastAPI, uvicorn) load on first use, so ``falstudio.local.engines`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .faults import Faults

_LAZY = {"LocalServer": ".server", "embedded_server": ".server", "find_server": ".server", "create_app": ".app"}

__all__ = ["Faults", "LocalServer", "create_app", "embedded_server", "find_server"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'falstudio.local' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .app import create_app
    from .server import LocalServer, embedded_server, find_server
