"""The local server under slow and surplus clients, in a child process with few file descriptors and bounded
memory: it keeps answering new clients, drops the slow ones, and logs one line per kind of trouble."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from ._bounded import run_bounded, start_bounded

_SERVER = """
import sys
from falstudio.local import LocalServer, _guard
_guard.HEADER_SECONDS = {header}
_guard.BODY_SECONDS = {body}
_guard._CHECK_SECONDS = 0.1  # a slow client is dropped within a tenth of a second of its time, not a second
server = LocalServer(latency=0).start()
report(url=server.url, limit=_guard.max_connections(), key=server.key)
sys.stdout.flush()
sys.stdin.read()  # until the test closes it
server.stop()
"""


def test_slow_clients_do_not_lock_out_new_ones_nor_flood_the_log() -> None:
    child = start_bounded(_SERVER.format(header=3.0, body=3.0), files=256)
    held: list[socket.socket] = []
    try:
        assert child.stdout is not None
        import json

        info = json.loads(child.stdout.readline())
        url, limit = info["url"], info["limit"]
        assert limit < 256 // 2
        host, port = url.removeprefix("http://").split(":")
        for i in range(limit + 150):  # more slow clients than the server keeps, dripping their headers
            s = socket.create_connection((host, int(port)), timeout=5)
            s.sendall(b"POST /fal-ai/gpt-image-1-mini HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"")
            held.append(s)
        start = time.monotonic()
        reply = httpx.get(f"{url}/", timeout=30)  # a new client while they last
        assert reply.status_code == 200
        assert time.monotonic() - start < 15
        deadline = time.monotonic() + 10  # the slow ones are dropped at the latest past the header time (3 s)
        dropped = 0
        for s in held:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                dropped += s.recv(1) == b""
            except (TimeoutError, ConnectionError):
                pass
        assert dropped >= len(held) // 2, dropped
        assert httpx.get(f"{url}/", timeout=30).status_code == 200
    finally:
        for s in held:
            s.close()
        _, stderr = child.communicate("", timeout=60)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert len(stderr) < 5_000 and len(lines) <= 8, stderr[-3000:]


def test_a_full_connection_pool_is_reported_as_such() -> None:
    from falstudio.client.errors import network_error

    error = network_error(httpx.PoolTimeout("no connection"), "http://127.0.0.1:9/fal-ai/x?token=abc", timeout=5.0)
    text = str(error)
    assert "connection pool was full" in text and "nothing was sent" in text
    assert "could not reach" not in text and "check the network" not in text and "token=abc" not in text


_UP = """
from falstudio.local import LocalServer
server = LocalServer(latency=0).start()
print("up", flush=True)
import time
time.sleep(120)
"""


def test_folders_of_killed_servers_are_swept_even_before_they_are_reaped(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    killed = [
        subprocess.Popen([sys.executable, "-c", _UP], env=env, stdout=subprocess.PIPE, text=True) for _ in range(3)
    ]
    for child in killed:  # all three up at once (each start sweeps only folders of ended processes)
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
    for child in killed:
        os.kill(child.pid, signal.SIGKILL)  # not reaped: a zombie until waited for; os.kill(pid, 0) still works
    for child in killed:
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, and left unreaped
    assert len(list(tmp_path.glob("falstudio-files-*"))) == 3
    result = run_bounded(
        """
        import os
        from falstudio.local import LocalServer
        server = LocalServer(latency=0).start()
        report(left=sorted(os.listdir(os.environ["TMPDIR"])), pid=os.getpid())
        server.stop()
        """,
        env={"TMPDIR": str(tmp_path)},
    )
    assert [name.split("-")[2] for name in result["left"]] == [str(result["pid"])]
    for child in killed:
        child.wait(10)


def test_a_body_sent_too_slowly_is_dropped_and_said_once() -> None:
    import json

    child = start_bounded(_SERVER.format(header=3.0, body=1.0))
    try:
        assert child.stdout is not None
        info = json.loads(child.stdout.readline())
        url = info["url"]
        host, port = url.removeprefix("http://").split(":")
        slow = []
        for _ in range(3):
            s = socket.create_connection((host, int(port)), timeout=10)
            s.sendall(
                b"POST /fal-ai/gpt-image-1-mini HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + f"Authorization: Key {info['key']}\r\n".encode()
                + b'Content-Length: 1000\r\n\r\n{"prompt": '
            )
            slow.append(s)
        for s in slow:  # closed past the body time (1 s here), without an answer
            s.settimeout(20)
            assert s.recv(100) == b""
            s.close()
        assert httpx.get(f"{url}/", timeout=30).status_code == 200
    finally:
        _, stderr = child.communicate("", timeout=60)
    said = [line for line in stderr.splitlines() if "request body" in line]
    assert len(said) == 1, stderr[-2000:]
    assert "Traceback" not in stderr
