"""A TLS context that loads its certificate authorities on the first TLS connection, not when it is made, and one
such context shared by every httpx client of the process.

Loading certifi's bundle costs ~25 ms of CPU per httpx client made with httpx's default (``verify=True``); a client
that only talks plain HTTP to the embedded loopback server never needs it, and clients that do share one load.
Verification stays as strict as httpx's default.
"""

from __future__ import annotations

import functools
import os
import ssl
import threading
from typing import Any

__all__ = ["LazyTLSContext", "default_context"]


def default_context() -> LazyTLSContext:
    """The process's shared :class:`LazyTLSContext`, one per certificate source (``SSL_CERT_FILE``, ``SSL_CERT_DIR``
    or certifi, read when it is asked for, as httpx reads them for each client)."""
    return _shared(*_source())


def _source() -> tuple[str | None, str | None]:
    cafile = os.environ.get("SSL_CERT_FILE") or None
    return cafile, None if cafile else os.environ.get("SSL_CERT_DIR") or None


@functools.cache
def _shared(cafile: str | None, capath: str | None) -> LazyTLSContext:
    return LazyTLSContext(source=(cafile, capath))


class LazyTLSContext(ssl.SSLContext):
    """httpx's default context (``ssl.create_default_context`` with certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as
    set when it is made; ``source``: that file and folder instead), its certificates loaded when it first wraps a
    connection."""

    _loaded = False
    _load_lock = threading.Lock()
    _source: tuple[str | None, str | None]

    def __new__(cls, *args: Any, source: tuple[str | None, str | None] | None = None, **kwargs: Any) -> LazyTLSContext:
        context = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog:
            context.keylog_filename = keylog
        context._source = source or _source()
        return context

    def __init__(self, *args: Any, source: tuple[str | None, str | None] | None = None, **kwargs: Any) -> None:
        pass  # ssl.SSLContext.__init__ takes the protocol, which __new__ fixed

    def _load(self) -> None:
        if self._loaded:
            return
        with self._load_lock:
            if self._loaded:
                return
            cafile, capath = self._source
            if cafile or capath:
                self.load_verify_locations(cafile=cafile, capath=capath)
            else:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
            self._loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self._load()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self._load()
        return super().wrap_bio(*args, **kwargs)
