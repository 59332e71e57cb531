"""The offline text-to-image engine: deterministic, prompt-driven, honouring every request field."""

from __future__ import annotations

import numpy as np
import pytest

from falstudio._internal.images import open_image, sniff_mime
from falstudio.local.engines import MARK, generate
from falstudio.local.engines._prompt import read, with_defaults

MINI = "fal-ai/gpt-image-1-mini"


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(open_image(data).convert("RGB"), dtype=np.int16)


def test_same_request_gives_the_same_bytes() -> None:
    request = {"prompt": "a cabin by a lake at sunset", "quality": "medium"}
    assert generate(request, MINI)[0].data == generate(dict(request), MINI)[0].data


def test_different_prompts_and_endpoints_give_different_pictures() -> None:
    base = generate({"prompt": "a cabin by a lake", "quality": "low"}, MINI)[0].data
    assert generate({"prompt": "neon city at night", "quality": "low"}, MINI)[0].data != base
    other_endpoint = "fal-ai/gpt-image-1/text-to-image"
    assert generate({"prompt": "a cabin by a lake", "quality": "low"}, other_endpoint)[0].data != base


@pytest.mark.parametrize(
    ("image_size", "expected"),
    [("auto", (1024, 1024)), ("1024x1024", (1024, 1024)), ("1536x1024", (1536, 1024)), ("1024x1536", (1024, 1536))],
)
def test_image_size_is_honoured(image_size: str, expected: tuple[int, int]) -> None:
    [image] = generate({"prompt": "mountains", "image_size": image_size, "quality": "low"}, MINI)
    assert (image.width, image.height) == expected
    assert open_image(image.data).size == expected


def test_quality_changes_render_detail() -> None:
    prompt = {"prompt": "a red house in a meadow with flowers, mountains and clouds"}
    low, medium, high = (_pixels(generate({**prompt, "quality": q}, MINI)[0].data) for q in ("low", "medium", "high"))

    def detail(p: np.ndarray) -> float:  # mean absolute difference between neighbouring pixels: fine structure
        return float(np.abs(np.diff(p, axis=1)).mean() + np.abs(np.diff(p, axis=0)).mean())

    assert detail(low) < detail(medium) < detail(high)


def test_transparent_background_gives_rgba_with_clear_pixels() -> None:
    [image] = generate({"prompt": "a house and trees", "background": "transparent", "quality": "low"}, MINI)
    picture = open_image(image.data)
    assert picture.mode == "RGBA"
    alpha = np.asarray(picture.getchannel("A"))
    assert alpha.min() == 0 and alpha.max() == 255


@pytest.mark.parametrize("prompt", ["a red apple icon", "a snowy landscape", "a cat sticker"])
def test_transparent_background_always_has_a_visible_subject(prompt: str) -> None:
    """Sky and ground are left out on a transparent background: a prompt that only set those still shows
    something solid, not an empty canvas with the mark."""
    [image] = generate({"prompt": prompt, "background": "transparent", "quality": "low"}, MINI)
    alpha = np.asarray(open_image(image.data).getchannel("A"))
    assert (alpha == 0).mean() > 0.3  # really transparent around the subject
    assert (alpha > 200).mean() > 0.02  # and a solid subject, far more than the corner mark


def test_opaque_output_has_no_alpha() -> None:
    [image] = generate({"prompt": "a house", "quality": "low"}, MINI)
    assert open_image(image.data).mode == "RGB"


def test_num_images_gives_distinct_variations_and_stable_first_image() -> None:
    four = generate({"prompt": "ocean with a boat", "num_images": 4, "quality": "low"}, MINI)
    assert len({i.data for i in four}) == 4
    one = generate({"prompt": "ocean with a boat", "num_images": 1, "quality": "low"}, MINI)
    assert one[0].data == four[0].data


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_output_format_and_offline_mark_in_metadata(fmt: str) -> None:
    [image] = generate({"prompt": "a forest", "output_format": fmt, "quality": "low"}, MINI)
    assert image.content_type == f"image/{fmt}"
    assert sniff_mime(image.data) == f"image/{fmt}"
    picture = open_image(image.data)
    text = " ".join(str(v) for v in picture.info.values() if isinstance(v, str))
    text += " ".join(str(v) for v in picture.getexif().values())
    assert MARK in text


