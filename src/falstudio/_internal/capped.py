"""Bodies read in bounded memory: a reply or a download is refused, unread, once it passes its cap.

A body is counted decoded, so a small gzip reply that inflates is counted inflated; a declared length over the cap
is refused before the first byte is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx

__all__ = ["Cap", "megabytes_from_env", "with_body"]


@dataclass(frozen=True)
class Cap:
    """At most ``limit`` bytes of a body; past them, ``refuse()`` is raised."""

    limit: int
    refuse: Callable[[], Exception]

    def read(self, response: httpx.Response) -> bytes:
        """The decoded body of a streamed ``response``, refused unread once it passes the cap."""
        self._check_declared(response)
        return self._joined(response.iter_bytes())

    async def aread(self, response: httpx.Response) -> bytes:
        """:meth:`read` for a reply streamed on a loop."""
        self._check_declared(response)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.limit:
                raise self.refuse()
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_declared(self, response: httpx.Response) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise self.refuse()

    def _joined(self, chunks: Iterable[bytes]) -> bytes:
        kept: list[bytes] = []
        size = 0
        for chunk in chunks:
            size += len(chunk)
            if size > self.limit:
                raise self.refuse()
            kept.append(chunk)
        return b"".join(kept)


def with_body(response: httpx.Response, body: bytes) -> httpx.Response:
    """``response`` as a reply holding ``body`` (decoded: its encoding and length headers are dropped)."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in ("content-encoding", "content-length")]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)


def megabytes_from_env(name: str, default: float) -> int:
    """``$name`` MiB in bytes (``default`` when unset, not a number, or not positive)."""
    raw = os.environ.get(name, "").strip()
    try:
        megabytes = float(raw) if raw else default
    except ValueError:
        megabytes = default
    if not (math.isfinite(megabytes) and megabytes > 0):
        megabytes = default
    return int(megabytes * 2**20)
