"""Crafted image files: metadata text bounded (per chunk, in total, chunks read), images declaring billions of
pixels recorded with a clear error, presigned-URL credentials never written. Each case in a bounded child."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from ._bounded import run_bounded


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int = 8, height: int = 8, text: list[bytes] | None = None) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    pixels = _zeros_compressed((width + 1) * height)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + b"".join(text or [])
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def _zeros_compressed(size: int, chunk: int = 1 << 24) -> bytes:
    """``zlib.compress(bytes(size), 9)``'s equal, without holding or deflating ``size`` bytes: a chunk's deflate
    blocks (ended by a full flush, so they refer to nothing before them) repeated, then the rest; the Adler-32 of
    ``size`` zeros is ``size mod 65521`` (high half) and 1."""

    def blocks(n: int, mode: int) -> bytes:
        raw = zlib.compressobj(9, zlib.DEFLATED, -15)
        return raw.compress(bytes(n)) + raw.flush(mode)

    whole, rest = divmod(size, chunk)
    body = blocks(chunk, zlib.Z_FULL_FLUSH) * whole + blocks(rest, zlib.Z_FINISH)
    return b"\x78\xda" + body + struct.pack(">I", ((size % 65521) << 16) | 1)


def test_the_crafted_pixel_stream_is_zeros() -> None:
    for size in (0, 72, 3 * 1024 + 5):
        assert zlib.decompress(_zeros_compressed(size, chunk=1024)) == bytes(size)


def _ztxt(keyword: bytes, size: int) -> bytes:
    return _chunk(b"zTXt", keyword + b"\x00\x00" + _deflated_text(size))


@functools.cache  # the 60 chunks of one case share their text: deflated once, when the case runs
def _deflated_text(size: int) -> bytes:
    return zlib.compress(b"a" * size, 9)


_LOAD = """
import sys, time
from pathlib import Path
import falstudio as fs
from falstudio.widgets import Studio
data = Path(sys.argv[-1] if len(sys.argv) > 1 else CASE).read_bytes()
start = time.monotonic()
try:
    found = fs.read_metadata(data)
    read = f"read: {found}"
except Exception as exc:
    read = f"{type(exc).__name__}: {exc}"
try:
    Studio(history=False).load(data)
    studio = "loaded"
except Exception as exc:
    studio = f"{type(exc).__name__}: {exc}"
report(read=read, studio=studio, seconds=time.monotonic() - start)
"""

CASES: dict[str, tuple[Callable[[], list[bytes]], str | None]] = {  # made when the case runs, not at collection
    "300 text chunks": (
        lambda: [_chunk(b"tEXt", b"k%d\x00v" % i) for i in range(300)],
        "more than 64 text chunks",
    ),
    "one chunk inflating to 100 MB": (lambda: [_ztxt(b"falstudio", 100 * 1024 * 1024)], "over 4 MiB of text"),
    "60 chunks of 16 MB each": (
        lambda: [_ztxt(b"falstudio", 3 * 1024 * 1024)] + [_ztxt(b"x%d" % i, 16 * 1024 * 1024) for i in range(60)],
        None,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_crafted_metadata_chunks_are_bounded(tmp_path: Path, case: str) -> None:
    chunks, said = CASES[case]
    path = tmp_path / "crafted.png"
    path.write_bytes(_png(text=chunks()))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    result = run_bounded(f"CASE = {str(path)!r}\n" + _LOAD, memory=1024 * 1024 * 1024, seconds=60)
    if said is None:  # the falstudio chunk is read (not JSON here); the others are never inflated
        assert result["read"].startswith("ValueError") and "unreadable" in result["read"], result["read"]
    else:
        assert result["read"].startswith("ValueError") and said in result["read"], result["read"]
        assert said in result["studio"]
    assert result["seconds"] < 30
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


_RECORD_BOMB = """
import falstudio as fs
from falstudio.history import HistoryStore
from falstudio.client.recorder import Finished, Submitted
from pathlib import Path
import time
data = Path(CASE).read_bytes()
store = HistoryStore()
store.record_submitted(Submitted(endpoint="fal-ai/gpt-image-1.5", request_id="bomb", request={"prompt": "p"},
    base_url="http://127.0.0.1:9", mode="local", submitted_at=time.time(), cost_estimate="≤ $0.2", cost_amount="0.2"))
