"""falstudio's per-user folders: data (the run history) and cache (endpoint schemas). Three platforms, no
platformdirs needed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["user_cache_dir", "user_data_dir"]


def user_data_dir() -> Path:
    """The platform's per-user data folder for falstudio."""
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "falstudio"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "falstudio"
    base = os.environ.get("XDG_DATA_HOME") or str(home / ".local" / "share")
    return Path(base) / "falstudio"


def user_cache_dir() -> Path:
    """The platform's per-user cache folder for falstudio (what it keeps can be fetched again)."""
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "falstudio" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "falstudio"
    base = os.environ.get("XDG_CACHE_HOME") or str(home / ".cache")
    return Path(base) / "falstudio"
