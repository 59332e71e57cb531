"""The API keys a local server mints through its Platform API (``POST /v1/keys``), so a class can rehearse
with a key per student and no bill. Minted keys are API-scope: they run models and read prices; the server's
own key is the ADMIN key (keys and usage)."""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class MintedKey:
    key_id: str
    alias: str
    created_at: str
    secret: str

    def listed(self) -> dict[str, str]:
        """As ``GET /keys`` lists it (no secret)."""
        return {"key_id": self.key_id, "alias": self.alias, "scope": "API", "created_at": self.created_at}


SERVER_KEY = "Server key"  # the alias of requests made with the server's own key
MAX_NOTED = 100_000  # request ids remembered with their key's alias (more than the jobs a server keeps)


class KeyRing:
    def __init__(self) -> None:
        self._keys: dict[str, MintedKey] = {}
        self._requests: OrderedDict[str, str] = OrderedDict()  # request id -> alias of the minted key it came with
        self._lock = threading.Lock()

    def mint(self, alias: str) -> MintedKey:
        key = MintedKey(
            secrets.token_hex(8),
            alias,
            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            secrets.token_urlsafe(24),
        )
        with self._lock:
            self._keys[key.key_id] = key
        return key

    def revoke(self, key_id: str) -> None:
        with self._lock:
            self._keys.pop(key_id, None)

    def listed(self) -> list[MintedKey]:
        with self._lock:
            return sorted(self._keys.values(), key=lambda k: k.created_at)

    def alias_of(self, value: str) -> str | None:
        """The alias of the live minted key ``value`` (``key_id:key_secret``), else None."""
        key_id, _, secret = value.partition(":")
        with self._lock:
            key = self._keys.get(key_id)
        if key is None or not secrets.compare_digest(secret.encode(), key.secret.encode()):
            return None
        return key.alias

    def note(self, request_id: str | None, authorization: str | None) -> None:
        """Remember which minted key (by alias) a request came with; the first call for a request id counts."""
        alias = self.alias_of((authorization or "").strip().partition(" ")[2].strip())
        if request_id is None or alias is None:
            return
        with self._lock:
            self._requests.setdefault(request_id, alias)
            while len(self._requests) > MAX_NOTED:
                self._requests.popitem(last=False)

    def alias_for(self, request_id: str) -> str:
        """The alias of the key ``request_id`` came with (``"Server key"`` for the server's own)."""
        with self._lock:
            return self._requests.get(request_id, SERVER_KEY)
