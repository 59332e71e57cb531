"""A stream's result is read the way fal's own clients read it, whatever shape its events take: the local server
speaks each dialect seen in the wild, falstudio's tracked runs and fal_client.stream() read every one, and a stream
that ends without a result keeps its last events (and their images) with the history record."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from falstudio.client import Client, recorder
from falstudio.client._streaming import StreamReader
from falstudio.history import HistoryStore
from falstudio.local import LocalServer
from falstudio.local._backend import STREAM_DIALECTS

GPT2 = "openai/gpt-image-2"
REQUEST = {"prompt": "a lighthouse at dusk", "quality": "low", "image_size": "1024x768"}


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(port=0, latency=0.05, concurrency=2) as srv:
        yield srv


@pytest.fixture
def dialect_of(server: LocalServer) -> Iterator[Any]:
    settings = server.app.state.settings

    def use(dialect: str) -> None:
        settings.stream_dialect = dialect

    yield use
    settings.stream_dialect = "fal"


@pytest.mark.parametrize("dialect", STREAM_DIALECTS)
@pytest.mark.parametrize("count", [1, 2])
def test_a_tracked_stream_reads_the_result_in_every_dialect(
    server: LocalServer, dialect_of: Any, dialect: str, count: int, tmp_path: Path
) -> None:
    dialect_of(dialect)
    with Client(base_url=server.url, key=server.key, history=HistoryStore(tmp_path)) as client:
        state = client.track(GPT2, {**REQUEST, "num_images": count}, stream=True).wait(60)
    assert state.phase == "done", state.error
    assert state.partials >= 1 and state.result is not None
    expected = 1 if dialect == "image" else count  # the "image" dialect is a one-image output by its nature
    assert len(state.result.images) == expected
    for image in state.result.images:
        assert PILImage.open(io.BytesIO(image.bytes())).size == (1024, 768)


@pytest.mark.parametrize("dialect", STREAM_DIALECTS)
def test_fal_client_stream_reads_every_dialect(
    server: LocalServer, dialect_of: Any, dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fal_client = pytest.importorskip("fal_client")
    fal_module = pytest.importorskip("fal_client.client")
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", server.url + "/run/")
    dialect_of(dialect)
    client = fal_client.SyncClient(key=server.key)
    events: list[Any] = []
    try:
        for event in client.stream(GPT2, arguments=REQUEST):
            events.append(event)
    except json.JSONDecodeError:  # fal_client parses every data line: the closing "[DONE]" is not JSON
        assert dialect == "completed"
    finally:
        client._client.close()
    reader = StreamReader(GPT2, "")
    for event in events:
        reader.read(event)
    assert reader.output is not None and len(reader.output["images"]) == 1
    assert len(events) >= 2  # partial image(s), then the result


def test_openai_events_passed_through_are_read() -> None:
    """OpenAI's own ``image_generation.*`` events (a partial, then the completed image), pings aside."""
    png = io.BytesIO()
    PILImage.new("RGB", (8, 8), (200, 10, 10)).save(png, "PNG")
    import base64

    data = base64.b64encode(png.getvalue()).decode()
    reader = StreamReader(GPT2, "r-1")
    partial = reader.read({"type": "image_generation.partial_image", "b64_json": data, "partial_image_index": 0})
    assert len(partial.partials) == 1 and reader.output is None
    reader.read({"type": "image_generation.completed", "b64_json": data, "output_format": "png", "usage": {"x": 1}})
    assert reader.output is not None and reader.output["usage"] == {"x": 1}
    assert reader.output["images"][0]["url"].startswith("data:image/png;base64,")


def test_a_stream_without_a_result_keeps_its_last_events_and_images_with_the_record(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that sends partial images and then closes, never a final output: nothing it sent is lost."""
    from falstudio.local import _stream_routes

    monkeypatch.setattr(_stream_routes, "_output", lambda *args: [{"type": "response.done", "status": "ok"}])
    store = HistoryStore(tmp_path)
    with Client(base_url=server.url, key=server.key, history=store) as client:
        state = client.track(GPT2, REQUEST, stream=True).wait(60)
    assert state.phase == "failed" and state.error is not None
    message = str(state.error)
    assert "without a result" in message and "kept with its run history record" in message
    assert state.request_id and state.request_id in message
    recorder.flush()
    record = store.find(GPT2, state.request_id)
    assert record is not None and record.state == "failed"
    assert record.output_extra["stream_events"][-1] == {"type": "response.done", "status": "ok"}
    assert len(record.images) >= 1  # the partial images, decoded and stored
