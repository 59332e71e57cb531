"""Running sweeps against the real local server: concurrency, isolated failures, records, grid, export."""

from __future__ import annotations

import html.parser
import threading
from collections.abc import Iterator
from pathlib import Path

import ipywidgets
import pytest

from falstudio.client import Client, Result
from falstudio.local import LocalServer
from falstudio.local.faults import Faults
from falstudio.sweep import Job, SweepRun, sweep
from falstudio.testing import wait_for
from falstudio.widgets import BeforeAfter, Compare

MINI = "fal-ai/gpt-image-1-mini"
SIZES = ["1024x1024", "1536x1024"]
FAIL = "FAILME"
IN_FLIGHT = {"submitting", "queued", "running"}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0, concurrency=4, faults=Faults(fail_prompt=FAIL)) as srv:
        yield srv


def test_plain_run_isolates_the_one_failure(client: Client) -> None:
    prompts = ["a red fox", "a blue bird", f"a cat {FAIL}", "a green tree"]
    s = sweep({"quality": "low"}, endpoint=MINI, prompt=prompts)
    records = s.run(client, concurrency=4, timeout=120)
    assert [r["state"] for r in records] == ["done", "done", "failed", "done"]
    failed = records[2]
    assert failed["error_type"] == "content_policy_violation" and "content policy" in failed["error"]
    assert failed["cost_usd"] == 0.0 and failed["image_urls"] == [] and failed["result"] is None
    assert failed["request_id"]  # it was submitted, and the server answered with its id
    for r in (records[0], records[1], records[3]):
        assert isinstance(r["result"], Result) and r["result"].request_id == r["request_id"]
        assert r["cost_usd"] == 0.01 and r["estimate"] == "≤ $0.01"
        assert r["image_urls"] == [r["result"].images[0].url]
        assert r["inference_seconds"] is not None and r["queue_seconds"] is not None
        assert r["result"].images[0].bytes().startswith(b"\x89PNG")
    assert [r["prompt"] for r in records] == prompts  # the axis is a column of its own
    assert len({r["request_id"] for r in records}) == 4


def test_concurrency_is_bounded_and_every_change_is_reported(client: Client) -> None:
    s = sweep(
        {"prompt": "a red fox", "quality": "low"},
        endpoint=MINI,
        image_size=SIZES,
        background=["auto", "opaque", "transparent"],
    )
    lock = threading.Lock()
    in_flight: list[int] = []
    seen: list[Job] = []

    def changed(job: Job) -> None:
        with lock:
            seen.append(job)
            in_flight.append(sum(j.state in IN_FLIGHT for j in run.jobs))

    run = SweepRun(s, client, concurrency=2, on_change=changed)
    run.start()
    assert run.wait(120)
    assert max(in_flight) <= 2
    assert all(j.state == "done" for j in run.jobs)
    for index in range(len(s)):
        states = [j.state for j in seen if j.variation.index == index]
        assert states[0] == "submitting" and states[-1] == "done" and "queued" in states


def test_cancel_stops_what_has_not_finished(server: LocalServer, client: Client) -> None:
    server.faults.slow_start = 30.0  # every job sits IN_QUEUE for 30 s
    try:
        run = SweepRun(
            sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium", "high"]), client, concurrency=1
        )
        run.start()
        wait_for(lambda: run.jobs[0].state in ("queued", "running"), timeout=60)
        run.cancel()
        assert run.wait(60)
    finally:
        server.faults.slow_start = 0.0
    assert [j.state for j in run.jobs] == ["cancelled"] * 3
    assert run.jobs[0].request_id and run.jobs[1].request_id is None  # the others never started
    assert run.jobs[0].elapsed is not None and run.jobs[1].elapsed is None  # nor took any time (no latency shown)
    never = run.jobs[1].latest
    assert never is not None and never.elapsed == 0.0 and not never.sent