def test_visible_mark_in_the_corner() -> None:
    """The bottom-right corner differs from a render without the mark (the label is drawn there)."""
    [image] = generate({"prompt": "a plain day sky", "quality": "low"}, MINI)
    pixels = _pixels(image.data)
    corner = pixels[-30:, -150:]
    assert np.abs(corner - pixels[-30:, :150].mean(axis=(0, 1))).max() > 40  # label text is not background


def test_logs_report_progress_in_order_and_what_was_not_drawn() -> None:
    lines: list[tuple[str, float]] = []
    generate({"prompt": "a cat under the moon", "quality": "low"}, MINI, log=lambda m, p: lines.append((m, p)))
    progress = [p for _, p in lines]
    assert progress == sorted(progress) and progress[0] == 0.0 and progress[-1] == 1.0
    assert len(lines) >= 5
    text = "\n".join(m for m, _ in lines)
    assert "moon" in text
    assert "Not drawn offline" in text and "cat" in text


def test_a_lighthouse_stands_on_its_cliff_over_the_sea() -> None:
    """The prompt the demo, the forms and most examples use is drawn whole: nothing is left "not drawn"."""
    lines: list[str] = []
    generate({"prompt": "a lighthouse on a cliff at sunset", "quality": "low"}, MINI, log=lambda m, p: lines.append(m))
    text = "\n".join(lines)
    assert "Not drawn offline" not in text
    assert "Raising a cliff over the water" in text and "Lighting the lighthouse" in text  # lit at sunset
    reading = read("a lighthouse on a cliff")
    assert {"lighthouse", "cliff"} <= reading.objects and "water" in with_defaults(reading)  # it looks out to sea

    def tower_red(prompt: str) -> float:  # the share of the picture in the tower's red (daylight: unshaded)
        pixels = _pixels(generate({"prompt": prompt, "quality": "low"}, MINI)[0].data)
        return float(((pixels[..., 0] > 140) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).mean())

    assert tower_red("a lighthouse") > 0.002  # on a low point of rock, looking out to sea
    assert tower_red("the open sea") == 0


def test_prompt_reading_finds_sky_ground_objects_and_colours() -> None:
    reading = read("A red cabin by the lake, snowy mountains under a starry night")
    assert reading.sky == "night"
    assert reading.ground == "snow"
    assert {"house", "water", "mountains", "stars"} <= reading.objects
    assert reading.colours == ((255, 0, 0),)


def test_prompt_without_known_words_still_depends_on_the_prompt() -> None:
    a = generate({"prompt": "quantum entanglement", "quality": "low"}, MINI)[0].data
    b = generate({"prompt": "a philosophical question", "quality": "low"}, MINI)[0].data
    assert a != b


def test_invalid_request_is_rejected_with_pydantic_error() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="num_images"):
        generate({"prompt": "x", "num_images": 9}, MINI)


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_the_engines_png_writer_keeps_every_pixel_and_its_text_as_pillow_reads_them(mode: str) -> None:
    import io

    from PIL import Image

    from falstudio.local.engines import _png

    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 256, (37, 53, len(mode)), dtype=np.uint8)  # odd sizes, every byte value, wraps in "Up"
    picture = Image.fromarray(pixels, mode)
    data = _png.png_bytes(picture, {"Software": "falstudio"}, {"Description": "a café ☕ at dusk"})
    decoded = Image.open(io.BytesIO(data))
    decoded.load()  # checks every chunk's CRC and the pixel stream
    assert decoded.mode == mode and decoded.size == (53, 37)
    assert np.array_equal(np.asarray(decoded), pixels)
    assert decoded.text == {"Software": "falstudio", "Description": "a café ☕ at dusk"}
    assert not _png.can_write(picture.convert("L")) and not _png.can_write(picture.convert("P"))
