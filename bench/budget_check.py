"""A budgeted submit with 20,000 run records in the history folder, against an unbudgeted one, side by side.

Prints, for a client with ``budget=..., budget_since="today"`` on a folder of ``--records`` records made today:
- the budget's check and reservation alone (``Ledger.reserve``: reads what the folder's spend journal gained
  since the last look, under the folder's lock), median over ``--submits``;
- a whole submit to a local server, budgeted and not (the difference is what the budget costs);
- for comparison, reading the spend from the records themselves (what every budgeted submit did before the
  journal: 0.5–0.85 s at 20,000 records).

Goal (issue 23): a budgeted submit's budget work at most 50 ms with 20,000 records.

    .venv/bin/python bench/budget_check.py [--records 20000] [--submits 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from _server import server_process  # bench/ is on sys.path when a bench runs

from falstudio.client import Client
from falstudio.endpoints import get
from falstudio.history import HistoryStore, history

ENDPOINT = "fal-ai/gpt-image-1-mini"
ARGUMENTS = {"prompt": "a red square", "quality": "low", "image_size": "1024x1024"}


def fill(root: Path, count: int) -> None:
    """``count`` done $0.01 records made in the last hour, written as the history writes them."""
    records = root / "records"
    records.mkdir(parents=True)
    now = time.time()
    for i in range(count):
        when = now - 3600 + i * (3000 / count)
        request_id = uuid.uuid4().hex
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(when)) + f".{int(when % 1 * 1e6):06d}Z"
        record = {
            "endpoint": ENDPOINT,
            "request_id": request_id,
            "state": "done",
            "mode": "local",
            "base_url": "http://127.0.0.1:1",
            "request": ARGUMENTS,
            "submitted_at": when,
            "finished_at": when + 1,
            "cost_estimate": "$0.01",
            "cost_amount": "0.01",
        }
        (records / f"{stamp}-{request_id}.json").write_text(json.dumps(record))


def milliseconds(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--submits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, server_process("--latency", "0") as (url, key):
        root = Path(folder)
        fill(root, args.records)
        store = HistoryStore(root)
        limit = str(args.records + 1000)
        budgeted = Client(base_url=url, key=key, history=store, budget=limit, budget_since="today")
        plain = Client(base_url=url, key=key, history=store)
        cost = get(ENDPOINT).estimate_cost(ARGUMENTS)
        ledger = budgeted._async._ledger  # noqa: SLF001 (the budget work alone, without the HTTP round trip)
        try:
            started = time.perf_counter()
            budgeted.submit(ENDPOINT, ARGUMENTS)  # a folder from before the journal: seeded once
            first = time.perf_counter() - started
            reserve: list[float] = []
            for _ in range(args.submits):
                started = time.perf_counter()
                ticket = budgeted._runner.run(ledger.reserve(ENDPOINT, cost))  # noqa: SLF001
                reserve.append(time.perf_counter() - started)
                ticket.settle("failed")
            walls: dict[str, list[float]] = {"budgeted": [], "plain": []}
            for _ in range(args.submits):
                for name, client in (("budgeted", budgeted), ("plain", plain)):
                    started = time.perf_counter()
                    client.submit(ENDPOINT, ARGUMENTS)
                    walls[name].append(time.perf_counter() - started)
            started = time.perf_counter()
            history(path=root, since="today").spent()
            scan = time.perf_counter() - started
        finally:
            budgeted.close()
            plain.close()
    print(f"\n{args.records} records made today in the history folder, {args.submits} submits each\n")
    print(f"{'budget check and reservation (journal)':46}{milliseconds(reserve)}")
    print(f"{'whole submit, budgeted':46}{milliseconds(walls['budgeted'])}")
    print(f"{'whole submit, no budget':46}{milliseconds(walls['plain'])}")
    print(f"{'first submit, folder without a journal yet':46}{first * 1000:8.1f} ms  (seeds it from the records, once)")
    print(f"{'reading the spend from the records':46}{scan * 1000:8.1f} ms  (what each check did before)")
    budget_work = statistics.median(reserve)
    print(f"\ngoal: budget work <= 50 ms: {budget_work * 1000:.1f} ms ({'met' if budget_work <= 0.05 else 'NOT met'})")


if __name__ == "__main__":
    main()
