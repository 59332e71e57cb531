"""``Compare.export_png`` (one labelled grid picture) and ``Compare.export_folder`` (full images + manifests),
against a real local server: the picture's size comes from its layout, every header and caption is drawn where
the layout says (pixel checks: OCR is not available), favourites are framed, and files carry their metadata."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image, ImageFont

import falstudio as fs
from falstudio.client import Client
from falstudio.widgets.compare import Compare, _grid_png
from falstudio.widgets.compare._files import grid_picture

T2I = "fal-ai/gpt-image-1-mini"
PROMPT = "a cabin in a snowy forest at night"


@pytest.fixture
def compare(client: Client) -> Compare:
    variations = fs.sweep(
        {"prompt": PROMPT}, endpoint=T2I, quality=["low", "medium", "high"], image_size=["1024x1024", "1536x1024"]
    )
    widget = Compare(variations, client=client)
    widget.run(confirm=True)
    widget.wait(120)
    widget.set_favourite(0)
    widget.set_favourite(5)
    yield widget
    widget.close()


def dark_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(1 for value in image.crop(box).convert("L").tobytes() if value < 140)


def test_the_grid_picture_has_its_layouts_size_and_legible_labels(compare: Compare, tmp_path: Path) -> None:
    path = compare.export_png(tmp_path / "grid", tile_px=256)
    assert path.suffix == ".png"
    image = Image.open(path)
    picture = grid_picture(
        compare.sweep, compare.jobs, favourites=compare.favourites, mode="local", title="t", tile_px=256
    )
    assert image.size == picture.size
    pad, gap = _grid_png.PAD, _grid_png.GAP
    row_head = max(r[2] for r in (lab.box for lab in picture.labels if lab.role == "row")) - pad
    width = pad + (row_head + gap) + 2 * (256 + gap) - gap + pad
    assert abs(image.size[0] - width) <= gap  # two columns of 256 px tiles, the row headers and the margins
    assert picture.texts("column") == ["image_size: 1024x1024", "image_size: 1536x1024"]
    assert picture.texts("row") == ["quality: low", "quality: medium", "quality: high"]
    captions = " ".join(picture.texts("caption"))
    for job in compare.jobs:
        assert job.request_id and job.request_id in captions  # whole, not cut
    assert "#0  favourite · done · $0.01" in captions and "#4 · done · $0.04" in captions
    assert "quality x image_size" in " ".join(picture.texts("summary"))  # "×" is drawn as "x" by the bundled font
    drawn = Image.open(path).convert("RGB")
    for label in picture.labels:  # every label's box holds ink
        assert dark_pixels(drawn, label.box) > 10 or label.role in ("caption", "summary", "footer"), label
        if label.role in ("column", "row", "title"):
            assert label.font_px >= 16
    for label in (lab for lab in picture.labels if lab.role == "caption"):
        assert label.font_px >= 12 and dark_pixels(drawn, label.box) + _muted_pixels(drawn, label.box) > 10
    left, top, _, _ = picture.tiles[0]
    assert drawn.getpixel((left - 2, top + 20)) == (0xBF, 0x87, 0x00)  # the favourite's gold frame
    left, top, _, _ = picture.tiles[2]
    assert drawn.getpixel((left - 2, top + 20)) != (0xBF, 0x87, 0x00)
    assert len(picture.tiles) == 6 and all(b[2] - b[0] <= 256 and b[3] - b[1] <= 256 for b in picture.tiles.values())


def _muted_pixels(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    return sum(1 for value in image.crop(box).convert("L").tobytes() if value < 200)


def test_the_grid_picture_says_how_it_was_made(compare: Compare, tmp_path: Path) -> None:
    info = fs.read_metadata(compare.export_png(tmp_path / "grid.png"))
    assert info is not None and info.kind == "grid" and info.request == {"prompt": PROMPT}
    assert info.axes == {"quality": ["low", "medium", "high"], "image_size": ["1024x1024", "1536x1024"]}
    assert [v["request_id"] for v in info.variations] == [j.request_id for j in compare.jobs]
    assert [v["favourite"] for v in info.variations] == [True, False, False, False, False, True]
    with pytest.raises(ValueError, match="writes PNG files"):
        compare.export_png(tmp_path / "grid.jpg")


def test_the_bundled_font_is_scalable_and_unsupported_characters_are_replaced() -> None:
    font = _grid_png.font(16)
    assert isinstance(font, ImageFont.FreeTypeFont) and font.size == 16  # Pillow >= 10.1 with FreeType
    assert _grid_png.drawable("quality × size ≤ $0.04", font) == "quality x size <= $0.04"


def test_the_folder_export_holds_full_images_with_metadata_and_manifests(compare: Compare, tmp_path: Path) -> None:
    folder = compare.export_folder(tmp_path / "export")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "compare" and manifest["falstudio"] == fs.__version__
    items = manifest["items"]
    assert [i["index"] for i in items] == list(range(6)) and [i["favourite"] for i in items][::5] == [True, True]
    for item, job in zip(items, compare.jobs, strict=True):
        assert item["request_id"] == job.request_id and item["quality"] == job.variation.params["quality"]
        assert item["request"] == job.variation.request.redacted()
        (name,) = item["files"]
        data = (folder / name).read_bytes()
        assert Image.open(folder / name).size == (job.result.images[0].width, job.result.images[0].height)  # full
        info = fs.read_metadata(data)
        assert info is not None and info.request_id == job.request_id and info.endpoint == T2I
    with open(folder / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6 and rows[0]["quality"] == "low" and rows[0]["prompt"] == PROMPT
    assert rows[5]["favourite"] == "True" and rows[5]["files"] == items[5]["files"][0]
