"""A local server's temporary storage goes away however its process ends: SIGTERM and SIGHUP (after which the
signal does what it did before: the previous handler runs, or the process dies of it), and SIGKILL (the next
server sweeps folders whose process is gone). Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from falstudio.local import _tempdirs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CHILD = textwrap.dedent(
    """
    import pathlib, signal, sys, time
    mode, marker = sys.argv[1], pathlib.Path(sys.argv[2])
    if mode == "chained":
        def previous(number, frame):
            marker.write_text(f"previous handler saw {number}")
            raise SystemExit(3)
        for name in ("SIGTERM", "SIGHUP"):
            signal.signal(getattr(signal, name), previous)
    elif mode == "ignored":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    import httpx
    from falstudio.local import LocalServer
    server = LocalServer(port=0, latency=0).start()
    httpx.post(server.url + "/files/upload", content=b"x" * 1000, headers={"Authorization": f"Key {server.key}"})
    print(server.app.state.backend.storage.root, flush=True)
    time.sleep(120)
    """
)


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[object]:
    """``spawn(mode)``: a process running a LocalServer with its temp dir under ``tmp_path``; ``(proc, folder)``."""
    procs: list[subprocess.Popen[str]] = []
    env = {**os.environ, "TMPDIR": str(tmp_path)}

    def start(mode: str = "default") -> tuple[subprocess.Popen[str], Path]:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, mode, str(tmp_path / "marker")], stdout=subprocess.PIPE, text=True, env=env
        )
        procs.append(proc)
        assert proc.stdout is not None
        folder = Path(proc.stdout.readline().strip())
        assert folder.parent == tmp_path and folder.name.startswith(f"falstudio-files-{proc.pid}-")
        assert any(folder.iterdir()), "the upload should have stored a file"
        return proc, folder

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_the_signal_removes_the_folder_then_ends_the_process_as_before(spawn: object, signame: str) -> None:
    proc, folder = spawn()  # type: ignore[operator]
    proc.send_signal(getattr(signal, signame))
    assert proc.wait(30) == -getattr(signal, signame)  # died of the signal, as without falstudio
    assert not folder.exists()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
def test_a_previous_handler_still_runs(spawn: object, tmp_path: Path, signame: str) -> None:
    proc, folder = spawn("chained")  # type: ignore[operator]
    proc.send_signal(getattr(signal, signame))
    assert proc.wait(30) == 3
    assert (tmp_path / "marker").read_text() == f"previous handler saw {int(getattr(signal, signame))}"
    assert not folder.exists()  # the handler exited: the exit hook cleaned up


def test_an_ignored_signal_stays_ignored(spawn: object) -> None:
    proc, folder = spawn("ignored")  # type: ignore[operator]
    proc.send_signal(signal.SIGTERM)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(1)
    assert folder.exists()  # still serving


def test_folders_of_killed_processes_are_swept_by_the_next_server(spawn: object, tmp_path: Path) -> None:
    killed, stale = spawn()  # type: ignore[operator]
    killed.kill()
    killed.wait(30)
    assert stale.exists()  # SIGKILL: nobody could clean up
    alive, live_folder = spawn()  # type: ignore[operator]
    assert not stale.exists() and live_folder.exists()
    unrelated = tmp_path / "falstudio-files-notapid"
    unrelated.mkdir()
    assert _tempdirs.sweep_stale(tmp_path) == []  # live servers' and unknown folders are left alone
    assert live_folder.exists() and unrelated.exists()
    alive.terminate()
    alive.wait(30)


def test_a_server_started_off_the_main_thread_installs_no_handler(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import signal, threading
        from falstudio.local import LocalServer
        servers = []
        worker = threading.Thread(target=lambda: servers.append(LocalServer(port=0, latency=0).start()))
        worker.start()
        worker.join()
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, servers[0].running)
        servers[0].stop()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]  # Python allows handlers only from the main thread
    assert not list(tmp_path.glob("falstudio-files-*"))  # stop() still cleaned up
