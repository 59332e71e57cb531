"""Run history: every request made through falstudio, on disk, so a restart loses nothing paid for.

``falstudio.history()`` (the module is callable: it is :func:`history`) lists the records (newest first) and
shows them as a gallery; ``.resume()`` re-attaches to requests that were still in flight. The client records
into :func:`default_recorder`.

Records hold no keys, so resuming needs a client that can reach the request's server: fal.ai records use
your FAL_KEY, and local servers of this process are found by URL. A local server in another process needs
``resume(client=Client(base_url=server.url, key=server.key))``. A local server that has stopped took its
results with it: its in-flight records become ``lost``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .._internal.modules import make_callable
from ._history import History, history
from ._paths import history_dir, recording_enabled
from ._record import RunRecord, StoredImage
from ._spend import EndpointSpend, Spend
from ._store import HistoryStore, HistoryWarning
from ._votes import Vote, VoteBook

if TYPE_CHECKING:
    from ._export import ExportItem, write_export

__all__ = [
    "EndpointSpend",
    "ExportItem",
    "History",
    "HistoryStore",
    "HistoryWarning",
    "RunRecord",
    "Spend",
    "StoredImage",
    "Vote",
    "VoteBook",
    "default_recorder",
    "history",
    "history_dir",
    "recording_enabled",
    "write_export",
]


def __getattr__(name: str) -> Any:
    if name in ("ExportItem", "write_export"):  # loaded on use: they bring Pillow-based metadata writing
        from . import _export

        return getattr(_export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def default_recorder(path: str | os.PathLike[str] | None = None) -> HistoryStore | None:
    """The store the client records into, or None when recording is off (``FALSTUDIO_HISTORY=0``)."""
    if not recording_enabled():
        return None
    return HistoryStore(path)


make_callable(__name__, history)  # fs.history(limit=5) calls history(); the module stays a module
