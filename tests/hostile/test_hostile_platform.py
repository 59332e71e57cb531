"""fal's Platform API client against hostile replies, each case in a child under memory and time limits: a reply
bigger than any page (plain or a gzip bomb) is refused in bounded memory, and a cursor that never ends is an
error, never a list silently cut short."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from ._bounded import run_bounded
from ._loopback import Loopback, document_route

_LIST = """
from falstudio.client import Platform, errors
try:
    keys = Platform(key="id:secret", base_url=URL).list_keys()
    report(outcome=f"{len(keys)} keys")
except errors.FalError as exc:
    report(outcome=type(exc).__name__, message=exc.message)
"""
_BIG = 2 * 1024**3  # bytes a hostile reply carries (once inflated)


def _huge(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.end_headers()  # no length: read to the end
    chunk = b" " * (1 << 20)
    try:
        handler.wfile.write(b'{"keys": [')
        for _ in range(_BIG // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass  # the client hung up: what it should do


def _bomb_body() -> bytes:
    """A gzip body inflating to ``_BIG`` bytes of JSON, made of one compressed megabyte repeated (after a full flush
    deflate starts afresh, so each megabyte of spaces packs to the same bytes): a second, not seconds, to build."""
    head, chunk, tail = b'{"keys": [', b" " * (1 << 20), b'], "has_more": false}'
    count = _BIG // len(chunk)
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)  # raw deflate: the gzip header and trailer are written here
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + count * len(chunk) + len(tail)
    gzip_header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return gzip_header + start + block * count + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


@pytest.fixture(scope="module")
def service() -> Iterator[Loopback]:
    bomb = _bomb_body()
    endless = {"keys": [{"key_id": "k", "alias": "a", "scope": "API", "created_at": ""}], "has_more": True}

    def gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-encoding", "gzip")
        handler.send_header("content-length", str(len(bomb)))
        handler.end_headers()
        try:
            handler.wfile.write(bomb)
        except OSError:
            pass

    loopback = Loopback(
        {
            "/huge/keys": _huge,
            "/bomb/keys": gzip_bomb,
            "/endless/keys": document_route(json.dumps({**endless, "next_cursor": "Mg=="}).encode()),
            "/nested/keys": document_route(b"[" * 100_000),
            "/nested/models": document_route(b"[" * 100_000),
        }
    )
    yield loopback
    loopback.close()


@pytest.mark.parametrize("where", ["huge", "bomb"])
def test_a_reply_bigger_than_any_page_is_refused_in_bounded_memory(service: Loopback, where: str) -> None:
    result = run_bounded(f"URL = {service.url('/' + where)!r}\n" + _LIST, memory=1024**3)
    assert result["outcome"] == "ServerError", result
    assert "more than 32 MiB" in result["message"] and "GET /keys" in result["message"]


def test_a_cursor_that_never_ends_is_an_error_not_a_list_cut_short(service: Loopback) -> None:
    result = run_bounded(f"URL = {service.url('/endless')!r}\n" + _LIST)
    assert result["outcome"] == "ServerError", result
    assert "more than 1000 pages" in result["message"]


def test_a_reply_nested_too_deeply_is_a_clear_error(service: Loopback) -> None:
    """It used to raise RecursionError out of the Platform client and the catalog search."""
    result = run_bounded(f"URL = {service.url('/nested')!r}\n" + _LIST)
    assert result["outcome"] == "ServerError" and "not JSON" in result["message"], result
    search = """
import falstudio as fs
try:
    fs.endpoints.search("fox", refresh=True)
    report(outcome="found")
except Exception as exc:
    report(outcome=type(exc).__name__, message=str(exc))
"""
    env = {"FALSTUDIO_PLATFORM_URL": service.url("/nested"), "FAL_KEY": "", "FAL_HOME_DIR": "/nonexistent"}
    result = run_bounded(search, env=env)
    assert result["outcome"] != "RecursionError" and "nested too deeply" in result["message"], result
