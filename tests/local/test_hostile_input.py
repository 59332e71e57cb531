"""Hostile and malformed requests: each gets a fal-shaped 4xx, no traceback in the log, and the server keeps serving."""

from __future__ import annotations

import base64
import logging
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator

import httpx
import pytest

from falstudio._internal.tls import default_context
from falstudio.local import LocalServer
from falstudio.local._runner import MAX_INPUT_PIXELS

EDIT = "fal-ai/gpt-image-1/edit-image"
MINI = "fal-ai/gpt-image-1-mini"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def server_errors() -> Iterator[list[logging.LogRecord]]:
    """ERROR records of the local server and of uvicorn (which does not propagate to the root logger)."""
    handler = _Records()
    loggers = [logging.getLogger("falstudio.local"), logging.getLogger("uvicorn.error")]
    for log in loggers:
        log.addHandler(handler)
    yield handler.records
    for log in loggers:
        log.removeHandler(handler)


def _png_of_size(width: int, height: int) -> bytes:
    """A valid grayscale PNG of the given size that is tiny on the wire (all black): a decompression bomb."""
    pixels = zlib.compress(bytes((width + 1) * height), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _still_serves(api: httpx.Client) -> None:
    r = api.post(f"/run/{MINI}", json={"prompt": "a red apple", "quality": "low"})
    assert r.status_code == 200 and r.json()["images"]


@pytest.mark.parametrize("request_id", ["%00", "x%0d%0aset-cookie:%20a=b", "%ff%fe", "a" * 5000])
def test_request_ids_that_cannot_be_a_header(
    api: httpx.Client, server_errors: list[logging.LogRecord], request_id: str
) -> None:
    base = f"/fal-ai/gpt-image-1/requests/{request_id}"
    for method, path in [
        ("GET", f"{base}/status"),
        ("GET", base),
        ("GET", f"{base}/status/stream"),
        ("PUT", f"{base}/cancel"),
    ]:
        r = api.request(method, path)
        assert r.status_code == 404, (method, path, r.text)
        assert r.headers["content-type"] == "application/json"
        uuid.UUID(r.headers["x-fal-request-id"])  # a fresh id, never the echoed garbage
    assert not server_errors
    _still_serves(api)


def test_a_uuid_request_id_is_echoed(api: httpx.Client) -> None:
    request_id = str(uuid.uuid4())
    r = api.get(f"/fal-ai/gpt-image-1/requests/{request_id}/status")
    assert r.status_code == 404 and r.headers["x-fal-request-id"] == request_id


@pytest.mark.parametrize(
    "webhook",
    ["http://[::1/hook", "http://127.0.0.1:99999/hook", "http://127.0.0.1:port/x", "not a url", "ftp://127.0.0.1/hook"],
)
def test_malformed_webhook_is_422_on_the_query_field(
    api: httpx.Client, server_errors: list[logging.LogRecord], webhook: str
) -> None:
    r = api.post(f"/{MINI}", params={"fal_webhook": webhook}, json={"prompt": "x"})
    assert r.status_code == 422, r.text
    problem = r.json()["detail"][0]
    assert problem["loc"] == ["query", "fal_webhook"] and "http" in problem["msg"]
    assert not server_errors
    _still_serves(api)


def test_malformed_image_url_is_422_not_500(
    make_server: Callable[..., LocalServer],
    client_for: Callable[[LocalServer], httpx.Client],
    server_errors: list[logging.LogRecord],
) -> None:
    api = client_for(make_server(allow_remote_fetch=True))
    cases = {  # malformed URLs are caught by the request model; a valid one that can't be fetched by the runner
        "http://[::1/cat.png": "image_url",
        "http://127.0.0.1:99999/cat.png": "image_url",
        "http://127.0.0.1:1/cat.png": "file_download_error",
    }
    for url, error_type in cases.items():
        r = api.post(f"/run/{EDIT}", json={"prompt": "grayscale", "image_urls": [url]})
        assert r.status_code == 422, (url, r.text)
        problem = r.json()["detail"][0]
        assert problem["loc"] == ["body", "image_urls", 0] and problem["type"] == error_type, problem
    assert not server_errors
    _still_serves(api)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("side", [8000, 20000])  # above our limit; and above twice Pillow's own
def test_decompression_bomb_is_refused_before_decoding(
    api: httpx.Client, server_errors: list[logging.LogRecord], side: int
) -> None:
    assert side * side > MAX_INPUT_PIXELS
    r = api.post(f"/run/{EDIT}", json={"prompt": "grayscale", "image_urls": [_data_uri(_png_of_size(side, side))]})
    assert r.status_code == 422, r.text
    problem = r.json()["detail"][0]
    assert problem["loc"] == ["body", "image_urls", 0] and problem["type"] == "image_too_large"
    assert "resize" in problem["msg"]
    assert not server_errors
    _still_serves(api)


def test_a_large_but_sane_input_is_accepted(api: httpx.Client) -> None:
    r = api.post(
        f"/run/{EDIT}",
        json={"prompt": "grayscale", "quality": "low", "image_urls": [_data_uri(_png_of_size(3000, 2000))]},
    )
    assert r.status_code == 200, r.text


def test_head_on_the_index_and_405_names_the_fix(api: httpx.Client) -> None:
    assert api.head("/").status_code == 200
    r = api.options(f"/{MINI}")
    assert r.status_code == 405 and "POST /{endpoint_id}" in r.json()["detail"]


@pytest.mark.parametrize("limit", ["-1", "abc", "1.5"])
def test_malformed_max_queue_length_is_422(api: httpx.Client, limit: str) -> None:
    r = api.post(f"/{MINI}", params={"fal_max_queue_length": limit}, json={"prompt": "x"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "fal_max_queue_length"]


@pytest.mark.parametrize("path", [f"/{MINI}", f"/run/{MINI}", "/storage/upload/initiate"])
def test_json_nested_too_deeply_is_422(api: httpx.Client, server_errors: list[logging.LogRecord], path: str) -> None:
    r = api.post(path, content=b"[" * 30000 + b"]" * 30000, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["type"] == "json_invalid"
    assert not server_errors
    _still_serves(api)


@pytest.mark.parametrize("body", [{"file_name": {"a": 1}}, {"content_type": 5}, {"file_name": ["x.png"]}])
def test_upload_initiate_fields_must_be_strings(
    api: httpx.Client, server_errors: list[logging.LogRecord], body: dict[str, object]
) -> None:
    r = api.post("/storage/upload/initiate", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["body", next(iter(body))]
    assert not server_errors


def test_a_content_type_that_cannot_be_a_header_is_stored_as_octet_stream(api: httpx.Client) -> None:
    r = api.post("/storage/upload/initiate", json={"content_type": "text/plain\r\nset-cookie: a=b", "file_name": "a"})
    assert r.status_code == 200
    urls = r.json()
    assert httpx.put(urls["upload_url"], content=b"data", timeout=30).status_code == 200
    served = httpx.get(urls["file_url"], timeout=30)
    assert served.status_code == 200 and served.content == b"data"
    assert served.headers["content-type"] == "application/octet-stream" and "set-cookie" not in served.headers


def test_a_file_url_without_a_name_is_a_404_like_a_cdn(server) -> None:
    import httpx

    for path in ("/files/nope.png", "/files/nope", "/files/abc/nope.png"):
        reply = httpx.get(server.url + path)
        assert (reply.status_code, reply.json()["detail"]) == (404, "File not found"), path


@pytest.mark.parametrize(
    "host", ["attacker.example", "127.0.0.1.nip.io", "localhost:99999x", "\u00e9vil.example", "a" * 3000]
)
def test_a_foreign_host_header_is_misdirected_and_never_reflected(
    server: LocalServer, server_errors: list[logging.LogRecord], host: str
) -> None:
    r = httpx.post(
        f"{server.url}/{MINI}",
        json={"prompt": "x"},
        headers={"Host": host.encode(), "Authorization": f"Key {server.key}"},
        timeout=30,
    )
    assert r.status_code in (400, 421) and host[:20] not in r.text  # 400: the HTTP parser refuses it first
    assert not server_errors


def _encoded(mode: str, fmt: str) -> str:
    from PIL import Image

    picture = Image.new("RGB", (40, 30), (200, 60, 40)).convert(mode)
    if mode == "P":
        picture.info["transparency"] = 0
    buffer = __import__("io").BytesIO()
    picture.save(buffer, fmt)
    return f"data:image/{fmt.lower()};base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("mode", "fmt"), [("CMYK", "JPEG"), ("I;16", "PNG"), ("LA", "PNG"), ("P", "PNG"), ("1", "PNG"), ("L", "GIF")]
)
def test_input_images_in_odd_modes_are_edited(
    api: httpx.Client, server_errors: list[logging.LogRecord], mode: str, fmt: str
) -> None:
    uri = _encoded(mode, fmt)
    r = api.post(
        "/run/fal-ai/gpt-image-1.5/edit",
        json={"prompt": "make it sepia", "quality": "low", "image_urls": [uri], "mask_image_url": uri},
    )
    assert r.status_code == 200, r.text
    assert not server_errors


@pytest.mark.parametrize(
    "body",
    [[1, 2], {"parts": "all"}, {"parts": [1]}, {"parts": [{"partNumber": "1", "etag": 5}]}, {"parts": []}, None],
)
def test_a_malformed_multipart_completion_is_a_4xx(
    api: httpx.Client, server_errors: list[logging.LogRecord], body: object
) -> None:
    created = api.post("/storage/upload/initiate-multipart", json={"content_type": "image/png"}).json()
    assert httpx.put(f"{created['upload_url']}/1", content=b"part").status_code == 200
    r = httpx.post(f"{created['upload_url']}/complete", json=body, timeout=30)
    assert 400 <= r.status_code < 500, r.text
    with httpx.Client(verify=default_context()) as anon:
        for number in ("0", "-1", "10001", "1e3", "%00"):
            assert anon.put(f"{created['upload_url']}/{number}", content=b"x").status_code in (400, 404)
    assert not server_errors
    _still_serves(api)


@pytest.mark.parametrize("key", ["abc\r\ndef", "abc def", "k\u00e9y", ""])
def test_a_server_key_that_cannot_travel_in_a_header_is_refused_at_once(key: str) -> None:
    with pytest.raises(ValueError, match="server key"):
        LocalServer(key=key or " ")
