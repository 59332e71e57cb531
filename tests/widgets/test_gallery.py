"""Gallery and ImageTile, headless: thumbnails, alt text, captions, enlarge / save / use, static fallback."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage

from falstudio._internal import images as _images
from falstudio.client.results import Result
from falstudio.endpoints import CostEstimate, GptImage1MiniRequest
from falstudio.widgets._html import grid_html, tile_html
from falstudio.widgets.gallery import Gallery, ImageTile, alt_text, request_params, result_caption


def png(size: tuple[int, int] = (1024, 768), *, alpha: bool = False, color: int = 0) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    image = PILImage.new(mode, size, (200, 40 + color, 90, 0) if alpha else (200, 40 + color, 90))
    image.putpixel((3, 3), (0, 0, 0, 255) if alpha else (0, 0, 0))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def sent(gallery: Gallery, monkeypatch: pytest.MonkeyPatch) -> list[tuple[dict[str, Any], list[bytes]]]:
    messages: list[tuple[dict[str, Any], list[bytes]]] = []
    monkeypatch.setattr(gallery, "send", lambda content, buffers=None: messages.append((content, buffers or [])))
    return messages


def click(gallery: Gallery, event: str, tile: ImageTile) -> None:
    """What the browser sends when a tile's button is pressed."""
    gallery._handle_custom_msg({"event": event, "tile": f"anywidget:{tile.model_id}"}, [])


def result(prompt: str = "a red fox in the snow", n: int = 2) -> Result:
    request = GptImage1MiniRequest(prompt=prompt, quality="low", image_size="1024x1024", num_images=n)
    output = {"images": [{"url": _images.to_data_uri(png(color=i)), "content_type": "image/png"} for i in range(n)]}
    cost = CostEstimate(amount=Decimal("0.01"), is_upper_bound=False, explanation="")
    return Result.build(
        output,
        endpoint="fal-ai/gpt-image-1-mini",
        request_id="req-1",
        request=request,
        queue_seconds=0.25,
        inference_seconds=1.5,
        cost=cost,
    )


def test_tiles_hold_small_thumbnails_newest_first() -> None:
    first, second = png(color=1), png(color=2)
    gallery = Gallery([first])
    gallery.add(second, alt="second")
    assert len(gallery) == 2 and gallery.tiles[0].alt == "second"
    for tile in gallery.tiles:
        thumb = PILImage.open(io.BytesIO(tile.thumbnail))
        assert max(thumb.size) <= 384
        assert tile.mime == "image/jpeg" and thumb.format == "JPEG"
        assert not tile.checker
    refs = gallery.get_state()["tiles"]
    assert refs == [f"anywidget:{t.model_id}" for t in gallery.tiles]  # the gallery sends references
    assert repr(gallery) == "Gallery(images=2, columns=3)"


def test_transparent_image_gets_webp_and_checkerboard() -> None:
    tile = Gallery([png(alpha=True)]).tiles[0]
    assert tile.mime == "image/webp" and tile.checker
    assert "linear-gradient(45deg" in tile.static_html()


def test_limit_drops_oldest_tiles() -> None:
    gallery = Gallery(limit=2)
    tiles = [gallery.add(png(color=i), alt=str(i)) for i in range(3)]
    assert [t.alt for t in gallery.tiles] == ["2", "1"]
    assert tiles[0].comm is None  # closed


def test_add_result_alt_text_and_caption() -> None:
    gallery = Gallery()
    tiles = gallery.add_result(result())
    assert [t.alt for t in tiles] == ["a red fox in the snow (image 1 of 2)", "a red fox in the snow (image 2 of 2)"]
    caption = dict(tiles[0].caption)
    assert caption["Endpoint"] == "fal-ai/gpt-image-1-mini"
    assert "quality=low" in caption["Parameters"] and "image_size=1024x1024" in caption["Parameters"]
    assert "prompt" not in caption["Parameters"] and "background" not in caption["Parameters"]  # a default
    assert caption["Latency"] == "queue 0.25 s + inference 1.50 s"
    assert caption["Estimated cost"] == "$0.01 for the request"


