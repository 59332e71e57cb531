"""Run as a script: ``<base folder> <rounds> <worker>``: one of several processes racing, round after round, for
the room one $0.01 request leaves in a $0.015 budget shared through the history folder ``<base>/<round>``.

Each round it waits for ``<base>/go-<round>``, submits once to ``FALSTUDIO_TEST_URL`` and writes
``<base>/<round>-<worker>.sent`` or ``.refused``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from falstudio.client import Client, errors
from falstudio.history import HistoryStore


def main(base: Path, rounds: int, worker: str) -> None:
    url, key = os.environ["FALSTUDIO_TEST_URL"], os.environ["FALSTUDIO_TEST_KEY"]
    for r in range(rounds):
        (base / f"ready-{r}-{worker}").touch()
        deadline = time.monotonic() + 120
        while not (base / f"go-{r}").exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"round {r}: no go")
            time.sleep(0.005)
        history = HistoryStore(base / str(r))
        with Client(base_url=url, key=key, budget="0.015", budget_since="today", history=history) as client:
            request = {"prompt": f"a red fox {r} {worker}", "quality": "low", "image_size": "1024x1024"}
            try:
                client.submit("fal-ai/gpt-image-1-mini", request)
            except errors.BudgetExceededError:
                outcome = "refused"
            else:
                outcome = "sent"
        (base / f"{r}-{worker}.{outcome}").touch()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
