"""The local server answers only requests addressed to it (DNS rebinding gets a 421, and no foreign name reaches
the URLs it returns), stores active content as inert bytes, and serves files so they can never act as pages of
its origin: a restrictive CSP, nosniff, downloads for what is not an image, no blanket CORS."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from falstudio._internal.tls import default_context
from falstudio.local import LocalServer

MINI = "fal-ai/gpt-image-1-mini"


def _get(srv: LocalServer, path: str, host: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Key {srv.key}", "Host": host}
    method = str(kwargs.pop("method", "GET"))
    return httpx.request(method, srv.url + path, headers=headers, timeout=30, verify=default_context(), **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["evil.example", "127.0.0.1.evil.example", "localhost.evil.example:80", "10.0.0.1"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/"), ("POST", f"/{MINI}"), ("POST", "/storage/auth/token"), ("GET", "/files/" + "0" * 32 + "/a.png")],
)
def test_a_request_for_another_host_is_misdirected(server: LocalServer, host: str, method: str, path: str) -> None:
    r = _get(server, path, host, method=method, json={"prompt": "x"} if method == "POST" else None)
    assert r.status_code == 421, r.text
    assert "evil" not in r.text and "10.0.0.1" not in r.text  # never reflected
    assert "allowed_hosts" in r.json()["detail"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "LOCALHOST.", "[::1]"])
def test_loopback_names_are_answered_and_used_in_urls(server: LocalServer, host: str) -> None:
    named = f"{host}:{server.port}"
    r = _get(server, f"/{MINI}", named, method="POST", json={"prompt": "x", "quality": "low"})
    assert r.status_code == 200, r.text
    assert r.json()["status_url"].startswith(f"http://{named}/")
    assert _get(server, "/", named).json()["queue"].startswith(f"http://{named}/")


def test_extra_names_can_be_allowed(make_server: Callable[..., LocalServer]) -> None:
    srv = make_server(allowed_hosts=["Studio.lan"])
    r = _get(srv, f"/{MINI}", f"studio.lan:{srv.port}", method="POST", json={"prompt": "x", "quality": "low"})
    assert r.status_code == 200 and r.json()["status_url"].startswith(f"http://studio.lan:{srv.port}/")
    assert _get(srv, "/", "other.lan").status_code == 421


def test_a_wildcard_bind_answers_addresses_but_not_foreign_names(make_server: Callable[..., LocalServer]) -> None:
    srv = make_server(host="0.0.0.0")
    assert srv.url.startswith("http://127.0.0.1:")
    assert _get(srv, "/", f"192.168.1.20:{srv.port}").status_code == 200  # an address cannot be re-pointed
    assert _get(srv, "/", "evil.example").status_code == 421


def _upload(api: httpx.Client, data: bytes, content_type: str, name: str) -> str:
    r = api.post("/files/upload", content=data, headers={"Content-Type": content_type, "X-Fal-File-Name": name})
    assert r.status_code == 200, r.text
    return str(r.json()["access_url"])


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        ("text/html", b"<script>alert(document.domain)</script>"),
        ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
        ("application/xhtml+xml", b"<html/>"),
        ("text/javascript", b"alert(1)"),
        ("application/pdf", b"%PDF-1.4"),
        ("TEXT/HTML; charset=utf-8", b"<b>x</b>"),
    ],
)
def test_active_content_is_stored_as_inert_bytes_and_downloads(
    api: httpx.Client, content_type: str, data: bytes
) -> None:
    url = _upload(api, data, content_type, "page.html")
    served = httpx.get(url, timeout=30)
    assert served.status_code == 200 and served.content == data
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == 'attachment; filename="page.html"'
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in served.headers
    signed = api.post("/storage/upload/initiate", json={"content_type": content_type, "file_name": "x.svg"}).json()
    assert httpx.put(signed["upload_url"], content=data, headers={"Content-Type": content_type}).status_code == 200
    assert httpx.get(signed["file_url"]).headers["content-type"] == "application/octet-stream"


def test_images_are_shown_inline_but_still_sandboxed(api: httpx.Client, png: Callable[..., bytes]) -> None:
    served = httpx.get(_upload(api, png(), "image/png", "cat.png"), timeout=30)
    assert served.headers["content-type"] == "image/png"
    assert served.headers["content-disposition"] == 'inline; filename="cat.png"'
    assert served.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "access-control-allow-origin" not in served.headers