def test_request_params_hide_secrets_and_urls() -> None:
    params = request_params(
        {
            "prompt": "x",
            "openai_api_key": "***",
            "image_urls": ["https://a"],
            "mask_image_url": "data:image/png;base64,AA",
            "quality": "high",
            "num_images": 2,
        }
    )
    assert params == {"quality": "high", "num_images": 2}
    assert result_caption(object()) == [("Endpoint", "unknown")]


def test_a_custom_size_shows_as_sent() -> None:
    from falstudio.endpoints import GptImage2Request

    params = request_params(GptImage2Request(prompt="a fox", image_size="1536x864", quality="low"))
    assert params == {"image_size": '{"width": 1536, "height": 864}', "quality": "low"}
    assert request_params(GptImage2Request(prompt="a fox")) == {"image_size": "landscape_4_3", "quality": "high"}


def test_alt_text_is_bounded_and_never_empty() -> None:
    assert alt_text("") == "generated image"
    assert len(alt_text("word " * 200, 0, 4)) < 230
    assert alt_text("a  cat\n on a mat") == "a cat on a mat"


def test_enlarge_sends_the_full_image_by_message_only(monkeypatch: pytest.MonkeyPatch) -> None:
    full = png((1536, 1024))
    gallery = Gallery([full])
    tile = gallery.tiles[0]
    assert len(tile.get_state()["thumbnail"]) < len(full)  # the state holds only the thumbnail
    messages = sent(gallery, monkeypatch)
    click(gallery, "enlarge", tile)
    content, buffers = messages[0]
    ref = f"anywidget:{tile.model_id}"
    assert content == {"event": "full", "tile": ref, "mime": "image/png", "width": 1536, "height": 1024}
    assert buffers == [full]


