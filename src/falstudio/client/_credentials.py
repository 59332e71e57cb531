"""Which server a client talks to, with which key: ``key=``, FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET, a Colab
secret named FAL_KEY, else the embedded local server."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Generator
from dataclasses import dataclass
from typing import Literal

import httpx

from ._protocol import Hosts, origin_of
from .errors import InvalidKeyError

Mode = Literal["local", "fal"]

_announced = threading.Event()


class Key:
    """An API key that never shows itself in a repr, str, log line or pickle.

    Checked when read: ``source`` (where it came from: ``key=``, ``FAL_KEY``...) is named in the
    :class:`~falstudio.client.errors.InvalidKeyError` a malformed key raises; the key itself never is.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str, source: str = "key=") -> None:
        self._value = checked_key(value, source)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Key('***')"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a fal key cannot be pickled")


_CURLY_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb"


def checked_key(value: object, source: str) -> str:
    """``value`` without surrounding whitespace, if it can be a key; else :class:`InvalidKeyError`.

    A key goes into an HTTP header, so only printable ASCII without spaces can be one. The error says which
    character class is wrong and where, so the user can find it, but never echoes the key.
    """
    if not isinstance(value, str):
        raise InvalidKeyError(f"the fal key from {source} must be a string, not {type(value).__name__}")
    key = value.strip()
    if not key:
        raise InvalidKeyError(f"the fal key from {source} is empty; pass key='key_id:key_secret' or set FAL_KEY")
    for position, char in enumerate(key, start=1):
        if "!" <= char <= "~":
            continue
        raise InvalidKeyError(
            f"the fal key from {source} contains {_describe_char(char)} (character {position} of {len(key)}); "
            "a key is printable ASCII without spaces, so it was probably damaged when it was copied"
        )
    return key


def _fal_shaped(key: str, source: str) -> None:
    """A key for fal's own hosts has fal's ``key_id:key_secret`` form; else InvalidKeyError (nothing sent)."""
    key_id, colon, secret = key.partition(":")
    if colon and key_id.strip() and secret.strip():
        return
    raise InvalidKeyError(
        f"the fal key from {source} is not in fal's key_id:key_secret form ({len(key)} characters, "
        "no colon between an id and a secret), so it was not sent to fal.ai",
        hint="copy the whole key from https://fal.ai/dashboard/keys (an id, a colon, then the secret), or set "
        "FAL_KEY_ID and FAL_KEY_SECRET",
    )


def _describe_char(char: str) -> str:
    if char in "\r\n":
        return "a line break"
    if char == "\0":
        return "a NUL character"
    if char in " \t\u00a0":
        return "a space or tab"
    if char in _CURLY_QUOTES:
        return "a curly quote (typographic quotes come from word processors and chat apps)"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return "a control character"
    return "a non-ASCII character"


def find_key() -> tuple[str, str] | None:
    """``(key, where it came from)``: FAL_KEY, else FAL_KEY_ID + FAL_KEY_SECRET, else a Colab secret FAL_KEY.

    The same order as fal-client. Values are not checked here (:class:`Key` does that).
    """
    key = os.environ.get("FAL_KEY", "")
    if key.strip():
        return key, "the FAL_KEY environment variable"
    key_id, secret = os.environ.get("FAL_KEY_ID", "").strip(), os.environ.get("FAL_KEY_SECRET", "").strip()
    if key_id and secret:
        return f"{key_id}:{secret}", "the FAL_KEY_ID and FAL_KEY_SECRET environment variables"
    colab = _colab_secret()
    if colab is not None and colab.strip():
        return colab, "the Colab secret FAL_KEY"
    return None


def _colab_secret() -> str | None:
    """The Colab secret named FAL_KEY, only when running in Colab; any failure means "no key"."""
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import userdata  # type: ignore[import-not-found]

        value = userdata.get("FAL_KEY")
    except Exception:  # not granted, not defined, not really Colab: all mean there is no key here
        return None
    return value if isinstance(value, str) else None


def key_from_env() -> str | None:
    """The key :func:`find_key` finds, or None."""
    found = find_key()
    return found[0] if found else None


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
    """The target for ``key`` / ``base_url``; with neither (and no env key) the embedded local server.

    Raises :class:`~falstudio.client.errors.InvalidKeyError` for a malformed key, before anything is sent.
    """
    found = (key, "key=") if key is not None else find_key()
    given = Key(*found) if found and found[0] else None
    if base_url is not None:
        hosts = Hosts.single(base_url)
        return Target(hosts, given, "local" if hosts.is_loopback else "fal")
    if given is not None:
        assert found is not None
        _fal_shaped(given.reveal(), found[1])  # never sent to fal's hosts otherwise
        return Target(Hosts.fal(), given, "fal")
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
