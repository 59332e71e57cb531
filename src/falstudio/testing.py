"""Test doubles for code that uses falstudio: fal-shaped servers on loopback, a polling wait, a clock that never sleeps.

For the full fal protocol run the real offline server (``falstudio.local.LocalServer(port=0, latency=0)``); these
are for what it does not serve: a reply you shape yourself (``LoopbackServer`` with a ``QuietHandler``), fal's
OpenAPI service (``OpenAPIServer``), and retries without waiting out their back-off (``FakeClock``).
"""

from __future__ import annotations

import collections
import http.server
import json
import threading
import time
import typing
import urllib.parse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["OPENAPI_PATH", "FakeClock", "LoopbackServer", "OpenAPIServer", "QuietHandler", "wait_for"]

_T = typing.TypeVar("_T")
OPENAPI_PATH = "/api/openapi/queue/openapi.json"


def wait_for(condition: Callable[[], _T], timeout: float = 30.0, interval: float = 0.01, what: str = "") -> _T:
    """Poll ``condition()`` until it returns something truthy, and return that; fail after ``timeout`` seconds.

    The failure is an ``AssertionError`` naming ``what`` (or the condition) and its last value.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            name = what or getattr(condition, "__qualname__", repr(condition))
            raise AssertionError(f"{name} not reached within {timeout:g} s (last value {value!r})")
        time.sleep(interval)


class FakeClock:
    """Time that moves only when someone sleeps: pass ``clock=fake.now, sleep=fake.sleep`` to a ``RetryPolicy``.

    ``slept`` lists every delay asked for, so a test can check the back-off without waiting it out.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.time = start
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += max(0.0, seconds)


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive, as fal), no log lines, and one way to answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def send(self, code: int, data: bytes, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, code: int, payload: Any) -> None:
        self.send(code, json.dumps(payload).encode(), {"content-type": "application/json"})


class LoopbackServer:
    """Serves ``handler`` on 127.0.0.1 at a free port from a daemon thread; ``url`` has no trailing slash."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        # a short poll interval: close() returns at once instead of after up to half a second
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)


class OpenAPIServer:
    """fal's OpenAPI service on loopback: ``GET /api/openapi/queue/openapi.json?endpoint_id=<id>``.

    Serves ``documents`` (a dict becomes JSON, bytes go as they are); unknown ids get a 404 as fal answers them.
    ``hits`` counts requests per endpoint id, so a test can tell a cache hit from a fetch. Point falstudio at it
    with ``FALSTUDIO_OPENAPI_URL=<server.url>``.
    """

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.hits: collections.Counter[str] = collections.Counter()
        service = self

        class Handler(QuietHandler):
            protocol_version = "HTTP/1.0"  # no kept-alive connection answers after stop()

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                endpoint_id = (urllib.parse.parse_qs(url.query).get("endpoint_id") or [""])[0]
                service.hits[endpoint_id] += 1
                document = service.documents.get(endpoint_id) if url.path == OPENAPI_PATH else None
                if document is None:
                    self.send_json(404, {"detail": f"Endpoint {endpoint_id!r} not found"})
                else:
                    body = document if isinstance(document, bytes) else json.dumps(document).encode()
                    self.send(200, body, {"content-type": "application/json"})

        self._server = LoopbackServer(Handler)
        self.url = self._server.url + OPENAPI_PATH

    def __enter__(self) -> OpenAPIServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.close()
