"""No secret in any file falstudio writes: a BYOK request with an OpenAI key, FAL_KEY set, then every way of
writing an image or an export; each written file's bytes are searched for the keys (UTF-8 and UTF-16)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import falstudio as fs
from falstudio.client import Client
from falstudio.local import LocalServer
from falstudio.widgets.compare import Compare
from falstudio.widgets.gallery import Gallery
from falstudio.widgets.job import JobView

BYOK = "fal-ai/gpt-image-1/text-to-image/byok"
OPENAI_KEY = "sk-test-NEVER-IN-A-FILE-0123456789abcdef"
FAL_KEY = "0d9c3a52-1b7e-4f43-9a55-6f2b8c1d0e7f:3b5d7f9a1c3e5f7b9d1f3a5c7e9b1d3f"


def needles() -> list[bytes]:
    out = []
    for secret in (OPENAI_KEY, FAL_KEY, FAL_KEY.split(":")[1]):
        for encoding in ("utf-8", "utf-16-be", "utf-16-le"):
            out.append(secret.encode(encoding))
    return out


def static_view(widget: Any) -> str:
    """What a saved notebook keeps of a widget beside its state: its static HTML (the reader view) and its text."""
    bundle = widget._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    return str(data["text/html"]) + str(data["text/plain"])


def test_no_secret_reaches_any_written_file(
    server: LocalServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAL_KEY", FAL_KEY)  # set, but the client talks to the local server with its own key
    history_dir = tmp_path / "history"
    monkeypatch.setenv("FALSTUDIO_HISTORY_DIR", str(history_dir))
    out = tmp_path / "out"
    request = {"prompt": "a fox in the snow", "quality": "low", "openai_api_key": OPENAI_KEY}
    with Client(base_url=server.url, key=server.key) as client:
        result = client.subscribe(BYOK, request)  # BYOK text-to-image answers PNG: .jpg and .webp convert it
        for suffix in (".png", ".jpg", ".webp"):
            result.images[0].save(out / f"save{suffix}")
        gallery = Gallery(save_dir=out / "gallery")
        gallery.add_result(result)
        gallery.tiles[0].save()  # the gallery's Save button
        job = JobView.submit(client, BYOK, request).wait(60)
        for name, widget in (("gallery", gallery), ("job", job)):
            (out / f"reader-{name}.html").write_text(static_view(widget))
        job.close()
        gallery.close()
        assert fs.read_metadata(out / "save.webp").request["openai_api_key"] == "***"  # type: ignore[union-attr]
        fs.history().export(out / "history-export")
        compare = Compare(fs.sweep(request, endpoint=BYOK, quality=["low", "medium"]), client=client)
        compare.run(confirm=True)
        compare.wait(120)
        compare.set_favourite(1)
        compare.export_png(out / "grid.png")
        compare.export_folder(out / "compare-folder")
        compare.export_html(out / "compare.html")
        (out / "reader-compare.html").write_text(static_view(compare))
        compare.close()
    written = [p for p in [*out.rglob("*"), *history_dir.rglob("*")] if p.is_file()]
    kinds = {p.suffix for p in written}
    assert {".png", ".jpg", ".webp", ".json", ".csv", ".html"} <= kinds and len(written) >= 15
    for path in written:
        data = path.read_bytes()
        for needle in needles():
            assert needle not in data, f"a secret is in {path}"
