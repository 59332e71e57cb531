"""Credentials from `fal auth login`, in fal-client 1.0.3's order (checked against fal-client itself), and the
offline notice that names every source it checked."""

from __future__ import annotations

import base64
import json
import time
import types
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from falstudio.client import _credentials, _login
from falstudio.client._credentials import KeyAuth, resolve
from falstudio.testing import LoopbackServer, QuietHandler

fal_auth = pytest.importorskip("fal_client.auth")


def _jwt(expires_in: float) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'exp': int(time.time() + expires_in), 'sub': 'u'})}.sig"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET", "FAL_FORCE_AUTH_BY_USER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FAL_HOME_DIR", str(tmp_path))
    return tmp_path


def _write_login(home: Path, refresh: str, access: str | None) -> None:
    (home / "auth0_token").write_text(refresh + (f"\n{access}" if access else ""))


def _authorization(target: _credentials.Target) -> str:
    assert target.key is not None
    request = httpx.Request("POST", f"{target.hosts.queue}/fal-ai/x")
    return next(KeyAuth(target.key, target.hosts).auth_flow(request)).headers["Authorization"]


def _fal_clients_choice() -> str:
    return fal_auth.fetch_auth_credentials().header_value


def test_a_fal_auth_login_token_is_used_like_fal_client(home: Path) -> None:
    access = _jwt(3600)
    _write_login(home, "refresh-1", access)
    target = resolve()
    assert target.mode == "fal" and _authorization(target) == f"Bearer {access}" == _fal_clients_choice()
    assert "auth0_token" in repr(_credentials.find_credentials()[0]) and access not in repr(target.key)


@pytest.mark.parametrize("force", [False, True], ids=["keys first", "FAL_FORCE_AUTH_BY_USER=1"])
def test_the_order_is_fal_clients(home: Path, monkeypatch: pytest.MonkeyPatch, force: bool) -> None:
    access = _jwt(3600)
    _write_login(home, "refresh-1", access)
    monkeypatch.setenv("FAL_KEY_ID", "id")
    monkeypatch.setenv("FAL_KEY_SECRET", "secret")
    if force:
        monkeypatch.setenv("FAL_FORCE_AUTH_BY_USER", "1")
    expected = f"Bearer {access}" if force else "Key id:secret"
    assert _authorization(resolve()) == expected == _fal_clients_choice()


class _AuthService(QuietHandler):
    seen: ClassVar[list[dict[str, list[str]]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        type(self).seen.append(form)
        if form.get("refresh_token") == ["good-refresh"]:
            self.send_json(200, {"access_token": _RENEWED, "refresh_token": "rotated-refresh"})
        else:
            self.send_json(403, {"error": "invalid_grant"})


_RENEWED = _jwt(7200)


@pytest.fixture
def auth_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    server = LoopbackServer(_AuthService)
    _AuthService.seen = []
    monkeypatch.setattr(_login, "AUTH_TOKEN_URL", f"{server.url}/oauth/token")
    yield server
    server.close()


def test_an_expired_login_is_renewed_and_saved_for_the_cli(home: Path, auth_service: LoopbackServer) -> None:
    _write_login(home, "good-refresh", _jwt(-10))
    assert _authorization(resolve()) == f"Bearer {_RENEWED}"
    assert _AuthService.seen[0]["grant_type"] == ["refresh_token"]
    assert (home / "auth0_token").read_text().splitlines() == ["rotated-refresh", _RENEWED]


def _offline_notice(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    stub = types.SimpleNamespace(url="http://127.0.0.1:9", key="local-key")
    monkeypatch.setattr("falstudio.local.embedded_server", lambda: stub)
    monkeypatch.setattr(_credentials, "_announced", __import__("threading").Event())
    target = resolve()
    assert target.mode == "local"
    captured = capsys.readouterr()
    return captured.err + captured.out  # stdout in a kernel


def test_going_offline_names_every_source_checked(
    home: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = _offline_notice(monkeypatch, capsys)
    for source in ("key=", "FAL_KEY (not set)", "FAL_KEY_ID + FAL_KEY_SECRET", "Colab secret", "fal auth login"):
        assert source in notice, notice
    assert str(home / "auth0_token") in notice and "not found" in notice


def test_a_login_that_cannot_be_renewed_says_so_when_going_offline(
    home: Path, auth_service: LoopbackServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_login(home, "revoked-refresh", _jwt(-10))
    notice = _offline_notice(monkeypatch, capsys)
    assert "renewing it failed" in notice and "fal auth login" in notice and "revoked-refresh" not in notice


def test_a_login_token_never_goes_to_a_local_server_nor_leaks_its_refresh_token(
    home: Path, auth_service: LoopbackServer
) -> None:
    _write_login(home, "good-refresh", _jwt(-10))
    local = resolve(base_url="http://127.0.0.1:9")
    assert local.key is None and not _AuthService.seen  # not renewed for a loopback server, nor sent to it
    assert _credentials.has_key() and _credentials.key_from_env() is None  # an expired login counts, unrevealed
    assert not _AuthService.seen


def test_a_login_token_goes_only_to_fal_s_own_hosts(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A base_url that is not fal's (a proxy, a typo, a look-alike) used to get the user's session token."""
    from falstudio.client import Platform

    access = _jwt(3600)
    _write_login(home, "refresh-1", access)
    for elsewhere in ("https://proxy.example.com", "https://fal.run.example.com", "https://notfal.ai"):
        assert resolve(base_url=elsewhere).key is None, elsewhere
        assert not Platform(base_url=f"{elsewhere}/v1").has_key, elsewhere
    for fal in ("https://queue.fal.run", "https://fal.run"):
        assert _authorization(resolve(base_url=fal)) == f"Bearer {access}"
    assert Platform(base_url="https://api.fal.ai/v1").has_key
    monkeypatch.setenv("FAL_RUN_HOST", "fal.staging.example")  # fal-client's own override names fal's host
    assert resolve(base_url="https://queue.fal.staging.example").key is not None
    monkeypatch.setenv("FAL_KEY", "id:secret")  # an API key the user set goes where they point it
    assert resolve(base_url="https://proxy.example.com").key is not None


def test_the_platform_api_sends_a_login_token_as_bearer(home: Path) -> None:
    """It used to be sent as ``Key <jwt>``: the scheme was dropped on the way to the Platform client."""
    from falstudio.client import Platform

    access = _jwt(3600)
    _write_login(home, "refresh-1", access)
    target = Platform(base_url="https://api.fal.ai/v1")._async._wire.target
    assert target.key is not None and target.key.scheme == "Bearer"
    request = httpx.Request("GET", "https://api.fal.ai/v1/models/pricing")
    assert next(KeyAuth(target.key, target.hosts).auth_flow(request)).headers["Authorization"] == f"Bearer {access}"
