"""fal's backup domains: when connecting to queue.fal.run / fal.run fails, the client tries queue.falrun.com /
falrun.com once, as fal-client 1.0.3 does. The "internet" here is a router in front of the real local server:
the primary hosts refuse connections, the backup hosts (and rest.fal.ai) reach the local server over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from falstudio.client import Client, RetryPolicy, errors
from falstudio.local import LocalServer

MINI = "fal-ai/gpt-image-1-mini"
pytestmark = pytest.mark.filterwarnings("ignore::falstudio.client.errors.EndpointDeprecationWarning")


class Router(httpx.AsyncBaseTransport):
    """Routes fal's host names: ``refuse`` hosts fail to connect, ``answer_503`` hosts answer an nginx 503,
    the others are forwarded to the local server (sync runs under its ``/run``)."""

    def __init__(self, server: LocalServer, refuse: set[str], answer_503: frozenset[str] = frozenset()) -> None:
        self.server = server
        self.refuse = refuse
        self.answer_503 = answer_503
        self.seen: list[tuple[str, str, float | None]] = []  # (host, path, connect timeout)
        self._loopback = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.seen.append((host, request.url.path, request.extensions.get("timeout", {}).get("connect")))
        if host in self.refuse:
            raise httpx.ConnectError(f"[Errno 111] Connection refused ({host})", request=request)
        if host in self.answer_503:
            return httpx.Response(503, text="<html><center>nginx</center></html>", request=request)
        if host in ("127.0.0.1", "localhost"):
            return await self._loopback.handle_async_request(request)
        prefix = "/run" if host in ("fal.run", "falrun.com") else ""
        local = httpx.URL(self.server.url)
        url = request.url.copy_with(scheme="http", host=local.host, port=local.port, path=prefix + request.url.path)
        headers = request.headers.copy()
        headers["Host"] = url.netloc.decode()
        forwarded = httpx.Request(request.method, url, headers=headers, stream=request.stream)
        forwarded.extensions = request.extensions
        return await self._loopback.handle_async_request(forwarded)

    def hosts(self) -> list[str]:
        return [host for host, _, _ in self.seen]

    async def aclose(self) -> None:
        await self._loopback.aclose()


def _fal_client(server: LocalServer, router: Router, **options: object) -> Client:
    client = Client(server.key, transport=router, history=False, **options)  # type: ignore[arg-type]
    assert client.mode == "fal" and client.base_url == "https://queue.fal.run"
    return client


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    """A local server whose key has fal's key_id:key_secret form: keys for fal's hosts are checked for it."""
    with LocalServer(port=0, latency=0, concurrency=4, key="backup-test-id:backup-test-secret") as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_host_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAL_RUN_HOST", raising=False)
    monkeypatch.delenv("FAL_QUEUE_RUN_HOST", raising=False)


def test_a_refused_primary_falls_back_to_the_backup_domains(server: LocalServer) -> None:
    router = Router(server, refuse={"queue.fal.run", "fal.run"})
    with _fal_client(server, router) as client:
        result = client.subscribe(MINI, {"prompt": "a fox on the backup domain", "quality": "low"})
        assert result.images[0].width == 1024
        assert client.run(MINI, {"prompt": "a run on the backup domain", "quality": "low"}).images
    hosts = router.hosts()
    assert hosts[:2] == ["queue.fal.run", "queue.falrun.com"]  # the submit: primary first, then the backup
    assert "fal.run" in hosts and "falrun.com" in hosts  # the sync run the same way
    assert set(hosts) <= {"queue.fal.run", "queue.falrun.com", "fal.run", "falrun.com", "127.0.0.1"}
    # Connecting to a fal domain is capped at 5 s (the client's own timeout is 120 s), so a dead primary is left
    # quickly; other hosts keep the client's timeout.
    assert all(connect == 5.0 for host, _, connect in router.seen if "fal" in host)
    assert all(connect == 120.0 for host, _, connect in router.seen if host == "127.0.0.1")


def test_other_failures_of_the_primary_are_not_sent_to_the_backup(server: LocalServer) -> None:
    router = Router(server, refuse=set(), answer_503=frozenset({"queue.fal.run"}))
    retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
    with _fal_client(server, router, retry=retry) as client, pytest.raises(errors.ServerError):
        client.submit(MINI, {"prompt": "x"})
    assert router.hosts() == ["queue.fal.run", "queue.fal.run"]  # retried, but never on the backup


def test_when_both_are_unreachable_the_primary_s_failure_is_reported(server: LocalServer) -> None:
    router = Router(server, refuse={"queue.fal.run", "queue.falrun.com"})
    retry = RetryPolicy(max_attempts=1)
    with _fal_client(server, router, retry=retry) as client, pytest.raises(errors.NetworkError) as info:
        client.submit(MINI, {"prompt": "x"})
    assert "queue.fal.run" in str(info.value) and "falrun" not in info.value.message
    assert router.hosts() == ["queue.fal.run", "queue.falrun.com"]


def test_a_local_base_url_has_no_backup(server: LocalServer) -> None:
    router = Router(server, refuse=set())
    with Client(base_url=server.url, key=server.key, transport=router, history=False) as client:
        client.run(MINI, {"prompt": "x", "quality": "low"})
    assert set(router.hosts()) == {"127.0.0.1"}
