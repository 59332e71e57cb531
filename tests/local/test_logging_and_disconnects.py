"""Starting a local server leaves the process's logging alone (a user's log file keeps working), and a client that
hangs up mid-request is routine: one debug line, no ERROR, no traceback in the notebook."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from falstudio.local import LocalServer


def test_starting_a_server_keeps_the_user_s_log_handlers(tmp_path: Path) -> None:
    log_file = tmp_path / "notebook.log"
    handler = logging.FileHandler(log_file, mode="w")  # mode "w": a closed handler never reopens its file
    user = logging.getLogger("a_users_own_logger")
    user.addHandler(handler)
    user.setLevel(logging.INFO)
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.setLevel(logging.DEBUG)  # a user's choice, for their own uvicorn app
    try:
        user.info("before the server")
        with LocalServer(port=0, latency=0) as server:
            user.info("while it runs")
            assert httpx.get(server.url + "/").status_code == 200
        user.info("after it stopped")
        handler.flush()
        assert log_file.read_text().splitlines() == ["before the server", "while it runs", "after it stopped"]
        assert uvicorn_error.level == logging.DEBUG
        assert not logging.getLogger("uvicorn.access").handlers
    finally:
        user.removeHandler(handler)
        handler.close()
        uvicorn_error.setLevel(logging.NOTSET)


def test_the_server_s_start_up_lines_stay_out_of_an_info_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("uvicorn.error"), "level", logging.NOTSET)  # nobody has set it
    caplog.set_level(logging.INFO)
    with LocalServer(port=0, latency=0) as server:
        assert httpx.get(server.url + "/").status_code == 200
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("uvicorn")]


def _hang_up_during(server: LocalServer, request: bytes, sent: int = 64 * 1024) -> None:
    """Send ``request`` (headers announcing a 10 MB body) plus ``sent`` bytes of it, then close the socket."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request + b"x" * sent)
        time.sleep(0.05)


def _headers(server: LocalServer, path: str, method: str = "POST", auth: str | None = None) -> bytes:
    auth = auth if auth is not None else f"Key {server.key}"
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: {auth}\r\n"
        "Content-Type: image/png\r\nContent-Length: 10000000\r\n\r\n"
    ).encode()


def test_a_client_hanging_up_mid_upload_is_one_debug_line(
    make_server: Callable[..., LocalServer], caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="falstudio.local")
    caplog.set_level(logging.DEBUG, logger="uvicorn")
    srv = make_server(max_upload_bytes=100 * 1024 * 1024)
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Key {srv.key}"}) as api:
        signed = api.post("/storage/upload/initiate", json={"content_type": "image/png"}).json()["upload_url"]
        token = api.post("/storage/auth/token", json={}).json()["token"]
        begun = api.post("/files/upload/multipart", headers={"Authorization": f"Bearer {token}"}).json()
    part = httpx.URL(f"{begun['access_url']}/multipart/{begun['uploadId']}/1").path
    cases = [
        _headers(srv, "/files/upload"),
        _headers(srv, httpx.URL(signed).path, "PUT", auth=""),
        _headers(srv, part, "PUT", auth=f"Bearer {token}"),
        _headers(srv, "/fal-ai/gpt-image-1-mini"),
        _headers(srv, "/run/fal-ai/gpt-image-1-mini"),
    ]
    for request in cases:
        _hang_up_during(srv, request)
    deadline = time.monotonic() + 30  # generous: a loaded machine
    while sum("client disconnected" in r.getMessage() for r in caplog.records) < len(cases):
        assert time.monotonic() < deadline, [r.getMessage() for r in caplog.records]
        time.sleep(0.02)
    time.sleep(0.2)  # anything logged after the handler ran
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not loud, [r.getMessage() for r in loud]
    assert all(r.exc_info is None for r in caplog.records)
    assert "Traceback" not in capfd.readouterr().err
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Key {srv.key}"}) as api:
        assert api.post("/run/fal-ai/gpt-image-1-mini", json={"prompt": "x", "quality": "low"}).status_code == 200
