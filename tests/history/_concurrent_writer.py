"""Run as a script: write 50 run records (submitted, then finished with images) into the history folder.

``python _concurrent_writer.py TAG GO_FILE``: waits for GO_FILE to exist so that writers start together.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PIL import Image

from falstudio._internal.images import image_bytes
from falstudio.client.recorder import Finished, Submitted
from falstudio.history import HistoryStore

COUNT = 50
SHARED = image_bytes(Image.new("RGB", (16, 16), (0, 128, 255)), "png")  # every writer stores this one too


def main(tag: str, go: Path) -> None:
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    store = HistoryStore()
    for i in range(COUNT):
        rid = f"{tag}-{i:03d}"
        own = image_bytes(Image.new("RGB", (16, 16), (i, len(tag), 7)), "png")
        store.submitted(
            Submitted(
                "fal-ai/gpt-image-1-mini", rid, {"prompt": f"{tag} {i}"}, "http://127.0.0.1:9", "local", time.time()
            )
        )
        store.finished(Finished("fal-ai/gpt-image-1-mini", rid, "completed", time.time(), images=[own, SHARED]))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]))
