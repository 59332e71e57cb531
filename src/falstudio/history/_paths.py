"""Where run records live: an explicit path, else ``FALSTUDIO_HISTORY_DIR``, else a per-user data dir."""

from __future__ import annotations

import os
from pathlib import Path

from .._internal.dirs import user_data_dir

DIR_ENV = "FALSTUDIO_HISTORY_DIR"
SWITCH_ENV = "FALSTUDIO_HISTORY"  # "0", "false", "no" or "off" turns recording off
_OFF = {"0", "false", "no", "off"}


def history_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The history folder: ``path`` if given, else ``$FALSTUDIO_HISTORY_DIR``, else the user data dir.

    Read at call time, so changing the environment in a running kernel takes effect.
    """
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(DIR_ENV)
    if env:
        return Path(env).expanduser()
    return user_data_dir() / "history"


def recording_enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "1").strip().lower() not in _OFF
