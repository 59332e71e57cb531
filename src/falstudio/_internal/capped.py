"""Bodies read in bounded memory: a reply or a download is refused, unread, once it passes its cap.

A body is counted decoded, so a small gzip reply that inflates is counted inflated; a declared length over the cap
is refused before the first byte is read.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
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
        body = self._body(response)
        for chunk in response.iter_bytes():
            body.add(chunk)
        return body.joined()

    async def aread(self, response: httpx.Response) -> bytes:
        """:meth:`read` for a reply streamed on a loop."""
        body = self._body(response)
        async for chunk in response.aiter_bytes():
            body.add(chunk)
        return body.joined()

    def _body(self, response: httpx.Response) -> _Body:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise self.refuse()
        return _Body(self)


class _Body:
    """The chunks of one body so far, refused once they pass their cap."""

    def __init__(self, cap: Cap) -> None:
        self._cap = cap
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._cap.limit:
            raise self._cap.refuse()
        self._chunks.append(chunk)

    def joined(self) -> bytes:
        return b"".join(self._chunks)


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
