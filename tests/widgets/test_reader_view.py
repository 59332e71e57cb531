"""The reader view without a kernel: its markup, and the byte budget of a 3x3 Compare's in the worst case (pictures
of pure noise, which compress worse than any photo)."""

from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image

import falstudio as fs
from falstudio.client import Client
from falstudio.local import LocalServer
from falstudio.widgets.compare import Compare

COMPARE_3X3_BUDGET = 150_000  # bytes a 3x3 Compare's reader view may add to a saved .ipynb


def _noise_jpeg(px: int, seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 256, (px, px, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def test_a_3x3_compare_reader_view_stays_in_its_budget(server: LocalServer) -> None:
    with Client(base_url=server.url, key=server.key) as client:
        compare = Compare(
            fs.sweep(
                {"prompt": "a fox in the snow"},
                endpoint="fal-ai/gpt-image-1-mini",
                quality=["low", "medium", "high"],
                image_size=["1024x1024", "1536x1024", "1024x1536"],
            ),
            client=client,
            confirm_above=None,
        )
        compare.run()
        compare.wait(120)
        for tile in compare._tiles:  # the worst case: 256 px thumbnails of noise
            tile.thumbnail = (_noise_jpeg(256, tile.index), "image/jpeg")
        html = compare._repr_html_()
        compare.close()
    assert len(re.findall(r'<img src="data:image/jpeg;base64,', html)) == 9
    assert "9 done" in html
    assert len(html.encode()) <= COMPARE_3X3_BUDGET, len(html.encode())


def test_wait_resends_the_reader_view_from_the_waiting_cell(server: LocalServer, monkeypatch) -> None:
    """An update a worker thread sent between cells is dropped by nbclient (its parent is not the cell being
    run): ``wait()`` re-sends the reader view from the cell that waits, even when it did not change since."""
    from falstudio.widgets import _reader_view

    sent: list[tuple[str, bool]] = []

    def publish(data, metadata, *, display_id=None, update=False):  # type: ignore[no-untyped-def]
        sent.append((data["text/html"], update))

    monkeypatch.setattr(_reader_view, "_in_kernel", lambda: True)
    monkeypatch.setattr(_reader_view, "_publish", publish)
    with Client(base_url=server.url, key=server.key, history=False) as client:
        job = fs.widgets.JobView.submit(client, "fal-ai/gpt-image-1-mini", {"prompt": "a windmill", "quality": "low"})
        job._ipython_display_()
        job.wait(60)
        job._reader_updates.idle.wait(10)  # the worker's own update, if any, is out
        before = len(sent)
        job.wait(60)  # nothing changed since: sent again all the same
        assert len(sent) == before + 1 and sent[-1][1] and "done" in sent[-1][0] and "a windmill" in sent[-1][0]
        job.close()
