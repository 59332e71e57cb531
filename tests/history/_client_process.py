"""Run as a script against a local server (``FALSTUDIO_TEST_URL`` / ``FALSTUDIO_TEST_KEY``).

``submit``: submit one request and wait for it (the test kills this process while it waits).
``resume``: resume every in-flight record of the history and print their states as JSON.
"""

from __future__ import annotations

import json
import os
import sys

import falstudio as fs
from falstudio.client import Client

REQUEST = {"prompt": "a lighthouse at dusk", "quality": "medium", "num_images": 2, "image_size": "1024x1024"}
ENDPOINT = "fal-ai/gpt-image-1-mini"


def main(action: str) -> None:
    client = Client(base_url=os.environ["FALSTUDIO_TEST_URL"], key=os.environ["FALSTUDIO_TEST_KEY"])
    if action == "submit":
        client.subscribe(ENDPOINT, REQUEST)
        print("finished before it was killed", file=sys.stderr)
    else:
        updated = fs.history().resume(client=client)
        print(json.dumps({r.request_id: r.state for r in updated}))
    client.close()


if __name__ == "__main__":
    main(sys.argv[1])
