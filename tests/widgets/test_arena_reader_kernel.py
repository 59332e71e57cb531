"""notebooks/05-arena.ipynb run by a real kernel (nbclient) saves the Arena's reader view at its final state: the
ranking table with the votes cast after it was displayed, and the separation summary."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.kernel

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "05-arena.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def test_the_saved_arena_shows_its_ranking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(tmp_path / "history"))  # the kernel inherits it
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        nb, kernel_name="python3", timeout=240, startup_timeout=120, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    [cell] = [c for c in nb.cells if c.cell_type == "code" and "fs.Arena(" in c.source]
    outputs = cell["outputs"]
    live = [i for i, o in enumerate(outputs) if WIDGET_VIEW in o.get("data", {})]
    assert live, "the arena was displayed as a widget"
    reader = "".join(outputs[live[0] + 1]["data"]["text/html"])
    assert "fs-reader" in reader and "Strength (95 % interval)" in reader
    assert re.search(r"quality=high leads", reader)  # after the 60 votes, not the empty table it was displayed with
    assert reader.count("<tr>") == 4  # the header and three variations
    assert "<img" not in reader  # the pair's pictures are not part of it
    assert (tmp_path / "history" / "votes.jsonl").read_text().count("\n") == 60
