"""Which server a client talks to, with which key: ``key=``, FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET, else local."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import Literal

import httpx

from ._protocol import Hosts, origin_of

Mode = Literal["local", "fal"]

_announced = threading.Event()


class Key:
    """An API key that never shows itself in a repr, str, log line or pickle."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value or not value.strip():
            raise ValueError("the fal key is empty; pass key='key_id:key_secret' or set FAL_KEY")
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Key('***')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a fal key cannot be pickled")


def key_from_env() -> str | None:
    """FAL_KEY, else ``FAL_KEY_ID:FAL_KEY_SECRET``, else None."""
    key = os.environ.get("FAL_KEY", "").strip()
    if key:
        return key
    key_id, secret = os.environ.get("FAL_KEY_ID", "").strip(), os.environ.get("FAL_KEY_SECRET", "").strip()
    if key_id and secret:
        return f"{key_id}:{secret}"
    return None


@dataclass(frozen=True)
class Target:
    """A resolved server: where (``hosts``), how to authenticate (``key``) and which kind (``mode``)."""

    hosts: Hosts
    key: Key | None
    mode: Mode

    @property
    def base_url(self) -> str:
        return self.hosts.queue


def resolve(key: str | None = None, base_url: str | None = None) -> Target:
    """The target for ``key`` / ``base_url``; with neither (and no env key) the embedded local server."""
    key = key if key is not None else key_from_env()
    if base_url is not None:
        hosts = Hosts.single(base_url)
        return Target(hosts, Key(key) if key else None, "local" if hosts.is_loopback else "fal")
    if key:
        return Target(Hosts.fal(), Key(key), "fal")
    from falstudio.local import embedded_server  # the client's only tie to the local package

    server = embedded_server()
    if not _announced.is_set():
        _announced.set()
        print(
            f"falstudio: no FAL_KEY found — using the embedded offline server at {server.url} "
            "(offline previews, no cost). Set FAL_KEY to use fal.ai.",
            # a notice, not an error: Jupyter paints stderr red, so in a kernel it goes to stdout
            file=sys.stdout if "ipykernel" in sys.modules else sys.stderr,
        )
    server_key = getattr(server, "key", None)
    return Target(Hosts.single(server.url), Key(server_key) if server_key else None, "local")


class KeyAuth(httpx.Auth):
    """``Authorization: Key ...`` on requests to the API's own origins only (not to image or upload URLs)."""

    def __init__(self, key: Key, hosts: Hosts) -> None:
        self._key = key
        self._origins = hosts.origins

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers and origin_of(str(request.url)) in self._origins:
            request.headers["Authorization"] = f"Key {self._key.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "KeyAuth('***')"


def has_key() -> bool:
    """Whether fal credentials are set in the environment (FAL_KEY, or FAL_KEY_ID + FAL_KEY_SECRET)."""
    return key_from_env() is not None


def fal_base_url() -> str:
    """Where ``Client()`` with credentials sends requests: fal.ai's queue (or ``FAL_RUN_HOST``'s)."""
    return Hosts.fal().queue


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is on this machine (a local server)."""
    try:
        return Hosts.single(url).is_loopback
    except ValueError:
        return False
