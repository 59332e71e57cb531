"""Images that say how they were made: PNG, JPEG and WebP round trips through ``Image.save`` and
``fs.read_metadata``, the offline engine's own metadata kept, pixels never re-encoded, and the Studio refilled
from a file (by path or through its upload control)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image as PILImage

import falstudio as fs
from falstudio import metadata as md
from falstudio.client import Client, Result
from falstudio.local import LocalServer
from falstudio.widgets.studio import Studio

T2I = "fal-ai/gpt-image-1-mini"
EXT = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}


@pytest.fixture
def client(server: LocalServer) -> Iterator[Client]:
    with Client(base_url=server.url, key=server.key) as c:
        yield c


def make(client: Client, output_format: str, **fields: object) -> Result:
    request = {"prompt": "a lighthouse at dusk, oil painting", "quality": "medium", "output_format": output_format}
    return client.subscribe(T2I, {**request, **fields})


def pixels(path_or_bytes: Path | bytes) -> bytes:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else path_or_bytes.read_bytes()
    with PILImage.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes()


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_metadata_round_trips_without_touching_the_pixels(client: Client, tmp_path: Path, output_format: str) -> None:
    result = make(client, output_format)
    image = result.images[0]
    path = image.save(tmp_path / f"out{EXT[output_format]}")
    info = fs.read_metadata(path)
    assert info is not None and info == image.metadata()
    assert (info.kind, info.endpoint, info.request_id, info.mode) == ("image", T2I, result.request_id, "local")
    assert info.request == {
        "prompt": "a lighthouse at dusk, oil painting",
        "quality": "medium",
        "output_format": output_format,
    }
    assert info.model == "gpt-image-1-mini" and info.falstudio == fs.__version__
    assert info.created is not None and info.created.startswith(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))
    assert (info.index, info.count, info.cost_estimate) == (0, 1, str(result.cost))
    assert pixels(path) == pixels(image.bytes())  # written into the container, never re-encoded
    assert len(path.read_bytes()) - len(image.bytes()) < 8_000  # only the metadata was added
    again = image.save(tmp_path / f"again{EXT[output_format]}")
    assert fs.read_metadata(image.save(again)) == info and again.stat().st_size == path.stat().st_size  # replaced


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_the_offline_engines_own_metadata_is_kept_and_parameters_are_readable(
    client: Client, tmp_path: Path, output_format: str
) -> None:
    result = make(client, output_format)
    path = result.images[0].save(tmp_path / f"out{EXT[output_format]}")
    with PILImage.open(path) as image:
        if output_format == "png":
            text = image.text  # type: ignore[attr-defined]
            assert text["Software"].startswith("falstudio offline engine") and "offline preview" in text["Description"]
            parameters = text["parameters"]
        else:
            exif = image.getexif()
            assert exif[0x0131].startswith("falstudio offline engine") and "offline preview" in exif[0x010E]
            comment = exif.get_ifd(0x8769)[0x9286]
            assert comment.startswith(b"UNICODE\x00")  # EXIF UserComment, where AUTOMATIC1111 keeps it
            parameters = comment[8:].decode("utf-16-be")
            assert b"falstudio:metadata" in image.info["xmp"]
    first, line = parameters.split("\n")
    assert first == "a lighthouse at dusk, oil painting"
    assert f"Endpoint: {T2I}" in line and "Quality: medium" in line and f"Request id: {result.request_id}" in line
    assert "Server: falstudio offline preview" in line and f"falstudio: {fs.__version__}" in line


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".png"])
def test_a_converted_save_carries_the_metadata_too(client: Client, tmp_path: Path, suffix: str) -> None:
    result = make(client, "webp" if suffix == ".png" else "png")
    info = fs.read_metadata(result.images[0].save(tmp_path / f"converted{suffix}"))
    assert info is not None and info.request_id == result.request_id


def test_a_prompt_too_long_for_one_jpeg_segment_is_cut_there_only(client: Client, tmp_path: Path) -> None:
    prompt = "un phare à l'aube " * 1700  # 30,600 bytes of UTF-8, twice (JSON and text): over a JPEG APP1 segment
    result = make(client, "jpeg", prompt=prompt)
    jpeg = fs.read_metadata(result.images[0].save(tmp_path / "long.jpg"))
    png = fs.read_metadata(result.images[0].save(tmp_path / "long.png"))
    assert jpeg is not None and png is not None and png.request["prompt"] == prompt  # PNG chunks have no such limit
    assert jpeg.request["prompt"].endswith("(cut: the full prompt did not fit in a JPEG)")
    assert jpeg.request_id == png.request_id == result.request_id


def test_files_without_metadata_and_files_that_are_not_images(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    PILImage.new("RGB", (8, 8), "red").save(plain)
    assert fs.read_metadata(plain) is None
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt: not a PNG, JPEG or WebP file"):
        fs.read_metadata(text)
    broken = tmp_path / "broken.png"
    broken.write_bytes(plain.read_bytes()[:40])
    with pytest.raises(ValueError, match=r"broken\.png"):
        fs.read_metadata(broken)


def test_a_cut_text_chunk_is_skipped_not_a_bare_index_error(tmp_path: Path) -> None:
    import struct
    import zlib

    buffer = io.BytesIO()
    PILImage.new("RGB", (8, 8), "red").save(buffer, "PNG")
    data = buffer.getvalue()
    end = data.rindex(b"IEND") - 4
    body = b"iTXt" + b"falstudio"  # a keyword and nothing after it
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[:end] + chunk + data[end:])
    assert fs.read_metadata(cut) is None


def test_a_file_whose_structure_is_broken_is_saved_as_it_is() -> None:
    broken = b"\xff\xd8\xff\xe1" + (1000).to_bytes(2, "big") + b"Exif\x00\x00 only a few bytes"  # a cut APP1
    info = md.build(endpoint=T2I, request={"prompt": "p"})
    with pytest.warns(RuntimeWarning, match="saved without its metadata: truncated JPEG segment"):
        assert md.embed(broken, info) == broken  # the image is never lost for its metadata


def test_input_images_are_summarised_not_copied_and_can_be_left_out_on_load() -> None:
    data_uri = "data:image/png;base64," + "A" * 40_000
    info = md.build(endpoint="fal-ai/gpt-image-1-mini/edit", request={"prompt": "p", "image_urls": [data_uri]})
    assert info.request["image_urls"][0].startswith(md.OMITTED + "image/png input, 29 KB")
    assert info.loadable_request() == {"prompt": "p"}


def test_the_studio_refills_its_form_from_a_saved_image(server: LocalServer, client: Client, tmp_path: Path) -> None:
    result = make(client, "png", quality="high", image_size="1536x1024")
    path = result.images[0].save(tmp_path / "made.png")
    studio = Studio(Client(base_url=server.url, key=server.key), endpoint="fal-ai/gpt-image-1.5", history=False)
    try:
        studio.load(path)
        assert studio.endpoint == T2I
        value = studio.form.value
        assert (value.prompt, value.quality, value.image_size) == (
            "a lighthouse at dusk, oil painting",
            "high",
            "1536x1024",
        )
        studio.endpoint = "fal-ai/gpt-image-1.5"
        # what dropping the file on "Load from image" sends: its name and bytes, in one message
        studio.upload._handle_custom_msg({"event": "files", "names": ["made.png"]}, [memoryview(path.read_bytes())])
        assert studio.endpoint == T2I and studio.form.value.quality == "high"
        assert "Loaded the request of made.png" in studio.form.summary.value
        plain = tmp_path / "plain.png"
        PILImage.new("RGB", (8, 8)).save(plain)
        with pytest.raises(ValueError, match="has no falstudio metadata"):
            studio.load(plain)
        studio.upload._handle_custom_msg({"event": "files", "names": ["plain.png"]}, [plain.read_bytes()])
        assert "could not load plain.png" in studio.form.summary.value
    finally:
        studio.close()
