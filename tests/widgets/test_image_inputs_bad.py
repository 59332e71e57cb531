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

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    editor = RequestForm(EDIT).controls["image_urls"].editor
    editor.source.value = str(picture)
    editor.add_button.click()  # a click: the error must show in the widget, not as a lost traceback
    assert "Permission denied" in editor.status.value and editor.urls == []


def test_gallery_refuses_bytes_that_are_not_an_image_in_words() -> None:
    with pytest.raises(ValueError, match="these bytes are not a PNG, JPEG, WebP or GIF image"):
        Gallery().add(b"nope")
