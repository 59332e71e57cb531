"""A request submitted with a webhook ends in the history although nobody here asks for its result (it used to stay
"queued", then read as "lost" once its local server was gone)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

from falstudio.client import Client, recorder
from falstudio.history import history
from falstudio.local import LocalServer


def test_a_webhook_request_is_recorded_as_done(server: LocalServer) -> None:
    received: list[dict[str, object]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        with Client(base_url=server.url, key=server.key) as client:
            handle = client.submit(
                "openai/gpt-image-2",
                {"prompt": "a paper boat", "quality": "low"},
                webhook_url=f"http://127.0.0.1:{receiver.server_port}/done",
            )
            deadline = time.monotonic() + 20
            state = None
            while time.monotonic() < deadline:
                recorder.flush()
                [record] = [r for r in history(limit=5) if r.request_id == handle.request_id]
                state = record.state
                if state != "queued" and received:
                    break
                time.sleep(0.2)
        assert received and received[0]["request_id"] == handle.request_id
        assert state == "done"
    finally:
        receiver.shutdown()