class _Page(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.cells: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))
        if tag == "td" and dict(attrs).get("data-variation") is not None:
            self.cells.append(str(dict(attrs)["data-variation"]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_compare_fills_the_grid_keeps_failures_in_their_tiles_and_exports(client: Client, tmp_path: Path) -> None:
    s = sweep({"quality": "low"}, endpoint=MINI, prompt=["a red fox", f"a red fox {FAIL}"], image_size=SIZES)
    c = Compare(s, client=client, concurrency=4)
    try:
        c.run()
        results = c.wait(120)
        assert [r["state"] for r in results] == ["done", "done", "failed", "failed"]
        tiles = c._tiles
        assert all(t.thumbnail is not None for t in tiles[:2]) and all(t.thumbnail is None for t in tiles[2:])
        assert [t.state()["pic"] != 2 for t in tiles] == [False, False, True, True]  # Enlarge is disabled
        views = [t.html() for t in tiles]
        assert "failed (content_policy_violation)" in views[2] and "Error: content policy violation" in views[2]
        assert "Differs:</span> image_size: 1536x1024" in views[1] and "Differs:</span> baseline" in views[0]
        assert "queue" in views[0] and "inference" in views[0] and 'src="data:image/jpeg' in views[0]
        assert "prompt: a red fox FAILME" in views[2] and "<img" not in views[2]
        assert "2 done, 2 failed" in c.summary.value
        assert not c.run_button.disabled and c.cancel_button.disabled and not c.picker.disabled
        assert repr(c) == ("Compare(4 variations: prompt × image_size; estimated $0.04; 2 done, 2 failed)")

        c.set_favourite(1)
        assert c.results[1]["favourite"] and not c.results[0]["favourite"]
        assert "#1 ★ favourite" in c._tiles[1].html()

        c.grid._message(c.grid, {"event": "enlarge", "i": 1}, [])  # the browser asks: against the baseline
        wait_for(lambda: bool(c.viewer.body.children))
        [view] = c.viewer.body.children
        assert isinstance(view, BeforeAfter) and view.before_label == "#0 baseline" and view.after_label == "#1"
        assert view.before == results[0]["result"].images[0].bytes()
        assert view.after == results[1]["result"].images[0].bytes()
        c.enlarge(0)  # the baseline itself: just the image
        wait_for(lambda: isinstance(c.viewer.body.children[0], ipywidgets.Image))
        with pytest.raises(ValueError, match="no image"):
            c.enlarge(2)
        c.viewer.close_button.click()
        assert c.viewer.body.children == ()
        path = c.export_html(tmp_path / "comparison")
    finally:
        c.close()

    assert path == tmp_path / "comparison.html"
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    assert page.tags.count("figure") == 4 and sorted(page.cells) == ["0", "1", "2", "3"]
    assert "script" not in page.tags and "style" not in page.tags
    text = " ".join(page.text)
    for r in results:
        assert r["request_id"] in text
    pictures = [i for i in page.imgs if str(i.get("src", "")).startswith("data:image/")]
    assert len(pictures) == 2 and all("a red fox" in str(i["alt"]) for i in pictures)
    assert "★ favourite" in text and "Generated by falstudio" in text and "offline" in text
    assert "prompt: a red fox FAILME" in text and "image_size: 1536x1024" in text  # row and column headers
    assert text.count("content_policy_violation") >= 2  # in the parameter table


def test_a_second_run_replaces_the_grid_and_runs_cannot_overlap(client: Client, server: LocalServer) -> None:
    c = Compare(sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium"]), client=client)
    try:
        server.faults.slow_start = 30.0
        c.run()
        with pytest.raises(RuntimeError, match="already running"):
            c.run()
        c.cancel()
        assert [r["state"] for r in c.wait(60)] == ["cancelled", "cancelled"]
        server.faults.slow_start = 0.0
        c.picker.set_checked("quality", ["low"])
        c.run()
        assert [r["state"] for r in c.wait(120)] == ["done"]
        assert len(c._tiles) == 1 and c._tiles[0].thumbnail is not None
    finally:
        server.faults.slow_start = 0.0
        c.close()


def test_enlarging_an_edit_compares_the_output_with_its_input(client: Client) -> None:
    from PIL import Image as PILImage

    from falstudio.client import encode_image

    source = encode_image(PILImage.new("RGB", (256, 256), "steelblue"))
    s = sweep(
        {"prompt": "make it warmer", "image_urls": [source]},
        endpoint="fal-ai/gpt-image-1-mini/edit",
        quality=["low", "medium"],
    )
    c = Compare(s, client=client)
    try:
        c.run()
        assert [r["state"] for r in c.wait(120)] == ["done", "done"]
        c.enlarge(0)
        wait_for(lambda: bool(c.viewer.body.children))
        [view] = c.viewer.body.children
        assert isinstance(view, BeforeAfter) and view.before_label == "input" and view.after_label == "#0"
        assert pixel_size(view.before) == (256, 256) and view.after == c.results[0]["result"].images[0].bytes()
        assert "make it warmer" in view.alt
    finally:
        c.close()


def pixel_size(data: bytes) -> tuple[int, int]:
    from falstudio._internal import images as _images

    return _images.open_image(data).size


def test_running_the_shown_sweep_again_reuses_its_tiles_with_fresh_state(client: Client) -> None:
    s = sweep({"prompt": "a red fox"}, endpoint=MINI, quality=["low", "medium"])
    c = Compare(s, client=client)
    try:
        preview = list(c._tiles)
        c.run()
        first = c.wait(120)
        assert c._tiles == preview and all(t.thumbnail is not None for t in preview)  # the preview's widgets
        c.set_favourite(1)
        c.run()
        assert c.favourites == set() and not preview[1].favourite
        second = c.wait(120)
        assert c._tiles == preview and all(t.thumbnail is not None for t in preview)
        assert {r["request_id"] for r in first}.isdisjoint(r["request_id"] for r in second)
        assert all(r["request_id"][:8] in t.html() for r, t in zip(second, preview, strict=True))
    finally:
        c.close()


def test_a_finished_tile_shows_its_caption_while_its_thumbnail_waits_for_a_decoding_slot(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from falstudio.widgets.compare import _tiles as _compare_tiles

    slots = threading.BoundedSemaphore(1)
    monkeypatch.setattr(_compare_tiles, "_DECODING", slots)
    c = Compare(sweep({"prompt": "a red fox", "quality": "low"}, endpoint=MINI), client=client)
    slots.acquire()  # every slot busy: the thumbnail must wait
    try:
        c.run()
        tile = c._tiles[0]
        wait_for(lambda: "Loading the image…" in tile.html())
        assert tile.thumbnail is None and tile.job.request_id[:8] in tile.html() and "<img" not in tile.html()
        slots.release()
        [record] = c.wait(120)
        assert record["state"] == "done" and 'src="data:image/jpeg' in tile.html()
        assert "Loading the image…" not in tile.html()
    finally:
        c.close()


@pytest.mark.parametrize("breaks", ["fetching the image", "showing the thumbnail"])
def test_a_tile_that_cannot_show_its_image_says_so_and_the_run_still_ends(
    client: Client, monkeypatch: pytest.MonkeyPatch, breaks: str
) -> None:
    from falstudio.client.results import Image

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(f"no {breaks}")

    if breaks == "fetching the image":
        monkeypatch.setattr(Image, "thumbnail", broken)
    else:
        from falstudio.widgets.compare._grid import CompareGrid

        monkeypatch.setattr(CompareGrid, "picture", broken)  # sending the thumbnail to the browser fails
    c = Compare(sweep({"prompt": "a red fox", "quality": "low"}, endpoint=MINI), client=client)
    try:
        c.run()
        [record] = c.wait(60)  # before the fix a tile that failed twice left wait() hanging
        assert record["state"] == "done"
        view = c._tiles[0].html()
        assert f"could not show the image: no {breaks}" in view and c._tiles[0].thumbnail is None
        assert "1 done" in c.summary.value and not c.run_button.disabled
    finally:
        c.close()


def test_tiles_show_the_picture_forming_then_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from falstudio.endpoints import registry

    monkeypatch.setitem(registry.REGISTRY, MINI, dataclasses.replace(registry.REGISTRY[MINI], streaming=True))  # type: ignore[arg-type]
    faults = Faults(hold={"output"})  # the runs end when the test has seen them forming
    with (
        LocalServer(port=0, latency=0, faults=faults) as srv,
        Client(srv.key, base_url=srv.url, history=False) as client,
    ):
        c = Compare(sweep({"prompt": "a red barn"}, endpoint=MINI, quality=["medium", "high"]), client=client)
        try:
            c.run()
            tile = c._tiles[1]
            wait_for(lambda: "forming… (partial image" in tile.html() and "<img" in tile.html())
            assert not c.jobs[1].done and tile.thumbnail is None and tile.forming is not None
            faults.release("output", count=2)
            records = c.wait(60)
            assert [r["state"] for r in records] == ["done", "done"]
            assert tile.thumbnail is not None and "forming" not in tile.html()
            assert 'src="data:image/jpeg' in tile.html()
        finally:
            c.close()


def test_closed_compares_collected_at_exit_let_the_interpreter_exit(tmp_path: Path) -> None:
    """Compares closed but still in memory (widgets hold reference cycles) are collected as the interpreter exits,
    after falstudio's loop has stopped, and ipywidgets closes them again: cancelling their sweeps then must not
    start a new loop thread, which would hang the exit."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import gc

        import falstudio as fs
        from falstudio.client import Client
        from falstudio.local import LocalServer
        from falstudio.widgets import Compare

        gc.disable()  # the cycles stay until the collection at exit
        server = LocalServer(port=0, latency=0.05).start()
        client = Client(base_url=server.url, key=server.key, history=False)
        sweep = fs.sweep({"prompt": "a fox"}, endpoint="fal-ai/gpt-image-1-mini", quality=["low", "medium"])


        def compare(wait: bool) -> None:
            widget = Compare(sweep, client=client, confirm_above=None)
            widget.run()
            if wait:
                widget.wait(60)
            widget.close()


        compare(wait=True)
        compare(wait=False)
        print("EXITING", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=tmp_path, check=False
    )
    assert "EXITING" in done.stdout, done.stderr
    assert done.returncode == 0, done.stderr
