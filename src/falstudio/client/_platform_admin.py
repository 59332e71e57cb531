"""A key per student, and what each key spent: fal's Platform API ``/keys`` and ``/models/usage`` (ADMIN key).

A new key's secret is shown once by fal; :class:`NewKey` holds it in a :class:`Key`, which never shows itself in
a repr, log or traceback: only :func:`write_keys_csv` writes it, into the file the teacher asked for.
"""

from __future__ import annotations

import csv
import fnmatch
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from .._internal.since import since_timestamp
from . import errors
from ._credentials import Key

MAX_PAGES = 1000
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


class PlatformCaller(Protocol):
    """What the calls here need of a :class:`~._platform.AsyncPlatform`: one Platform API call."""

    async def call(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        *,
        idempotent: bool = True,
    ) -> Any: ...


@dataclass(frozen=True)
class ApiKey:
    """A key as ``GET /keys`` lists it (never its secret)."""

    key_id: str
    alias: str
    scope: str
    created_at: str


class NewKey:
    """A key just created: ``key`` (``key_id:key_secret``) is fal's only copy of the secret. ``repr`` hides it."""

    __slots__ = ("alias", "key", "key_id")

    def __init__(self, key_id: str, alias: str, key: Key) -> None:
        self.key_id, self.alias, self.key = key_id, alias, key

    def __repr__(self) -> str:
        return f"NewKey(alias={self.alias!r}, key_id={self.key_id!r}, key='***')"


@dataclass(frozen=True)
class UsageLine:
    """One ``/models/usage`` summary row: ``quantity`` units of ``endpoint_id`` costing ``cost`` (after discounts)."""

    alias: str
    endpoint_id: str
    unit: str
    quantity: Decimal
    cost: Decimal
    currency: str


@dataclass(frozen=True)
class AliasUsage:
    """What one key alias (fal's ``auth_method`` label) spent, with its lines by endpoint."""

    alias: str
    cost: Decimal
    currency: str
    lines: tuple[UsageLine, ...]


def numbered_aliases(aliases: Sequence[str], count: int | None = None) -> list[str]:
    """The aliases to create: ``aliases`` as given, or with ``count``, that many numbered from the one alias
    (``student-01`` and 30: ``student-01`` … ``student-30``; ``student`` and 3: ``student-01`` … ``student-03``)."""
    aliases = [a.strip() for a in aliases if a.strip()]
    if count is None:
        if not aliases:
            raise ValueError("name at least one --alias")
        return list(dict.fromkeys(aliases))
    if len(aliases) != 1 or count < 1:
        raise ValueError("--count N takes one --alias to number from (e.g. --alias student-01 --count 30)")
    found = _NUMBERED.match(aliases[0])
    stem, first, width = (
        (found.group(1), int(found.group(2)), len(found.group(2))) if found else (f"{aliases[0]}-", 1, 2)
    )
    return [f"{stem}{n:0{width}d}" for n in range(first, first + count)]


class KeysFile:
    """A new CSV file (``alias,key_id,key``) only its owner can read; each key is on disk once :meth:`add` returns
    (fal shows a secret once: a failure after it must not lose it). An existing file is never replaced."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._file = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", newline="")
        self._writer = csv.writer(self._file)
        self._writer.writerow(["alias", "key_id", "key"])
        self.count = 0

    def add(self, key: NewKey) -> None:
        self._writer.writerow([key.alias, key.key_id, key.key.reveal()])
        self._file.flush()
        os.fsync(self._file.fileno())
        self.count += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> KeysFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_keys_csv(path: str | os.PathLike[str], keys: Iterable[NewKey]) -> Path:
    """Write ``keys`` to a new :class:`KeysFile` at ``path``."""
    with KeysFile(path) as file:
        for key in keys:
            file.add(key)
    return file.path


class KeysPartlyCreatedError(errors.FalError):
    """Some keys were created before a call failed: ``created`` holds them (their secrets, shown once)."""

    def __init__(self, created: list[NewKey], wanted: int, cause: errors.FalError) -> None:
        super().__init__(
            f"created {len(created)} of {wanted} keys, then: {cause.message}",
            status_code=cause.status_code,
            error_type=cause.error_type,
            hint=cause.hint,
        )
        self.created = created


async def pages(platform: PlatformCaller, path: str, params: Sequence[tuple[str, str]], field: str) -> list[Any]:
    """Every ``field`` item of a paged reply, following ``next_cursor`` (kept opaque) while ``has_more``."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await platform.call("GET", path, [*params, *([("cursor", cursor)] if cursor else [])])
        if not isinstance(page, Mapping) or not isinstance(page.get(field, []), list):
            raise errors.ServerError(f"fal's Platform API sent GET {path} a reply without a {field!r} list")
        items += page.get(field, [])
        cursor = page.get("next_cursor") if page.get("has_more") else None
        if not isinstance(cursor, str) or not cursor:
            return items
    # a cursor that never ends (or repeats): saying so beats a list silently cut short (usage would be too low)
    raise errors.ServerError(
        f"fal's Platform API sent GET {path} more than {MAX_PAGES} pages and still has_more; stopped "
        "(narrow the call, e.g. a shorter usage period)"
    )


