"""Which server a client talks to, with which credentials: ``key=``, FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET, a
Colab secret named FAL_KEY, the token ``fal auth login`` saved (fal-client 1.0.3's order), else the embedded
local server, saying which sources it checked."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Literal

import httpx

from ._login import has_login, login_token, token_file
from ._protocol import Hosts, origin_of
from .errors import InvalidKeyError

Mode = Literal["local", "fal"]

_announced = threading.Event()


class Key:
    """An API key (or a ``fal auth login`` token) that never shows itself in a repr, str, log line or pickle.

    Checked when read: ``source`` (where it came from: ``key=``, ``FAL_KEY``...) is named in the
    :class:`~falstudio.client.errors.InvalidKeyError` a malformed key raises; the key itself never is.
    ``scheme`` is how it is sent: ``Authorization: Key ...``, or ``Bearer`` for a login token.
    """

    __slots__ = ("_value", "scheme")

    def __init__(self, value: str, source: str = "key=", scheme: str = "Key") -> None:
        self._value = checked_key(value, source)
        self.scheme = scheme

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


@dataclass(frozen=True)
class Found:
    """Credentials and where they came from; ``scheme`` is ``Key`` (an API key) or ``Bearer`` (a login token)."""

    value: str = field(repr=False)
    source: str
    scheme: str = "Key"


def find_credentials(*, refresh: bool = True, login: bool = True) -> tuple[Found | None, list[str]]:
    """The credentials fal-client 1.0.3 would use, in its order, and what was checked on the way.

    FAL_KEY, else FAL_KEY_ID + FAL_KEY_SECRET, else a Colab secret FAL_KEY (these three are skipped with
    ``FAL_FORCE_AUTH_BY_USER=1``), else the token ``fal auth login`` saved (``$FAL_HOME_DIR/auth0_token``,
    by default ``~/.fal/auth0_token``), refreshed through fal's auth service when it has expired (unless not
    ``refresh``; not looked at unless ``login``). Key values are not checked here (:class:`Key` does that).
    """
    checked: list[str] = []
    if os.environ.get("FAL_FORCE_AUTH_BY_USER") == "1":
        checked.append("FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET and the Colab secret (skipped: FAL_FORCE_AUTH_BY_USER=1)")
    else:
        key = os.environ.get("FAL_KEY", "")
        if key.strip():
            return Found(key, "the FAL_KEY environment variable"), checked
        checked.append("FAL_KEY (not set)")
        key_id, secret = os.environ.get("FAL_KEY_ID", "").strip(), os.environ.get("FAL_KEY_SECRET", "").strip()
        if key_id and secret:
            return Found(f"{key_id}:{secret}", "the FAL_KEY_ID and FAL_KEY_SECRET environment variables"), checked
        checked.append("FAL_KEY_ID + FAL_KEY_SECRET (not set)")
        if "google.colab" in sys.modules:
            colab = _colab_secret()
            if colab is not None and colab.strip():
                return Found(colab, "the Colab secret FAL_KEY"), checked
            checked.append("the Colab secret FAL_KEY (not set or not granted)")
        else:
            checked.append("the Colab secret FAL_KEY (not in Colab)")
    if not login:
        return None, checked
    token, note = login_token(refresh=refresh)
    if token is not None:
        return Found(token, f"the `fal auth login` token in {token_file()}", "Bearer"), checked
    checked.append(f"`fal auth login` ({note})")
    return None, checked


def find_key(*, login: bool = True) -> tuple[str, str] | None:
    """``(credentials, where they came from)`` as :func:`find_credentials` finds them, or None."""
    found = find_credentials(login=login)[0]
    return (found.value, found.source) if found else None


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
    """The credentials :func:`find_credentials` finds (without refreshing a login token), or None."""
    found = find_credentials(refresh=False)[0]
    return found.value if found else None


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
    """The target for ``key`` / ``base_url``; with neither (and no credentials found) the embedded local server,
    announced once with the sources that were checked.

    Raises :class:`~falstudio.client.errors.InvalidKeyError` for a malformed key, before anything is sent.
    """
    # A login token (a session of the user's fal account) goes to fal's own hosts only: never to a server on
    # this machine, a proxy or any other base_url (an API key the user set does go there: their choice)
    for_fal = base_url is None or Hosts.single(base_url).is_fal
    found, checked = (Found(key, "key="), []) if key is not None else find_credentials(login=for_fal)
    given = Key(found.value, found.source, found.scheme) if found and found.value else None
    if base_url is not None:
        hosts = Hosts.single(base_url)
        return Target(hosts, given, "local" if hosts.is_loopback else "fal")
    if given is not None:
        if found is not None and given.scheme == "Key":  # a login token (Bearer) has its own shape
            _fal_shaped(given.reveal(), found.source)  # never sent to fal's hosts otherwise
        return Target(Hosts.fal(), given, "fal")
    from falstudio.local import embedded_server  # the client's only tie to the local package

    server = embedded_server()
    if not _announced.is_set():
        _announced.set()
        sources = "; ".join(["key= (not given)", *checked])
        print(
            f"falstudio: no fal credentials found (checked {sources}) — using the embedded "
            f"offline server at {server.url} (offline previews, no cost). Set FAL_KEY or run `fal auth login` to "
            "use fal.ai.",
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
            request.headers["Authorization"] = f"{self._key.scheme} {self._key.reveal()}"
        yield request

    def __repr__(self) -> str:
        return "KeyAuth('***')"


def has_key() -> bool:
    """Whether fal credentials are found (FAL_KEY, FAL_KEY_ID + FAL_KEY_SECRET, a Colab secret, a login)."""
    return key_from_env() is not None or has_login()


def fal_base_url() -> str:
    """Where ``Client()`` with credentials sends requests: fal.ai's queue (or ``FAL_RUN_HOST``'s)."""
    return Hosts.fal().queue


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` is on this machine (a local server)."""
    try:
        return Hosts.single(url).is_loopback
    except ValueError:
        return False
