"""falstudio: fal.ai's GPT Image endpoints as a notebook experience.

``import falstudio as fs`` is cheap: every package loads on first use. This module is the composition root:
it wires falstudio's history in as the client's default recorder (the client never imports the history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._internal.modules import lazy_exports
from .client import recorder as _recorder


def _history_recorder() -> _recorder.Recorder | None:
    from .history import default_recorder

    return default_recorder()


_recorder.set_default_factory(_history_recorder)

# The public names are the imports below, each loaded on first use; `history` and `sweep` are modules you can call.
__all__, __getattr__, __dir__ = lazy_exports(__name__, modules=frozenset({"history", "sweep"}))

if TYPE_CHECKING:
    from . import client as client
    from . import endpoints as endpoints
    from . import errors as errors
    from . import local as local
    from . import widgets as widgets
    from ._internal.images import encode_file as encode_file
    from ._internal.version import __version__ as __version__
    from .client import AsyncClient as AsyncClient
    from .client import Client as Client
    from .client import Platform as Platform
    from .client.files import encode_image as encode_image
    from .history import history as history  # the module is callable: type checkers see the function
    from .metadata import read_metadata as read_metadata
    from .sweep import sweep as sweep  # likewise
    from .widgets import Arena as Arena
    from .widgets import Compare as Compare
    from .widgets import Studio as Studio
