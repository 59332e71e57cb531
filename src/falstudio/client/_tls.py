"""A TLS context that loads its certificate authorities on the first TLS connection, not when it is made.

Loading certifi's bundle costs tens of milliseconds per httpx client; a client that only talks plain HTTP to the
embedded loopback server never needs it. Verification stays as strict as httpx's default (``verify=True``).
"""

from __future__ import annotations

import os
import ssl
import threading
from typing import Any


class LazyTLSContext(ssl.SSLContext):
    """httpx's default context (``ssl.create_default_context`` with certifi, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``),
    its certificates loaded when it first wraps a connection."""

    _loaded = False
    _load_lock = threading.Lock()

    def __new__(cls, *args: Any, **kwargs: Any) -> LazyTLSContext:
        context = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        context.verify_mode = ssl.CERT_REQUIRED
        context.check_hostname = True
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog:
            context.keylog_filename = keylog
        return context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass  # ssl.SSLContext.__init__ takes the protocol, which __new__ fixed

    def _load(self) -> None:
        if self._loaded:
            return
        with self._load_lock:
            if self._loaded:
                return
            if os.environ.get("SSL_CERT_FILE"):
                self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
            elif os.environ.get("SSL_CERT_DIR"):
                self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
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
