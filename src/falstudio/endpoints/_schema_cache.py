"""fal's OpenAPI documents on disk: one JSON file per endpoint, written atomically, with when it was fetched.

The folder is ``$FALSTUDIO_CACHE_DIR/openapi``, else the user cache dir (``~/.cache/falstudio/openapi`` on Linux),
and the file for ``owner/app/path`` is ``owner/app/path.json`` under it. A file falstudio wrote wraps the document
with its URL and fetch time; a document saved by hand (the raw reply of fal's URL) is accepted as it is.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._internal.dirs import user_cache_dir
from .._internal.regular_files import read_regular

CACHE_ENV = "FALSTUDIO_CACHE_DIR"
FORMAT = "falstudio-openapi-cache/1"
MAX_BYTES = 8 * 1024 * 1024 + 64 * 1024  # the largest reply fetched, plus the wrapper
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class CachedSchema:
    document: dict[str, Any]
    path: Path
    fetched_at: datetime | None  # None: saved by hand
    url: str | None


def cache_dir() -> Path:
    """Where the documents live (read at call time, so a changed environment takes effect)."""
    env = os.environ.get(CACHE_ENV)
    return (Path(env).expanduser() if env else user_cache_dir()) / "openapi"


def is_endpoint_id(endpoint_id: str) -> bool:
    """``owner/app[/path...]`` with plain segments (so the id is also a safe relative path)."""
    parts = endpoint_id.split("/")
    return len(parts) >= 2 and all(_SEGMENT.fullmatch(p) for p in parts)


def schema_path(endpoint_id: str) -> Path:
    if not is_endpoint_id(endpoint_id):
        raise ValueError(f"not an endpoint id: {endpoint_id!r}")
    return cache_dir().joinpath(*endpoint_id.split("/")).with_name(endpoint_id.rsplit("/", 1)[-1] + ".json")


def read(endpoint_id: str) -> CachedSchema | None:
    """The cached document, None when there is none; ValueError when the file is there but unusable."""
    path = schema_path(endpoint_id)
    try:
        text = read_regular(path, MAX_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    except ValueError as exc:  # not a regular file (a FIFO, /dev/zero), or too large
        raise ValueError(f"cannot use {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{path} is not JSON ({exc})") from None
    except RecursionError:
        raise ValueError(f"{path} is JSON nested too deeply to be an OpenAPI document") from None
    if isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("document"), dict):
        fetched = data.get("fetched_at")
        try:
            when = datetime.fromisoformat(fetched) if isinstance(fetched, str) else None
        except ValueError:
            when = None
        return CachedSchema(data["document"], path, when, data.get("url"))
    if isinstance(data, dict) and "openapi" in data:
        return CachedSchema(data, path, None, None)
    raise ValueError(f"{path} holds neither fal's OpenAPI document nor a falstudio cache entry")


def write(endpoint_id: str, document: dict[str, Any], url: str, fetched_at: datetime | None = None) -> CachedSchema:
    """Store ``document`` (replacing any earlier copy in one step: readers see the old file or the new one)."""
    path = schema_path(endpoint_id)
    when = fetched_at or datetime.now(UTC)
    entry = {
        "format": FORMAT,
        "endpoint_id": endpoint_id,
        "url": url,
        "fetched_at": when.isoformat(),
        "document": document,
    }
    write_json(path, entry)
    return CachedSchema(document, path, when, url)


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` in one step (readers see the old file or the new one, never half)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(data, file, ensure_ascii=False)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
