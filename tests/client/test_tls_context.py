"""The TLS context loads its certificate authorities on the first TLS connection only (issue 29: a client of the
loopback server never pays for certifi's bundle), verifies as strictly as httpx's default, and is made once per
process and certificate source."""

from __future__ import annotations

import ssl

import httpx

from falstudio._internal import tls as _tls
from falstudio.client import Client
from falstudio.client.results import plain_download


def test_plain_http_to_the_local_server_never_loads_certificates(server, monkeypatch):
    loads: list[object] = []
    original = ssl.SSLContext.load_verify_locations
    monkeypatch.setattr(
        ssl.SSLContext, "load_verify_locations", lambda self, *a, **k: (loads.append(a), original(self, *a, **k))
    )
    with Client(base_url=server.url, key=server.key, history=False) as client:
        result = client.subscribe("fal-ai/gpt-image-1-mini", {"prompt": "a lighthouse", "quality": "low"})
        assert result.images
        url = result.images[0].url
    assert plain_download(url)[:8] == b"\x89PNG\r\n\x1a\n"  # a download without a client: no context of its own
    assert loads == []


def test_one_context_per_process_and_certificate_source(monkeypatch):
    import certifi

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    shared = _tls.default_context()
    assert _tls.default_context() is shared
    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())  # read when a context is asked for, as httpx does
    from_file = _tls.default_context()
    assert from_file is not shared
    assert _tls.default_context() is from_file
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", "/nonexistent-certificates")
    from_dir = _tls.default_context()
    assert from_dir not in (shared, from_file)
    monkeypatch.delenv("SSL_CERT_DIR")
    assert _tls.default_context() is shared
    from_file.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="fal.run")  # loads the file it was made for
    assert from_file.cert_store_stats()["x509_ca"] > 0


def test_the_context_verifies_like_httpx_default_and_loads_on_first_tls_use(monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    lazy, eager = _tls.LazyTLSContext(), httpx.create_ssl_context()
    assert (lazy.verify_mode, lazy.check_hostname, lazy.protocol) == (
        eager.verify_mode,
        eager.check_hostname,
        eager.protocol,
    )
    assert lazy.cert_store_stats()["x509_ca"] == 0
    lazy.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="fal.run")
    assert lazy.cert_store_stats() == eager.cert_store_stats()


def test_ssl_cert_file_is_honoured_like_httpx(monkeypatch):
    import certifi

    monkeypatch.setenv("SSL_CERT_FILE", certifi.where())
    lazy = _tls.LazyTLSContext()
    lazy.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="fal.run")
    assert lazy.cert_store_stats()["x509_ca"] > 0
