"""The loop's transport (``_transport.py``): httpx's own semantics on asyncio's sockets, with a pool that keeps the
idle connections its limits allow. Every case talks to a real server on loopback: the local server, or a small
asyncio one where the case needs a server that misbehaves (closes idle connections, stalls, speaks TLS)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpcore
import httpx
import pytest

from falstudio._internal.tls import default_context
from falstudio.client import Client
from falstudio.client._transport import AsyncioBackend, loop_transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
REPLY = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok"


def _client(limits: httpx.Limits | None = None, verify: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    limits = limits or httpx.Limits(max_connections=64, max_keepalive_connections=32)
    return httpx.AsyncClient(transport=loop_transport(verify=verify or default_context(), limits=limits))


def _pool(client: httpx.AsyncClient) -> httpcore.AsyncConnectionPool:
    pool = client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool, httpcore.AsyncConnectionPool)
    assert isinstance(pool._network_backend, AsyncioBackend)
    return pool


@asynccontextmanager
async def _serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[str, list[int]]]:
    """A server on loopback running ``handler`` per connection; yields its URL and a list of connections made."""
    connections: list[int] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}", connections
    finally:
        server.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    return await reader.readexactly(length)


def test_requests_to_the_local_server_reuse_idle_connections_up_to_the_keepalive_limit(server) -> None:
    async def main() -> None:
        limits = httpx.Limits(max_connections=16, max_keepalive_connections=8)
        url = f"{server.url}/fal-ai/gpt-image-1-mini/requests/nope/status"
        async with _client(limits) as client, contextlib.AsyncExitStack() as open_replies:
            pool = _pool(client)
            replies = [await open_replies.enter_async_context(client.stream("GET", url)) for _ in range(16)]
            assert {reply.status_code for reply in replies} == {401}  # no key: refused, which is all this needs
            for reply in replies[:4]:
                await reply.aread()  # read to its end: its connection is idle, and may be kept
                await reply.aclose()
            # httpcore 1.0's pool counts every connection against the idle limit: it closed these 4
            assert len(pool.connections) == 16 and sum(c.is_idle() for c in pool.connections) == 4
            for reply in replies[4:]:
                await reply.aread()
            await open_replies.aclose()
            assert len(pool.connections) == 8 and all(c.is_idle() for c in pool.connections)
            kept = set(map(id, pool.connections))
            for _ in range(3):
                await asyncio.gather(*(client.get(url) for _ in range(8)))
            assert set(map(id, pool.connections)) == kept  # reused, none opened

    asyncio.run(main())


def test_a_connection_the_server_closed_while_idle_is_not_reused_for_a_submit() -> None:
    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(REPLY)  # keep-alive by HTTP/1.1's default, then closed anyway (as a server's idle timeout does)
        await writer.drain()
        await asyncio.sleep(0.05)

    async def main() -> None:
        async with _serving(answer_once) as (url, connections), _client() as client:
            for _ in range(3):
                reply = await client.post(url, json={"prompt": "a lighthouse"})
                assert reply.text == "ok"
                await asyncio.sleep(0.2)  # the server has closed it by now
            assert len(connections) == 3

    asyncio.run(main())


def test_timeouts_and_refusals_are_httpx_errors() -> None:
    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    async def main() -> None:
        async with _serving(stall) as (url, _), _client() as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.get(url, timeout=httpx.Timeout(5, read=0.2))
        async with _serving(stall) as (url, _):
            pass  # closed: nothing listens there now
        async with _client() as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(url)

    asyncio.run(main())


def test_an_upload_given_up_is_not_sent_on() -> None:
    """A write timeout (or a cancel) with the body still buffered: the connection is dropped at once, not kept
    open sending the rest (asyncio's close() waits for its buffer to drain)."""
    size = 64 * 1024 * 1024
    received: list[int] = []

    async def read_late(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(1.0)  # reads nothing while the client writes
        total = 0
        while chunk := await reader.read(1 << 20):
            total += len(chunk)
        received.append(total)

    async def main() -> None:
        async with _serving(read_late) as (url, _), _client() as client:
            with pytest.raises(httpx.WriteTimeout):
                await client.post(url, content=b"x" * size, timeout=httpx.Timeout(5, write=0.3))
            for _ in range(100):
                if received:
                    break
                await asyncio.sleep(0.05)
        assert received and received[0] < size // 2

    asyncio.run(main())


def test_a_large_upload_and_download_go_through_flow_control() -> None:
    size = 24 * 1024 * 1024

    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            body = await _read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body))
            for start in range(0, len(body), 1 << 20):
                writer.write(body[start : start + (1 << 20)])
                await writer.drain()

    async def main() -> None:
        payload = bytes(range(256)) * (size // 256)
        async with _serving(echo) as (url, _), _client() as client:
            reply = await client.post(url, content=payload)
            assert len(reply.content) == size and reply.content == payload
            async with client.stream("POST", url, content=payload) as streamed:
                received = 0
                async for chunk in streamed.aiter_raw():
                    received += len(chunk)
                    await asyncio.sleep(0)  # a slow reader: the transport stops reading meanwhile
            assert received == size

    asyncio.run(main())


def test_a_blocking_client_runs_on_it_end_to_end(server) -> None:
    with Client(server.key, base_url=server.url, history=False) as client:
        arguments = {"prompt": "a kite", "quality": "low"}
        results = [client.subscribe("fal-ai/gpt-image-1-mini", arguments) for _ in range(3)]
        assert all(result.images[0].bytes()[:4] == b"\x89PNG" for result in results)
        wire = client._async._wire
        assert isinstance(wire.http()._transport._pool._network_backend, AsyncioBackend)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_is_verified_like_httpx(certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await _read_request(reader)
            writer.write(REPLY)
            await writer.drain()

    async def main() -> None:
        trusting = ssl.create_default_context(cafile=str(cert))
        async with _serving(answer, tls=served) as (url, connections), _client(verify=trusting) as client:
            for _ in range(3):
                reply = await client.get(url)
                assert reply.text == "ok"
            assert len(connections) == 1  # one TLS connection, kept
            assert reply.extensions["network_stream"].get_extra_info("ssl_object") is not None
        async with _serving(answer, tls=served) as (url, _), _client() as client:  # certifi does not know it
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(url)

    asyncio.run(main())


def test_a_status_stream_read_to_its_end_leaves_its_connection_for_the_next_request(server, monkeypatch) -> None:
    connects: list[str] = []
    connect = AsyncioBackend.connect_tcp

    async def counted(self: AsyncioBackend, host: str, port: int, **options: object) -> httpcore.AsyncNetworkStream:
        connects.append(host)
        return await connect(self, host, port, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(AsyncioBackend, "connect_tcp", counted)
    with Client(server.key, base_url=server.url, history=False) as client:
        for i in range(5):  # submit, status stream, result: one after another, on one connection
            client.subscribe("fal-ai/gpt-image-1-mini", {"prompt": f"a kite {i}", "quality": "low"})
    assert len(connects) == 1
