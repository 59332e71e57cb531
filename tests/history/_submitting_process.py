"""Run as a script against a local server (``FALSTUDIO_TEST_URL`` / ``FALSTUDIO_TEST_KEY``): submit one request.

``submit``: just submit (the test kills this process the moment the server has the job).
``stall``: stop right after the server accepted the request, before the client records its reply, and print
``ACCEPTED <request id>`` (the test kills it there: the window a kill can hit by bad luck).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import falstudio.client._settlement as client_core
from falstudio.client import Client

ENDPOINT = "fal-ai/gpt-image-1-mini"
REQUEST = {"prompt": "a lighthouse in the kill window", "quality": "low"}


async def _stall(recorder: Any, *, request_id: str, **details: Any) -> None:
    print(f"ACCEPTED {request_id}", flush=True)
    await asyncio.sleep(3600)


def main(mode: str) -> None:
    if mode == "stall":
        client_core.record_submitted = _stall  # type: ignore[assignment]
    client = Client(base_url=os.environ["FALSTUDIO_TEST_URL"], key=os.environ["FALSTUDIO_TEST_KEY"])
    print("READY", flush=True)
    client.submit(ENDPOINT, REQUEST)
    print("RECORDED", flush=True)
    sys.stdin.read()  # wait to be killed


if __name__ == "__main__":
    main(sys.argv[1])
