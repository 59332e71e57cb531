"""A fal-compatible server with offline image engines: the full experience without a key or a network.

``with LocalServer(port=0, latency=0) as server:`` serves fal's queue, sync-run and storage APIs on
``server.url``; ``embedded_server()`` is the one ``falstudio.Client()`` starts when there are no credentials.
The server parts (Starlette, uvicorn) load on first use, so ``falstudio.local.engines`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.modules import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__)  # the public names: the imports below

if TYPE_CHECKING:
    from .app import create_app as create_app
    from .faults import Faults as Faults
    from .server import LocalServer as LocalServer
    from .server import embedded_server as embedded_server
    from .server import find_server as find_server
