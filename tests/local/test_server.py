"""LocalServer lifecycle, settings and the process-wide embedded server."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable

import httpx
import pytest

from falstudio.local import LocalServer, create_app, embedded_server
from falstudio.local import server as server_module


def test_start_stop_and_url() -> None:
    srv = LocalServer(port=0, latency=0)
    assert "stopped" in repr(srv)
    with pytest.raises(RuntimeError, match="not running"):
        _ = srv.url
    with srv:
        assert srv.running
        assert srv.url.startswith("http://127.0.0.1:") and not srv.url.endswith("/")
        assert srv.port > 0
        assert httpx.get(srv.url + "/").status_code == 200
        assert srv.key not in repr(srv)
    assert not srv.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{srv.port}/", timeout=2)
    srv.stop()  # idempotent


def test_keys_are_random_unless_given() -> None:
    a, b = LocalServer(), LocalServer()
    assert a.key != b.key and len(a.key) >= 20
    assert LocalServer(key="mine").key == "mine"


def test_settings_are_checked_and_live(make_server: Callable[..., LocalServer]) -> None:
    with pytest.raises(ValueError, match="latency"):
        LocalServer(latency=-1)
    with pytest.raises(ValueError, match="concurrency"):
        LocalServer(concurrency=0)
    srv = make_server(latency=0)
    srv.latency = 2.5
    assert srv.latency == 2.5 and srv.app.state.settings.latency == 2.5
    with pytest.raises(ValueError):
        srv.latency = -1
    srv.faults.rate_limit_429 = 0.5
    assert srv.app.state.settings.faults.rate_limit_429 == 0.5


def test_busy_port_is_a_clear_error(server: LocalServer) -> None:
    with pytest.raises(OSError):
        LocalServer(port=server.port).start()


def test_stop_with_open_streams_and_running_jobs_is_prompt() -> None:
    srv = LocalServer(port=0, latency=30, concurrency=1).start()
    api = httpx.Client(base_url=srv.url, headers={"Authorization": f"Key {srv.key}"}, timeout=30)
    sub = api.post("/fal-ai/gpt-image-1-mini", json={"prompt": "x"}).json()
    api.post("/fal-ai/gpt-image-1-mini", json={"prompt": "y"})
    opened = threading.Event()
    lines: list[str] = []

    def listen() -> None:
        try:
            with httpx.stream("GET", sub["status_url"] + "/stream", headers=api.headers, timeout=30) as r:
                opened.set()
                lines.extend(r.iter_lines())
        except httpx.HTTPError:
            pass

    thread = threading.Thread(target=listen)
    thread.start()
    assert opened.wait(10)
    srv.stop()
    thread.join(10)
    api.close()
    assert not thread.is_alive()


def test_create_app_exposes_settings() -> None:
    app = create_app(key="k", latency=0.5, concurrency=3)
    assert app.state.settings.key == "k"
    assert app.state.settings.concurrency == 3
    assert create_app().state.settings.key  # random key


def test_embedded_server_is_one_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(server_module.LATENCY_ENV)  # the suite runs it instant (tests/conftest.py): the default here
    server_module._stop_embedded()  # one an earlier test in this process started, with the suite's latency
    try:
        first = embedded_server()
        assert first.running and first.latency == 1.0 and first.concurrency == 2
        results: list[LocalServer] = []
        threads = [threading.Thread(target=lambda: results.append(embedded_server())) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(r is first for r in results)
        first.stop()
        second = embedded_server()  # restarted after a stop
        assert second.running and second is not first
    finally:
        server_module._stop_embedded()


def test_the_embedded_servers_latency_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert server_module.embedded_latency({}) == 1.0
    assert server_module.embedded_latency({"FALSTUDIO_LOCAL_LATENCY": " 0.25 "}) == 0.25
    for bad in ("fast", "-1", "nan", "inf"):
        with pytest.raises(ValueError, match=r"FALSTUDIO_LOCAL_LATENCY=.* set it to a number >= 0"):
            server_module.embedded_latency({"FALSTUDIO_LOCAL_LATENCY": bad})
    monkeypatch.setenv("FALSTUDIO_LOCAL_LATENCY", "0")
    server_module._stop_embedded()
    try:
        assert embedded_server().latency == 0.0
    finally:
        server_module._stop_embedded()


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are a Linux feature")
def test_engine_threads_render_at_a_lower_cpu_priority_than_the_request_handling(
    make_server: Callable[..., LocalServer],
) -> None:
    srv = make_server(concurrency=2)
    with httpx.Client(base_url=srv.url, headers={"Authorization": f"Key {srv.key}"}, timeout=30) as http:
        http.post("/run/fal-ai/gpt-image-1-mini", json={"prompt": "a red fox", "quality": "low"}).raise_for_status()
    engines = [t for t in threading.enumerate() if t.name.startswith("falstudio-engine")]
    assert engines
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    for thread in engines:
        assert thread.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(19, own + 10)
