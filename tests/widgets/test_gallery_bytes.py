"""What a 3x3 gallery sends to the browser, measured on a recording comm: thumbnails, never full images."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import comm
import pytest

from falstudio.client import Client, Result
from falstudio.local import LocalServer
from falstudio.widgets.gallery import Gallery

PROMPTS = ["a lighthouse on a cliff at sunset", "a red barn in a snowy field", "a sailboat on a calm lake"]


class Wire:
    """Every comm message ipywidgets would send: JSON bytes plus binary buffers."""

    def __init__(self) -> None:
        self.messages: list[int] = []

    def record(self, data: Any, buffers: Any) -> None:
        size = len(json.dumps(data, separators=(",", ":")).encode())
        self.messages.append(size + sum(memoryview(b).nbytes for b in buffers or ()))

    @property
    def total(self) -> int:
        return sum(self.messages)


class RecordingComm:
    kernel = "recording"  # ipywidgets sends only when the comm has a kernel

    def __init__(self, wire: Wire, data: Any = None, buffers: Any = None, **_: Any) -> None:
        self.comm_id = uuid.uuid4().hex
        self.wire = wire
        wire.record(data, buffers)

    def send(self, data: Any = None, metadata: Any = None, buffers: Any = None) -> None:
        self.wire.record(data, buffers)

    def on_msg(self, callback: Any) -> None:
        pass

    def close(self, *args: Any, **kwargs: Any) -> None:
        pass


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Iterator[Wire]:
    recorded = Wire()
    monkeypatch.setattr(comm, "create_comm", lambda **kwargs: RecordingComm(recorded, **kwargs))
    yield recorded


@pytest.fixture(scope="module")
def nine_images(server: LocalServer) -> list[Result]:
    """Three requests of three 1024² PNGs from the local engine, drawn at full detail."""
    with Client(base_url=server.url, key=server.key, history=False) as client:
        return [
            client.subscribe(
                "fal-ai/gpt-image-1-mini", {"prompt": p, "quality": "high", "image_size": "1024x1024", "num_images": 3}
            )
            for p in PROMPTS
        ]


def test_a_3x3_gallery_sends_under_5_percent_of_the_full_images(wire: Wire, nine_images: list[Result]) -> None:
    full = [image.bytes() for result in nine_images for image in result.images]
    assert len(full) == 9 and all(data.startswith(b"\x89PNG") for data in full)
    assert all((image.width, image.height) == (1024, 1024) for r in nine_images for image in r.images)

    gallery = Gallery(columns=3)
    for result in nine_images:
        gallery.add_result(result)
    assert len(gallery) == 9

    ratio = wire.total / sum(map(len, full))
    print(f"\n3x3 gallery: {wire.total} bytes sent for {sum(map(len, full))} bytes of full images ({ratio:.1%})")
    assert ratio < 0.05

    before = wire.total
    tile = gallery.add(full[0], alt="one more")
    added = wire.total - before
    assert added < len(tile.thumbnail) + 4096  # one tile and a list of references, not the other nine again
