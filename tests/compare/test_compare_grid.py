"""The compare grid's model: one widget whatever the tiles, a compact state per tile, each picture sent once as a
buffer, changes as small messages, the browser's favourite and enlarge answered, the reader view republished
once a run's pictures are in; sizes read WxH and a default says what each endpoint really runs."""

from __future__ import annotations

import json
import time
from typing import Any

from falstudio.client import Client
from falstudio.sweep import sweep
from falstudio.widgets import Compare

MINI = "fal-ai/gpt-image-1-mini"
GPT2 = "openai/gpt-image-2"


def _capture(widget: Any) -> list[tuple[dict[str, Any], list[bytes]]]:
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))
    return sent


def test_a_run_sends_each_picture_once_and_republishes_the_reader_view_once(client: Client) -> None:
    c = Compare(
        sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "medium"], background=["auto", "opaque"]),
        client=client,
    )
    sent = _capture(c.grid)
    published: list[float] = []
    c._reader_changed = lambda: published.append(time.monotonic())  # type: ignore[method-assign]
    try:
        c.run()
        c.wait(120)
        pictures = [m for m, _b in sent if m["event"] == "pictures"]
        finals = [item["i"] for m in pictures for item in m["items"]]
        assert sorted(finals) == [0, 1, 2, 3]  # each tile's thumbnail once (no partial images: not streamed)
        assert all(len(b) == len(m["items"]) and b[0][:2] == b"\xff\xd8" for m, b in sent if m["event"] == "pictures")
        assert any(m["event"] == "tiles" for m, _b in sent)  # changes went as small messages
        assert len(published) == 1  # the reader view: once, when every picture was in
        assert [t["s"] for t in c.grid.tiles] == ["done"] * 4 and all(t["pic"] == 2 for t in c.grid.tiles)
        assert all(len(json.dumps(t)) < 2048 for t in c.grid.tiles)
        assert c.grid.y_axis == "quality" and c.grid.x_axis == "background"

        sent.clear()
        c.grid._message(c.grid, {"event": "hello"}, [])  # a new view: every picture in one message
        [(hello, buffers)] = sent
        assert hello["event"] == "pictures" and len(hello["items"]) == len(buffers) == 4
        c.grid._message(c.grid, {"event": "favourite", "i": 2, "on": True}, [])
        assert c.favourites == {2} and c.grid.tiles[2]["fav"] and c.results[2]["favourite"]
        assert len(published) == 2
        c.grid._message(c.grid, {"event": "enlarge", "i": 3}, [])
        assert "fs-overlay-open" in c.viewer._dom_classes
        assert c.viewer.next_button.disabled and not c.viewer.previous_button.disabled  # #3 is the last
        c.viewer.previous_button.click()
        assert "#2" in c.viewer.header.value
    finally:
        c.close()


def test_a_new_view_is_answered_even_before_any_picture_exists() -> None:
    """A view waits for the kernel's answer to its hello; one left unanswered steps aside for the reader view
    (compare_grid.js), so a grid with no picture yet answers too, with none."""
    c = Compare(sweep({"prompt": "a fox"}, endpoint=MINI, quality=["low", "medium"]))
    sent = _capture(c.grid)
    try:
        c.grid._message(c.grid, {"event": "hello"}, [])
        assert sent == [({"event": "pictures", "items": []}, [])]
    finally:
        c.close()


def test_large_grids_start_compact_with_the_third_axis_as_pages() -> None:
    prompts = [f"a fox {k}" for k in range(5)]
    c = Compare(
        sweep({"prompt": "x"}, endpoint=MINI, prompt=prompts, quality=["low", "high"], background=["auto", "opaque"])
    )
    try:
        grid = c.grid
        assert len(grid.tiles) == 20 and grid.compact  # more than 16 tiles
        assert (grid.y_axis, grid.x_axis) == ("prompt", "quality")  # background: the pages
        assert [a["name"] for a in grid.axes] == ["prompt", "quality", "background"]
        assert grid.tiles[7]["v"] == ["a fox 1", "high", "opaque"]
    finally:
        c.close()


def test_sizes_read_wxh_and_a_default_says_what_each_endpoint_runs() -> None:
    sizes = [{"width": 1536, "height": 1024}, {"width": 1024, "height": 1024}]
    c = Compare(sweep({"prompt": "a fox"}, endpoint=[GPT2, MINI], image_size=sizes))
    try:
        assert c.grid.axes == [
            {"name": "endpoint", "values": [GPT2, MINI]},
            {"name": "image_size", "values": ["1536x1024", "1024x1024"]},
        ]
        assert "Differs:</span> image_size: 1024x1024" in c._tiles[1].html()
        note = c.picker._notes["quality"].value
        assert f"high on {GPT2}" in note and f"auto on {MINI}" in note  # GPT Image 2 runs high, not "auto"
    finally:
        c.close()
