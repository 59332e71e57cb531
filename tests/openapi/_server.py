"""A fal-shaped OpenAPI service on loopback: ``GET /api/openapi/queue/openapi.json?endpoint_id=<id>``.

Serves ``documents`` (a dict becomes JSON, bytes go as they are); unknown ids get a 404 as fal answers them.
Counts requests per endpoint id so tests can tell a cache hit from a fetch.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PATH = "/api/openapi/queue/openapi.json"


class OpenAPIServer:
    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.hits: Counter[str] = Counter()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                endpoint_id = (parse_qs(url.query).get("endpoint_id") or [""])[0]
                service.hits[endpoint_id] += 1
                document = service.documents.get(endpoint_id) if url.path == PATH else None
                if document is None:
                    self._reply(404, json.dumps({"detail": f"Endpoint {endpoint_id!r} not found"}).encode())
                elif isinstance(document, bytes):
                    self._reply(200, document)
                else:
                    self._reply(200, json.dumps(document).encode())

            def _reply(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}{PATH}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> OpenAPIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
