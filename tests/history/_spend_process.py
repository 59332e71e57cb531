"""Run as a script: ``<count> <tag>`` low-quality requests ($0.01 each) against ``FALSTUDIO_TEST_URL``, recorded in
``FALSTUDIO_HISTORY_DIR`` (another kernel sharing the history folder)."""

from __future__ import annotations

import os
import sys

from falstudio.client import Client


def main(count: int, tag: str) -> None:
    with Client(base_url=os.environ["FALSTUDIO_TEST_URL"], key=os.environ["FALSTUDIO_TEST_KEY"]) as client:
        for i in range(count):
            prompt = f"a red fox {tag} {os.getpid()} {i}"
            client.subscribe("fal-ai/gpt-image-1-mini", {"prompt": prompt, "quality": "low", "image_size": "1024x1024"})


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
