"""An input image field (files typed as a path, dropped, pasted or painted) refuses a file bigger than any input
image in bounded memory, naming the file and the limit; each case in a child under memory and time limits."""

from __future__ import annotations

from pathlib import Path

from ._bounded import run_bounded

_FIELD = """
from falstudio.widgets.form._image_list import ImageListEditor
field = ImageListEditor("Images", "input images")
"""


def test_a_two_gigabyte_file_typed_as_a_path_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "huge.png"
    with open(big, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.truncate(2 * 1024**3)  # sparse
    code = _FIELD + f"field.source.value = {str(big)!r}\nfield._add_from_text()\n"
    result = run_bounded(code + "report(urls=len(field.urls), status=field.status.value)", memory=1024**3)
    assert result["urls"] == 0
    assert "huge.png" in result["status"] and "over the 52,428,800-byte limit" in result["status"]


def test_a_dropped_file_over_the_limit_is_refused_and_the_good_one_kept() -> None:
    code = (
        _FIELD
        + """
from falstudio._internal import images
good = images.encode_image(__import__("PIL.Image").Image.new("RGB", (8, 8)))
png = images.decode_data_uri(good)[0]
field._on_files([("big.png", png + bytes(60 * 1024 * 1024)), ("small.png", png)])
report(urls=len(field.urls), status=field.status.value)
"""
    )
    result = run_bounded(code)
    assert result["urls"] == 1
    assert "big.png" in result["status"] and "over the 50 MB an input image may be" in result["status"]
