"""``falstudio demo``: the README's main job, offline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from falstudio.cli import main


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")


def test_demo_writes_a_report_with_every_variation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--out", str(tmp_path), "--latency", "0", "--no-history"]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "report.html"
    assert f"report: {report}" in out
    assert "would cost ~$0.5217" in out and out.count("  done ") == 6  # GPT Image 2, quality x size
    parser = _Images()
    parser.feed(report.read_text(encoding="utf-8"))
    assert len(parser.sources) == 6
    assert all(src.startswith("data:image/") for src in parser.sources)  # self-contained: no links to the server


def test_demo_rejects_a_bad_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--endpoint", "fal-ai/gpt-image-1-mini/edits", "--latency", "0"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'fal-ai/gpt-image-1-mini/edit'" in err.lower() and "Traceback" not in err


def test_demo_explains_that_it_needs_a_text_to_image_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--endpoint", "fal-ai/gpt-image-1/edit-image", "--latency", "0"]) == 2
    err = capsys.readouterr().err
    assert "text-to-image" in err and err.count("\n") == 1


def test_demo_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "falstudio.cli", "demo", "--out", str(tmp_path), "--latency", "20", "--no-history"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        while "offline server" not in proc.stdout.readline():  # the sweep is running
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_under_a_budget_refuses_the_sweep_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path), "--latency", "0", "--no-history", "--budget", "0.10"]) == 1
    captured = capsys.readouterr()
    assert "these 6 requests are estimated at ~$0.5217 in all" in captured.err and "nothing was sent" in captured.err
    assert " done " not in captured.out and not (tmp_path / "report.html").exists()


def test_demo_names_a_malformed_falstudio_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FALSTUDIO_BUDGET", "lots")
    assert main(["demo", "--out", str(tmp_path), "--latency", "0", "--no-history"]) == 2
    err = capsys.readouterr().err
    assert "FALSTUDIO_BUDGET must be an amount in USD" in err and "Traceback" not in err
    monkeypatch.setenv("FALSTUDIO_BUDGET", "1.00")  # a rehearsal under the class's budget: it fits
    assert main(["demo", "--out", str(tmp_path), "--latency", "0", "--no-history"]) == 0
