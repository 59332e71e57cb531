"""A server that echoes the client's key in its error ``detail`` (a misconfigured proxy, a hostile server) never
gets it into an error's text or repr: the key is taken out of the reply before the error is made."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from falstudio.client import Client, RetryPolicy, errors
from falstudio.testing import LoopbackServer

KEY_ID, SECRET = "my-key-id-0001", "my-very-secret-value-0002"  # shaped like no known key: only the client knows it


@pytest.fixture
def echo() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            status = int(self.path.rstrip("/").rsplit("/", 1)[-1].removeprefix("s"))
            auth = self.headers.get("authorization", "")
            detail: Any = f"bad credentials {auth}; id {KEY_ID}"
            if status == 422:
                detail = [{"loc": ["body", "prompt"], "msg": f"echo {auth}", "type": "value_error"}]
            data = json.dumps({"detail": detail}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with LoopbackServer(Handler) as server:
        yield server.url


@pytest.mark.parametrize("status", [400, 401, 404, 422, 429])
def test_the_key_never_comes_back_in_an_error(echo: str, status: int) -> None:
    retry = RetryPolicy(max_attempts=1)
    client = Client(base_url=echo, key=f"{KEY_ID}:{SECRET}", retry=retry, history=False)
    with client, pytest.raises(errors.FalError) as info:
        client.submit(f"acme/s{status}", {"prompt": "a fox"}, validate=False)
    error = info.value
    text = f"{error} {error!r} {error.message} {getattr(error, 'errors', '')}"
    assert error.status_code == status
    assert SECRET not in text and KEY_ID not in text, text
    assert "***" in text
