"""What falstudio keeps from fal's Platform API on disk (the catalog, prices, estimates), each with its date.

Files live in ``$FALSTUDIO_CACHE_DIR/platform/`` (beside the OpenAPI documents) as ``<name>.json``; a file that
cannot be read counts as absent, since everything here can be fetched again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ._schema_cache import cache_dir, write_json

FORMAT = "falstudio-platform-cache/1"


@dataclass(frozen=True)
class Dated:
    data: Any
    fetched_at: datetime

    def age_seconds(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.fetched_at).total_seconds()


def now() -> datetime:
    return datetime.now(UTC)


def path_of(name: str) -> Path:
    return cache_dir().parent / "platform" / f"{name}.json"


def read(name: str) -> Dated | None:
    try:
        entry = json.loads(path_of(name).read_text(encoding="utf-8"))
        return Dated(entry["data"], datetime.fromisoformat(entry["fetched_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(name: str, data: Any, fetched_at: datetime | None = None) -> Dated:
    when = fetched_at or datetime.now(UTC)
    write_json(path_of(name), {"format": FORMAT, "fetched_at": when.isoformat(), "data": data})
    return Dated(data, when)
