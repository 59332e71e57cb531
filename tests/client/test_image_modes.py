"""Images in any Pillow mode are usable inputs: CMYK, 16- and 32-bit, float, palette and premultiplied images are
converted to one PNG stores (not a bare OSError), and reach the local server's engines intact."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from falstudio._internal import images as _images
from falstudio.client import Client
from falstudio.local import LocalServer

EDIT = "fal-ai/gpt-image-1.5/edit"
MODES = ["CMYK", "I;16", "I;16B", "I", "F", "P", "PA", "LA", "La", "1", "L", "RGBa", "YCbCr", "LAB", "HSV"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_every_mode_encodes(mode: str, fmt: str) -> None:
    data = _images.image_bytes(Image.new(mode, (24, 16)), fmt)
    decoded = Image.open(io.BytesIO(data))
    assert decoded.size == (24, 16) and decoded.format == fmt.upper()


def test_deep_grey_is_stretched_not_clipped() -> None:
    deep = Image.new("I", (4, 1))
    deep.putpixel((1, 0), 1000)
    deep.putpixel((2, 0), 30000)
    deep.putpixel((3, 0), 70000)
    decoded = Image.open(io.BytesIO(_images.image_bytes(deep)))
    assert [decoded.getpixel((x, 0)) for x in range(4)] == [0, 4, 109, 255]


@pytest.mark.parametrize("mode", ["CMYK", "I", "F", "PA", "RGBa"])
def test_a_pil_image_in_any_mode_is_a_file_input(server: LocalServer, mode: str) -> None:
    picture = Image.new("RGB", (64, 48), (200, 60, 40)).convert(mode) if mode != "PA" else Image.new("PA", (64, 48))
    with Client(base_url=server.url, key=server.key, history=False) as client:
        result = client.run(EDIT, {"prompt": "make it sepia", "image_urls": [picture], "mask_image_url": picture})
        assert result.images
        assert client.upload_image(picture).startswith(server.url)