store.finished(Finished(endpoint="fal-ai/gpt-image-1.5", request_id="bomb", state="done", finished_at=time.time(),
    output={"images": [{"url": "http://127.0.0.1:9/files/bomb.png"}]}, images=[data], thumbnails=[None]))
[record] = fs.history()
thumb = record.thumbnail(0)
try:
    record.images_pil()
    opened = "opened"
except Exception as exc:
    opened = f"{type(exc).__name__}: {exc}"
report(state=record.state, error=record.error, error_type=record.error_type, images=len(record.image_paths()),
       thumb=thumb is None, opened=opened, width=record.images[0].width)
"""


def test_an_image_declaring_billions_of_pixels_completes_its_record_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png(50_000, 50_000))  # 2.5 G pixels declared, a few KB on disk
    result = run_bounded(f"CASE = {str(path)!r}\n" + _RECORD_BOMB, memory=1024 * 1024 * 1024)
    assert result["state"] == "done" and result["error_type"] == "image_too_large"
    assert "50000×50000" in result["error"] and "its file is kept" in result["error"]
    assert result["images"] == 1 and result["width"] == 50_000  # the bytes fal sent are kept
    assert result["thumb"] is True  # no preview, no crash
    assert result["opened"].startswith("ImageTooLarge")


_SECRET_URL = (
    "https://bucket.s3.amazonaws.com/out.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F2026"
    "&X-Amz-Signature=0123456789abcdef0123&X-Amz-Security-Token=SESSIONTOKEN123"
)
_GCS = "https://storage.googleapis.com/b/o.png?X-Goog-Signature=feedface00&X-Goog-Credential=svc%40p"
_SAS = "https://acct.blob.core.windows.net/c/in.png?sv=2024-01-01&sig=AbCdEf%2B123%3D&se=2026-12-07"


def test_presigned_url_credentials_are_redacted_in_records_metadata_and_exports(tmp_path: Path) -> None:
    code = f"""
    import time, falstudio as fs
    from falstudio import metadata
    from falstudio.history import HistoryStore
    from falstudio.client.recorder import Finished, Submitted
    from pathlib import Path
    store = HistoryStore()
    request = {{"prompt": "p", "image_urls": [{_GCS!r}, {_SAS!r}]}}
    store.record_submitted(Submitted(endpoint="fal-ai/gpt-image-1.5/edit", request_id="signed", request=request,
        base_url="http://127.0.0.1:9", mode="local", submitted_at=time.time(), cost_estimate="x", cost_amount="0.2"))
    store.record_finished(Finished(endpoint="fal-ai/gpt-image-1.5/edit", request_id="signed", state="done",
        finished_at=time.time(), output={{"images": [{{"url": {_SECRET_URL!r}}}]}}, images=[], thumbnails=[]))
    history = fs.history()
    history.export(Path({str(tmp_path / "export")!r}))
    info = metadata.build(endpoint="fal-ai/gpt-image-1.5/edit", request=request, request_id="signed")
    report(record=history[0].model_dump_json(), meta=info.model_dump_json(), text=metadata.parameters_text(info))
    """
    result = run_bounded(code)
    files = [p for p in Path(os.environ["FALSTUDIO_HISTORY_DIR"]).rglob("*") if p.is_file()]
    files += [p for p in (tmp_path / "export").rglob("*") if p.is_file()]
    written = b"".join(p.read_bytes() for p in files) + json.dumps(result).encode()
    for secret in (b"0123456789abcdef0123", b"SESSIONTOKEN123", b"AKIAEXAMPLE", b"feedface00", b"AbCdEf"):
        assert secret not in written, secret
    assert b"X-Amz-Signature=***" in written and b"sig=***" in written
    assert b"bucket.s3.amazonaws.com/out.png" in written  # the URL itself stays, minus its credential
