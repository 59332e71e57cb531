"""Text, XMP and EXIF in PNG, JPEG and WebP files, written by splicing the container: the pixels are never re-encoded.

PNG: ``iTXt`` chunks (uncompressed UTF-8) before the first ``IDAT``. JPEG: an ``APP1`` Exif segment and an ``APP1``
XMP segment after ``SOI``/``APP0``. WebP: ``EXIF`` and ``XMP `` chunks, turning a simple file into the extended
format (``VP8X``) when needed. Every other chunk or segment is kept byte for byte.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Collection, Iterator

from .errors import FalstudioError

__all__ = [
    "EXIF_HEADER",
    "JPEG_SEGMENT_MAX",
    "MAX_TEXT_BYTES",
    "MAX_TEXT_CHUNKS",
    "MAX_TEXT_TOTAL",
    "PNG_SIGNATURE",
    "XMP_HEADER",
    "ContainerError",
    "jpeg_get",
    "jpeg_set",
    "png_set_text",
    "png_text",
    "webp_get",
    "webp_set",
]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"
JPEG_SEGMENT_MAX = 65533  # payload bytes of one APPn segment
_TEXT_CHUNKS = (b"tEXt", b"iTXt", b"zTXt")
# What png_text reads at most: falstudio writes two chunks of a few KB (a long prompt stays well under 1 MiB).
MAX_TEXT_CHUNKS = 64
MAX_TEXT_BYTES = 4 * 1024 * 1024
MAX_TEXT_TOTAL = 8 * 1024 * 1024
_VP8X_EXIF, _VP8X_XMP, _VP8X_ALPHA = 0x08, 0x04, 0x10


class ContainerError(FalstudioError, ValueError):
    """The bytes are not a well-formed PNG, JPEG or WebP file."""


# -- PNG ---------------------------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> Iterator[tuple[bytes, bytes, int, int]]:
    """``(type, payload, start, end)`` of each chunk (``end`` past its CRC)."""
    if not data.startswith(PNG_SIGNATURE):
        raise ContainerError("not a PNG file")
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ContainerError("truncated PNG chunk")
        yield kind, data[pos + 8 : pos + 8 + length], pos, end
        pos = end
        if kind == b"IEND":
            return
    raise ContainerError("truncated PNG file (no IEND chunk)")


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_set_text(data: bytes, entries: dict[str, str]) -> bytes:
    """``data`` with one uncompressed ``iTXt`` chunk per entry, replacing text chunks of the same keywords."""
    out = [PNG_SIGNATURE]
    written = False
    for kind, payload, start, end in _png_chunks(data):
        if kind in _TEXT_CHUNKS and payload.split(b"\x00", 1)[0].decode("latin-1") in entries:
            continue
        if not written and kind in (b"IDAT", b"IEND"):
            for keyword, text in entries.items():
                # keyword, NUL, compression flag 0, method 0, empty language tag and translated keyword
                out.append(_png_chunk(b"iTXt", keyword.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode()))
            written = True
        out.append(data[start:end])
    if not written:
        raise ContainerError("PNG file without image data")
    return b"".join(out)


def png_text(data: bytes, keywords: Collection[str] | None = None) -> dict[str, str]:
    """Every ``tEXt``, ``iTXt`` and ``zTXt`` chunk as keyword -> text (the first of each keyword wins).

    ``keywords``: only these are decoded (the others are never decompressed). A crafted file cannot make this
    slow or large: past :data:`MAX_TEXT_CHUNKS` text chunks, :data:`MAX_TEXT_BYTES` of text in one chunk or
    :data:`MAX_TEXT_TOTAL` in all, :class:`ContainerError` says which limit.
    """
    found: dict[str, str] = {}
    chunks = total = 0
    for kind, payload, _start, _end in _png_chunks(data):
        if kind not in _TEXT_CHUNKS:
            continue
        chunks += 1
        if chunks > MAX_TEXT_CHUNKS:
            raise ContainerError(f"the PNG file has more than {MAX_TEXT_CHUNKS} text chunks (the limit read)")
        keyword, _, rest = payload.partition(b"\x00")
        name = keyword.decode("latin-1")
        if name in found or (keywords is not None and name not in keywords):
            continue
        try:
            text = _png_text_value(kind, rest, MAX_TEXT_TOTAL - total)
        except ContainerError:
            raise
        except (ValueError, zlib.error):  # a damaged chunk: as if it were not there
            continue
        total += len(text)
        found[name] = text
    return found


def _png_text_value(kind: bytes, rest: bytes, room: int) -> str:
    if kind == b"tEXt":
        return _bounded(rest, room).decode("latin-1")
    if kind == b"zTXt":
        return _inflate(rest[1:], room).decode("latin-1")
    if len(rest) < 2:
        raise ValueError("truncated iTXt chunk")
    compressed, _method, tail = rest[0], rest[1], rest[2:]
    _language, _, tail = tail.partition(b"\x00")
    _translated, _, text = tail.partition(b"\x00")
    return (_inflate(text, room) if compressed else _bounded(text, room)).decode("utf-8")


def _bounded(text: bytes, room: int) -> bytes:
    if len(text) > MAX_TEXT_BYTES:
        raise ContainerError(f"a PNG text chunk holds over {MAX_TEXT_BYTES // 1024 // 1024} MiB of text (the limit)")
    if len(text) > room:
        raise ContainerError(f"the PNG text chunks hold over {MAX_TEXT_TOTAL // 1024 // 1024} MiB (the limit)")
    return text


def _inflate(data: bytes, room: int) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, min(MAX_TEXT_BYTES, room) + 1)
    return _bounded(out, room)


# -- JPEG --------------------------------------------------------------------------------------------------------


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """``([(marker, payload)...], rest)``: the header segments up to the scan, and the scan onward, verbatim."""
    if not data.startswith(b"\xff\xd8"):
        raise ContainerError("not a JPEG file")
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ContainerError("malformed JPEG segment")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or 0xD0 <= marker <= 0xD9:  # start of scan (or a stand-alone marker): the rest as is
            return segments, data[pos:]
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            raise ContainerError("truncated JPEG segment")
        segments.append((marker, data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    raise ContainerError("JPEG file without image data")


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    if len(payload) > JPEG_SEGMENT_MAX:
        raise ContainerError(f"JPEG segment of {len(payload)} bytes is over the {JPEG_SEGMENT_MAX}-byte limit")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_set(data: bytes, *, exif: bytes | None, xmp: bytes | None) -> bytes:
    """``data`` with its Exif and XMP ``APP1`` segments replaced (``exif`` is a TIFF block, without ``Exif\\0\\0``)."""
    segments, rest = _jpeg_segments(data)
    kept = [(m, p) for m, p in segments if not (m == 0xE1 and p.startswith((EXIF_HEADER, XMP_HEADER)))]
    at = 0
    while at < len(kept) and kept[at][0] == 0xE0:  # after JFIF / JFXX
        at += 1
    new = []
    if exif is not None:
        new.append((0xE1, EXIF_HEADER + exif))
    if xmp is not None:
        new.append((0xE1, XMP_HEADER + xmp))
    ordered = kept[:at] + new + kept[at:]
    return b"\xff\xd8" + b"".join(_jpeg_segment(m, p) for m, p in ordered) + rest


def jpeg_get(data: bytes) -> tuple[bytes | None, bytes | None]:
    """``(exif TIFF block, xmp packet)`` of a JPEG file, each None when absent."""
    segments, _rest = _jpeg_segments(data)
    exif = next((p[len(EXIF_HEADER) :] for m, p in segments if m == 0xE1 and p.startswith(EXIF_HEADER)), None)
    xmp = next((p[len(XMP_HEADER) :] for m, p in segments if m == 0xE1 and p.startswith(XMP_HEADER)), None)
    return exif, xmp


# -- WebP --------------------------------------------------------------------------------------------------------


def _webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ContainerError("not a WebP file")
    chunks = []
    pos = 12
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while pos + 8 <= end:
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + size > end:
            raise ContainerError("truncated WebP chunk")
        chunks.append((kind, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    if not chunks:
        raise ContainerError("WebP file without image data")
    return chunks


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(kind + struct.pack("<I", len(p)) + p + b"\x00" * (len(p) & 1) for kind, p in chunks)
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def webp_set(data: bytes, *, exif: bytes | None, xmp: bytes | None) -> bytes:
    """``data`` with its ``EXIF`` and ``XMP `` chunks replaced; a simple WebP gains the ``VP8X`` header they need."""
    chunks = [(k, p) for k, p in _webp_chunks(data) if k not in (b"EXIF", b"XMP ")]
    if chunks[0][0] != b"VP8X":
        chunks.insert(0, (b"VP8X", _vp8x_for(data)))
    flags = chunks[0][1][0] & ~(_VP8X_EXIF | _VP8X_XMP)
    if exif is not None:
        chunks.append((b"EXIF", exif))
        flags |= _VP8X_EXIF
    if xmp is not None:
        chunks.append((b"XMP ", xmp))
        flags |= _VP8X_XMP
    chunks[0] = (b"VP8X", bytes((flags,)) + chunks[0][1][1:])
    return _riff(chunks)


def webp_get(data: bytes) -> tuple[bytes | None, bytes | None]:
    """``(exif TIFF block, xmp packet)`` of a WebP file, each None when absent."""
    chunks = dict(_webp_chunks(data))
    exif = chunks.get(b"EXIF")
    if exif is not None and exif.startswith(EXIF_HEADER):  # some writers keep the JPEG prefix
        exif = exif[len(EXIF_HEADER) :]
    return exif, chunks.get(b"XMP ")


def _vp8x_for(data: bytes) -> bytes:
    """The ``VP8X`` payload of a simple (single-bitstream) WebP: canvas size and alpha, from its header."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:  # reads the header only
        width, height = int(image.size[0]), int(image.size[1])
        alpha = image.mode in ("RGBA", "LA")
    flags = _VP8X_ALPHA if alpha else 0
    return bytes((flags, 0, 0, 0)) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
