"""``falstudio serve`` in a real subprocess, and the argument parser."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from falstudio.cli import build_parser, main


def test_serve_prints_url_and_key_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    history = tmp_path / "history"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "FALSTUDIO_HISTORY_DIR": str(history)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "falstudio.cli", "serve", "--port", "0", "--latency", "0", "--concurrency", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url_line = proc.stdout.readline()
        key_line = proc.stdout.readline()
        assert "http://127.0.0.1:" in url_line, url_line + (proc.stderr.read() if proc.poll() is not None else "")
        url = url_line.strip().split(" at ")[-1]
        key = key_line.strip().removeprefix("key: ")
        r = httpx.post(
            f"{url}/run/fal-ai/gpt-image-1-mini",
            json={"prompt": "x", "quality": "low"},
            headers={"Authorization": f"Key {key}"},
            timeout=60,
        )
        assert r.status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert not history.exists()  # a server records nothing: a long `serve` does not grow the history
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_parser_options_and_validation(capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(["serve", "--port", "9000", "--latency", "0.5", "--fault-503", "0.1"])
    assert (args.port, args.latency, args.fault_503, args.host) == (9000, 0.5, 0.1, "127.0.0.1")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--fault-429", "2"])
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--concurrency", "0"])
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_serve_reports_a_busy_port(server: object, capsys: pytest.CaptureFixture[str]) -> None:
    port = server.port  # type: ignore[attr-defined]
    assert main(["serve", "--port", str(port), "--latency", "0"]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_serve_rejects_a_port_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--port", "70000"])
    assert "0-65535" in capsys.readouterr().err


def test_serve_names_a_bad_storage_dir(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_dir = os.path.join(str(tmp_path), "file")
    with open(not_a_dir, "w") as f:
        f.write("x")
    assert main(["serve", "--port", "0", "--storage-dir", os.path.join(not_a_dir, "sub")]) == 1
    err = capsys.readouterr().err
    assert "--storage-dir" in err and "Traceback" not in err
