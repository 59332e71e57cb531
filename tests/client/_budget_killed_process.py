"""Run as a script: ``submit <history folder>`` submits one $0.01 request to ``FALSTUDIO_TEST_URL`` under a
budget shared through the folder, prints ``SUBMITTED <request id>`` once its history record has the id, and waits to
be killed (SIGKILL: the request's reservation is left in the folder's spend journal). ``used <history folder>``
prints what the folder's budget counts, as a new kernel sees it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from falstudio.client import Client
from falstudio.history import HistoryStore

T2I = "fal-ai/gpt-image-1-mini"  # low 1024x1024: $0.01
REQUEST = {"prompt": "a lighthouse, then the kill", "quality": "low", "image_size": "1024x1024"}


def main(verb: str, folder: Path) -> None:
    url, key = os.environ["FALSTUDIO_TEST_URL"], os.environ["FALSTUDIO_TEST_KEY"]
    with Client(base_url=url, key=key, budget="0.015", budget_since="today", history=HistoryStore(folder)) as client:
        assert client.budget is not None
        if verb == "used":
            print(client.budget.used(), flush=True)
            return
        handle = client.submit(T2I, REQUEST)
        print(f"SUBMITTED {handle.request_id}", flush=True)
        sys.stdin.read()  # wait to be killed


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
