"""The offline edit engine: keyword filters, composition, masks, honesty about what it did not understand."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from falstudio._internal.images import open_image
from falstudio.local.engines import edit
from falstudio.local.engines._filters import INSTRUCTIONS
from falstudio.local.engines.image_edit import plan


def _rgb(data: bytes) -> np.ndarray:
    return np.asarray(open_image(data).convert("RGB"), dtype=np.int16)


def _reference(photo: Image.Image) -> np.ndarray:
    """The input as the engine sees it before editing: fitted to the 1024x1024 output."""
    return np.asarray(photo.resize((1024, 1024), Image.Resampling.BICUBIC).convert("RGB"), dtype=np.int16)


# One phrase per instruction, written as a user would.
PHRASES = {
    "pixel-art": "turn this into pixel art",
    "grayscale": "make it black and white",
    "sepia": "give it a vintage sepia look",
    "blur": "make it dreamy and soft",
    "posterize": "pop art please",
    "sketch": "a pencil sketch of this",
    "invert": "invert the colours",
    "cartoon": "cartoon style",
    "night": "make it night",
    "warm": "warm it up",
    "cool": "make it feel cold",
    "vignette": "add a vignette",
    "brighten": "make it brighter",
    "darken": "darken it",
    "vivid": "more vivid",
    "emboss": "emboss it",
    "contour": "trace the edges",
    "sharpen": "sharpen it",
    "mirror": "mirror it",
}
OVERLAYS = [
    "add a sun",
    "add the moon",
    "add stars",
    "add clouds",
    "add a rainbow",
    "add birds",
    "add rain",
    "add snow",
]


def test_every_instruction_has_a_phrase() -> None:
    assert set(PHRASES) == {i.name for i in INSTRUCTIONS}


@pytest.mark.parametrize("name", sorted(PHRASES))
def test_each_keyword_is_understood_and_changes_pixels(name: str, photo: Image.Image) -> None:
    assert [n for n, _ in plan(PHRASES[name])] == [name]
    [out] = edit({"prompt": PHRASES[name], "quality": "high"}, [photo])
    diff = np.abs(_rgb(out.data) - _reference(photo))[:-60]  # leave out the bottom rows, where the mark is
    changed = float(np.percentile(diff, 99))  # sharpen only touches edges: look at the most changed pixels
    assert changed > 20, f"{name} barely changed the picture ({changed:.1f})"


@pytest.mark.parametrize("prompt", OVERLAYS)
def test_each_addition_changes_pixels(prompt: str, photo: Image.Image) -> None:
    [out] = edit({"prompt": prompt, "quality": "high"}, [photo])
    assert np.abs(_rgb(out.data) - _reference(photo))[:-60].max() > 60


def test_instructions_run_in_the_order_written() -> None:
    assert [n for n, _ in plan("sepia, then pixel art, then add a rainbow")] == ["sepia", "pixel-art", "add rainbow"]
    assert [n for n, _ in plan("add a rainbow and make it pixel art")] == ["add rainbow", "pixel-art"]


def test_edit_is_deterministic(photo: Image.Image) -> None:
    request = {"prompt": "cartoon with stars", "num_images": 2}
    assert [i.data for i in edit(request, [photo])] == [i.data for i in edit(dict(request), [photo])]


def test_variations_differ(photo: Image.Image) -> None:
    outs = edit({"prompt": "pixel art", "num_images": 3}, [photo])
    assert len({o.data for o in outs}) == 3


def test_unknown_instruction_is_visible_and_logged(photo: Image.Image) -> None:
    """Nothing understood: auto-enhance (as "vivid") plus a caption band saying so, and a log line."""
    lines: list[str] = []
    [out] = edit({"prompt": "make it look like a watercolour by Turner"}, [photo], log=lambda m, p: lines.append(m))
    assert "No known edit instruction" in lines[0]
    [vivid] = edit({"prompt": "vivid"}, [photo])
    pixels, enhanced = _rgb(out.data), _rgb(vivid.data)
    assert np.abs(enhanced - _reference(photo)).mean() > 3
    assert np.array_equal(pixels[:-60], enhanced[:-60])
    assert np.abs(pixels[-40:, :400] - enhanced[-40:, :400]).mean() > 20  # the caption band


def test_log_says_what_was_understood(photo: Image.Image) -> None:
    lines: list[tuple[str, float]] = []
    edit({"prompt": "sepia and blur"}, [photo], log=lambda m, p: lines.append((m, p)))
    assert lines[0][0] == "Understood: sepia, blur"
    assert [p for _, p in lines] == sorted(p for _, p in lines)


@pytest.mark.parametrize("convention", ["alpha", "white"])
def test_mask_confines_the_edit(convention: str, photo: Image.Image) -> None:
    """Only the left half is edited; the right half comes back unchanged (away from the corner mark)."""
    size = photo.size
    if convention == "alpha":  # OpenAI: transparent = edit here
        mask = Image.new("RGBA", size, (0, 0, 0, 255))
        mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    else:  # no alpha: white = edit here
        mask = Image.new("L", size, 0)
        mask.paste(255, (0, 0, size[0] // 2, size[1]))
    [out] = edit({"prompt": "invert", "quality": "high"}, [photo], mask)
    result, reference = _rgb(out.data), _reference(photo)
    left, right = slice(0, 500), slice(524, 1024)
    top = slice(0, 900)  # the offline mark sits in the bottom-right corner
    assert np.abs(result[top, right] - reference[top, right]).max() == 0
    assert np.abs(result[top, left] - reference[top, left]).mean() > 50


def test_several_inputs_are_composed(photo: Image.Image) -> None:
    other = Image.new("RGB", (300, 200), (20, 200, 60))
    [out] = edit({"prompt": "sharpen"}, [photo, other])
    picture = _rgb(out.data)
    assert picture.shape[:2] == (1024, 1536)  # two inputs: landscape collage
    right = picture[100:900, 900:1400].reshape(-1, 3).mean(axis=0)
    assert right[1] > 150 and right[0] < 80  # the green second input fills the right half


def test_auto_size_follows_the_input_shape() -> None:
    tall = Image.new("RGB", (600, 900), (90, 90, 90))
    [out] = edit({"prompt": "sepia"}, [tall])
    assert (out.width, out.height) == (1024, 1536)
    [fixed] = edit({"prompt": "sepia", "image_size": "1536x1024"}, [tall])
    assert (fixed.width, fixed.height) == (1536, 1024)


def test_transparency_of_the_input_is_kept(photo: Image.Image) -> None:
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.new("L", rgba.size, 0).resize(rgba.size))
    rgba.paste((255, 0, 0, 255), (50, 50, 200, 200))
    [out] = edit({"prompt": "sepia"}, [rgba])
    picture = open_image(out.data)
    assert picture.mode == "RGBA"
    assert np.asarray(picture.getchannel("A")).min() == 0
    [opaque] = edit({"prompt": "sepia", "background": "opaque"}, [rgba])
    assert open_image(opaque.data).mode == "RGB"


def test_quality_changes_detail() -> None:
    """Low quality works at a quarter of the resolution: a fine checkerboard comes back smoothed."""
    cells = np.indices((1024, 1024)).sum(axis=0) // 4 % 2
    board = Image.fromarray((cells * 255).astype(np.uint8), "L").convert("RGB")
    low, high = (_rgb(edit({"prompt": "warm", "quality": q}, [board])[0].data) for q in ("low", "high"))

    def detail(p: np.ndarray) -> float:
        return float(np.abs(np.diff(p[:900], axis=1)).mean())

    assert detail(low) < detail(high) / 2


def test_bad_arguments_raise_clear_errors(photo: Image.Image) -> None:
    with pytest.raises(ValueError, match="at least one input image"):
        edit({"prompt": "sepia"}, [])
    with pytest.raises(TypeError, match="prompt must be a string"):
        edit({"prompt": 3}, [photo])
    lines: list[str] = []
    assert edit({"prompt": " "}, [photo], log=lambda m, p: lines.append(m))  # blank: shown as not understood
    assert "No known edit instruction" in lines[0]