def test_enlarge_failure_is_reported_on_the_tile(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        def thumbnail(self, max_px: int = 384) -> tuple[bytes, str]:
            return _images.thumbnail(png(), max_px)

        def bytes(self) -> bytes:
            raise OSError("gone")

    gallery = Gallery([Broken()])
    messages = sent(gallery, monkeypatch)
    click(gallery, "enlarge", gallery.tiles[0])
    assert gallery.status == "Error: gone"
    assert messages[0][0]["error"].endswith("gone")
    gallery._handle_custom_msg({"event": "save", "tile": "anywidget:unknown"}, [])
    assert gallery.status == "Error: that image is no longer in the gallery"


def test_save_writes_the_full_image(tmp_path: Path) -> None:
    full = png()
    gallery = Gallery([full], save_dir=tmp_path)
    click(gallery, "save", gallery.tiles[0])
    saved = list(tmp_path.iterdir())
    assert len(saved) == 1 and saved[0].read_bytes() == full and saved[0].suffix == ".png"
    assert gallery.status == f"Saved to {saved[0]}"


def test_use_as_edit_input_calls_back_with_the_source_image() -> None:
    source = png()
    gallery = Gallery([source])
    assert not gallery.can_use
    used: list[Any] = []
    gallery.on_use(used.append)
    gallery.add(png(color=5))
    assert gallery.can_use
    click(gallery, "use", gallery.tiles[1])
    assert used == [source] and gallery.status == "Added to the edit inputs"
    gallery.on_use(None)
    assert not gallery.can_use


def test_static_fallback_is_inline_html_with_alt_text() -> None:
    gallery = Gallery()
    gallery.add_result(result(prompt='a "quoted" <fox>'))
    bundle, _metadata = gallery._repr_mimebundle_()
    page = bundle["text/html"]
    assert bundle["text/plain"] == "Gallery(images=2, columns=3)"
    assert "<style" not in page and "<script" not in page and " id=" not in page
    assert page.count("<img ") == 2
    assert 'alt="a &quot;quoted&quot; &lt;fox&gt; (image 1 of 2)"' in page
    assert len(page) < 60_000
    assert "No images yet" in Gallery()._static_html()


def test_html_helpers_escape_and_lay_out() -> None:
    tile = tile_html(None, "image/png", "<b>", [("k<", "v>")], title="T&")
    assert "&lt;b&gt;" in tile and "k&lt;" in tile and "v&gt;" in tile and "T&amp;" in tile
    assert 'role="img"' in tile
    grid = grid_html([tile, tile], columns=2)
    assert "repeat(2, max-content)" in grid and grid.count("<figure") == 2
    thumb, mime = _images.thumbnail(png(alpha=True), 64)
    assert re.search(r"<img [^>]*alt=\"a\"", tile_html(thumb, mime, "a"))
    with pytest.raises(ValueError, match="columns"):
        grid_html([], 0)


def test_a_forming_image_keeps_one_tile_that_changes_then_leaves() -> None:
    gallery = Gallery([png(color=1)])
    first = gallery.show_forming("job", png((256, 256), color=50), alt="a fox", caption=[("Forming", "partial 1")])
    assert gallery.tiles[0] is first and len(gallery) == 2
    before = first.thumbnail
    same = gallery.show_forming("job", png((512, 512), color=150), caption=[("Forming", "partial 2")])
    assert same is first and len(gallery) == 2 and first.thumbnail != before
    assert dict(first.caption)["Forming"] == "partial 2" and first.alt == "a fox"
    gallery.end_forming("job")
    assert len(gallery) == 1 and first not in gallery.tiles
    gallery.end_forming("job")  # nothing left: no error


def test_an_output_image_shares_its_one_thumbnail() -> None:
    result = Result.build(
        {"images": [{"url": _images.to_data_uri(png((900, 600)), "image/png")}]}, endpoint="e", request_id="r"
    )
    image = result.images[0]
    gallery = Gallery()
    [tile] = gallery.add_result(result)
    assert image.thumbnail() is image.thumbnail()  # made once, kept
    assert tile.thumbnail == image.thumbnail()[0]
    assert max(PILImage.open(io.BytesIO(image.thumbnail(128)[0])).size) == 128  # smaller ones come from it


def test_a_forming_tile_is_not_a_result_it_cannot_be_saved_and_a_late_partial_is_dropped(tmp_path: Path) -> None:
    gallery = Gallery(save_dir=tmp_path)
    tile = gallery.show_forming("job", png((512, 384), color=80), alt="a fox")
    assert tile is not None and tile.forming
    click(gallery, "save", tile)  # a Save that reached Python anyway writes nothing
    assert list(tmp_path.iterdir()) == [] and "still forming" in gallery.status
    with pytest.raises(ValueError, match="still forming"):
        tile.save(tmp_path)
    gallery.end_forming("job")  # the run was cancelled
    assert gallery.show_forming("job", png(color=90)) is None  # its last partial, decoded late: not shown
    assert len(gallery) == 0


def test_the_lead_tiles_are_the_current_result_and_join_the_others_when_demoted() -> None:
    gallery = Gallery(compact=True)
    old = gallery.add_result(result(prompt="an old fox"))
    assert gallery.lead == 0 and gallery.compact
    forming = gallery.show_forming("job", png(color=3), alt="a new fox", lead=True)
    assert gallery.lead == 1 and gallery.tiles[0] is forming
    gallery.end_forming("job")
    assert gallery.lead == 0 and gallery.tiles == old
    new = gallery.add_result(result(prompt="a new fox"), lead=True)
    assert gallery.lead == 2 and gallery.tiles[:2] == new
    late = gallery.add_result(result(prompt="a slower fox"))  # another run ended: among the earlier ones
    assert gallery.tiles[:2] == new and gallery.tiles[2:4] == late and gallery.lead == 2
    gallery.demote()
    assert gallery.lead == 0 and len(gallery) == 6
