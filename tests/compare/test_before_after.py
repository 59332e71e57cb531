"""BeforeAfter: images in as any form, position round trip with the frontend, static side-by-side fallback."""

from __future__ import annotations

import base64
import html.parser
import importlib.resources
import io
import pathlib
from typing import Any

import pytest
import traitlets
from ipywidgets.widgets.tests.utils import DummyComm
from ipywidgets.widgets.widget import _remove_buffers
from PIL import Image

from falstudio._internal import images as _images
from falstudio.widgets import BeforeAfter


def png(color: str | tuple[int, ...], size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    return _images.image_bytes(Image.new(mode, size, color), "png")


@pytest.fixture
def widget() -> BeforeAfter:
    w = BeforeAfter.from_images(png("red"), png("blue", (96, 64)), alt="make the square blue")
    w.comm = DummyComm()
    yield w
    w.close()


def frontend_update(w: BeforeAfter, state: dict[str, Any]) -> None:
    """What the browser sends when the user moves the slider (a comm ``update`` message)."""
    w._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})


def sent_states(w: BeforeAfter) -> list[dict[str, Any]]:
    messages = [kwargs["data"] for _args, kwargs in w.comm.messages]
    return [m["state"] for m in messages if m.get("method") == "update"]


def test_position_set_in_python_reaches_the_model_and_the_frontend(widget: BeforeAfter) -> None:
    widget.position = 72.5
    assert widget.get_state()["position"] == 72.5
    assert {"position": 72.5} in sent_states(widget)


def test_position_moved_in_the_frontend_is_read_back_in_python(widget: BeforeAfter) -> None:
    widget.set_state({"position": 30})
    assert widget.position == 30.0 and widget.get_state()["position"] == 30.0
    frontend_update(widget, {"position": 12.5})
    assert widget.position == 12.5
    frontend_update(widget, {"mode": "side-by-side"})
    assert widget.mode == "side-by-side"


def test_bad_values_are_rejected_with_the_trait_named(widget: BeforeAfter) -> None:
    with pytest.raises(traitlets.TraitError, match="position"):
        widget.position = 150
    with pytest.raises(traitlets.TraitError):
        widget.mode = "blend"
    with pytest.raises(traitlets.TraitError, match=r"BeforeAfter\.before: .*not an image"):
        widget.before = b"not an image"
    with pytest.raises(traitlets.TraitError, match="not a URL"):
        widget.after = "https://example.com/a.png"


def test_images_travel_as_binary_buffers_not_base64(widget: BeforeAfter) -> None:
    state, paths, buffers = _remove_buffers(widget.get_state())
    assert sorted(paths) == [["after"], ["before"]]
    assert {bytes(b) for b in buffers} == {widget.before, widget.after}
    assert "before" not in state and "after" not in state


def test_from_images_accepts_every_image_form(tmp_path: pathlib.Path) -> None:
    data = png("green")
    path = tmp_path / "in.png"
    path.write_bytes(data)
    pil = Image.new("RGB", (64, 48), "green")
    uri = _images.to_data_uri(data)
    for source in (data, path, str(path), uri, pil, bytearray(data)):
        w = BeforeAfter.from_images(source, data)
        assert _images.open_image(w.before).size == (64, 48)
        w.close()
    w = BeforeAfter(before=pil)  # plain assignment coerces too
    assert w.before.startswith(b"\x89PNG")
    w.close()


def test_from_images_can_shrink_both_images() -> None:
    w = BeforeAfter.from_images(png("red", (800, 600)), png("blue", (600, 800)), max_px=200)
    assert max(_images.open_image(w.before).size) == 200 and max(_images.open_image(w.after).size) == 200
    w.close()


def test_repr_is_deterministic(widget: BeforeAfter) -> None:
    assert repr(widget) == "BeforeAfter(before=64x48 PNG, after=96x64 PNG, position=50, mode='slider')"
    assert repr(BeforeAfter()) == "BeforeAfter(before=none, after=none, position=50, mode='slider')"


class _Imgs(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[dict[str, str | None]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "img":
            self.imgs.append(dict(attrs))


def test_static_fallback_shows_both_images_side_by_side(widget: BeforeAfter) -> None:
    data, _metadata = widget._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"] == repr(widget)
    parser = _Imgs()
    parser.feed(data["text/html"])
    assert not parser.tags & {"script", "style"}
    assert [img["alt"] for img in parser.imgs] == ["Before: make the square blue", "After: make the square blue"]
    for img in parser.imgs:
        src = str(img["src"])
        assert src.startswith("data:image/") and len(src) < 30_000
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    assert "grid-template-columns:repeat(2" in data["text/html"]


def test_the_esm_and_css_ship_next_to_the_module() -> None:
    static = importlib.resources.files("falstudio.widgets") / "static"
    assert static.joinpath("before_after.js").is_file() and static.joinpath("before_after.css").is_file()
    w = BeforeAfter()
    js, css = w.get_state()["_esm"], w.get_state()["_css"]
    assert 'type: "range"' in js and "aria-label" in js and "export default { render }" in js
    assert ".fs-ba-range" in css
    w.close()
