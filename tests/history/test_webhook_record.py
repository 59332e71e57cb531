"""A request submitted with a webhook ends in the history although nobody here asks for its result (it used to stay
"queued", then read as "lost" once its local server was gone)."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from falstudio.client import Client, recorder
from falstudio.history import history
from falstudio.local import LocalServer
from falstudio.testing import LoopbackServer, wait_for


def test_a_webhook_request_is_recorded_as_done(server: LocalServer) -> None:
    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    with LoopbackServer(Receiver) as receiver, Client(base_url=server.url, key=server.key) as client:
        handle = client.submit(
            "openai/gpt-image-2", {"prompt": "a paper boat", "quality": "low"}, webhook_url=f"{receiver.url}/done"
        )

        def settled() -> str | None:
            recorder.flush()
            [record] = [r for r in history(limit=5) if r.request_id == handle.request_id]
            return record.state if record.state != "queued" and received else None

        state = wait_for(settled, timeout=20, what="the webhook's arrival and the record's end")
        assert received[0]["request_id"] == handle.request_id
        assert state == "done"