async def list_keys(platform: PlatformCaller) -> list[ApiKey]:
    """The account's API keys (ids, aliases, scope, creation time; never secrets)."""
    rows = await pages(platform, "/keys", [], "keys")
    return [
        ApiKey(str(r["key_id"]), str(r.get("alias", "")), str(r.get("scope", "")), str(r.get("created_at", "")))
        for r in rows
        if isinstance(r, Mapping) and "key_id" in r
    ]


async def create_keys(
    platform: PlatformCaller, aliases: Sequence[str], on_created: Callable[[NewKey], None] | None = None
) -> list[NewKey]:
    """One new API key per alias, each passed to ``on_created`` as it comes (fal shows a secret once). A failure
    after the first raises :class:`KeysPartlyCreatedError` holding the keys already made."""
    for alias in aliases:
        if not 1 <= len(alias) <= 255:
            raise ValueError(f"a key alias is 1 to 255 characters, got {alias!r}")
    made: list[NewKey] = []
    for alias in aliases:
        try:
            reply = await platform.call("POST", "/keys", body={"alias": alias}, idempotent=False)
            if not isinstance(reply, Mapping) or not isinstance(reply.get("key"), str):
                raise errors.ServerError("fal's Platform API created a key but sent no 'key' back")
        except errors.FalError as exc:
            if made:
                raise KeysPartlyCreatedError(made, len(aliases), exc) from exc
            raise
        key = NewKey(str(reply.get("key_id", "")), alias, Key(reply["key"], f"the new key {alias!r}"))
        made.append(key)
        if on_created is not None:
            on_created(key)
    return made


async def revoke(platform: PlatformCaller, alias: str | None = None, *, key_ids: Sequence[str] = ()) -> list[ApiKey]:
    """Revoke the keys whose alias matches ``alias`` (shell pattern: ``'student-*'``) or whose id is in
    ``key_ids``; returns them. fal revokes at once."""
    if alias is None and not key_ids:
        raise ValueError("revoke() needs an alias pattern (e.g. 'student-*') or key_ids")
    chosen = [
        k
        for k in await list_keys(platform)
        if k.key_id in key_ids or (alias is not None and fnmatch.fnmatchcase(k.alias, alias))
    ]
    for key in chosen:
        await platform.call("DELETE", f"/keys/{key.key_id}")
    return chosen


async def usage(
    platform: PlatformCaller, since: object = "24h", *, endpoint_ids: Sequence[str] = ()
) -> list[AliasUsage]:
    """Spend per key alias since ``since`` (``"2h"``, ``"today"``, a date...), from fal's usage summary."""
    start = since_timestamp(since, name="since")
    params = [("expand", "summary"), ("expand", "auth_method"), *(("endpoint_id", e) for e in endpoint_ids)]
    if start is not None:
        params.append(("start", datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")))
    rows = await pages(platform, "/models/usage", params, "summary")
    by_alias: dict[str, list[UsageLine]] = {}
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        alias = str(row.get("auth_method") or "(no key alias)")
        cost = row.get("cost_total", row.get("cost", 0))
        line = UsageLine(
            alias,
            str(row.get("endpoint_id", "")),
            str(row.get("unit", "")),
            Decimal(str(row.get("quantity", 0))),
            Decimal(str(cost)),
            str(row.get("currency", "USD")),
        )
        by_alias.setdefault(alias, []).append(line)
    return [
        AliasUsage(alias, sum((x.cost for x in lines), Decimal(0)), lines[0].currency, tuple(lines))
        for alias, lines in sorted(by_alias.items())
    ]
