"""Images that cannot be used: each says what was given and what to give instead, in the widget when typed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from falstudio.widgets import Gallery, RequestForm

EDIT = "fal-ai/gpt-image-1-mini/edit"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("ftp://example.com/a.png", "cannot use ftp:// URLs; give an http(s) URL, a data:image/... URI or a file path"),
        (b"not an image", "these bytes: not a PNG, JPEG, WebP or GIF image"),
    ],
)
def test_add_image_names_the_problem_and_the_fix(item: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RequestForm(EDIT).add_image(item)


def test_an_unreadable_file_is_reported_under_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    picture = tmp_path / "locked.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n")

    def refuse(path: Path, limit: int) -> bytes:
        raise PermissionError(13, "Permission denied", str(path))

    # as root a chmod 000 file still reads: the refusal is made where the field reads files
    monkeypatch.setattr("falstudio.widgets.form._image_list.read_regular", refuse)
    editor = RequestForm(EDIT).controls["image_urls"].editor
    editor.source.value = str(picture)
    editor.add_button.click()  # a click: the error must show in the widget, not as a lost traceback
    assert "Permission denied" in editor.status.value and editor.urls == []


def test_gallery_refuses_bytes_that_are_not_an_image_in_words() -> None:
    with pytest.raises(ValueError, match="these bytes are not a PNG, JPEG, WebP or GIF image"):
        Gallery().add(b"nope")


def _huge_png(side: int = 20000) -> bytes:
    """A valid PNG of ``side``×``side`` grey pixels that is a few hundred KB on the wire."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pixels = zlib.compress(bytes((side + 1) * side), 9)
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_a_huge_image_is_too_large_not_not_an_image() -> None:
    editor = RequestForm(EDIT).controls["image_urls"].editor
    editor.add(_huge_png())
    [row] = editor.rows.children
    shown = " ".join(child.value for child in row.children if hasattr(child, "value"))
    assert "PNG 20000×20000, 380 KB: too large, resize it to at most 1536 px" in shown
    assert "Error: too large" in shown and "not an image" not in shown


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_number_field_names_itself_for_nan_and_infinity(value: float) -> None:
    form = RequestForm("fal-ai/gpt-image-1-mini")
    with pytest.raises(ValueError, match=r"^num_images: cannot show .*; expected a whole number"):
        form.value = {"prompt": "a fox", "num_images": value}
    assert form.to_dict().get("num_images") in (None, 1)  # nothing changed


@pytest.mark.parametrize("given", [123, 1.5, ["fal-ai/gpt-image-1-mini"], b"fal-ai/gpt-image-1-mini"])
def test_request_form_says_what_it_expects(given: object) -> None:
    with pytest.raises(TypeError, match=r"^RequestForm takes an endpoint id string such as 'openai/gpt-image-2'"):
        RequestForm(given)  # type: ignore[arg-type]
