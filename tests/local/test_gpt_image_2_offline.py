"""GPT Image 2 offline: the official fal-client runs both endpoints against the local server, at any valid size,
with masks (``mask_url``); the engines draw exactly the size asked for; simulated time grows with the pixels."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from falstudio.endpoints import GptImage2EditRequest, GptImage2Request, get
from falstudio.endpoints.sizes import PRESET_PIXELS
from falstudio.local import LocalServer
from falstudio.local._runner import simulated_seconds
from falstudio.local.engines import edit, generate

fal_client = pytest.importorskip("fal_client")
fal_module = pytest.importorskip("fal_client.client")

T2I, EDIT = "openai/gpt-image-2", "openai/gpt-image-2/edit"


@pytest.fixture
def fal(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """fal-client with only its URL constants pointed at the local server (as in test_fal_client_compat)."""
    monkeypatch.setattr(fal_module, "QUEUE_URL_FORMAT", server.url + "/")
    monkeypatch.setattr(fal_module, "RUN_URL_FORMAT", server.url + "/run/")
    monkeypatch.setattr(fal_module, "REST_URL", server.url)
    monkeypatch.setattr(fal_module, "CDN_URL", server.url)
    client = fal_client.SyncClient(key=server.key)
    yield client
    client._client.close()


def _size_of(url: str) -> tuple[int, int]:
    return Image.open(io.BytesIO(httpx.get(url, timeout=30).content)).size


def test_fal_client_submit_status_result(fal: Any, wait_until: Callable[..., Any]) -> None:
    handle = fal.submit(T2I, {"prompt": "a lighthouse at dusk", "quality": "low"})
    done = wait_until(lambda: isinstance(s := handle.status(with_logs=True), fal_client.Completed) and s)
    assert done.error is None and any("Offline engine" in line["message"] for line in done.logs)
    out = fal.result(T2I, handle.request_id)
    image = out["images"][0]
    assert (image["width"], image["height"]) == (1024, 768)  # the default preset, landscape_4_3
    assert _size_of(image["url"]) == (1024, 768)


def test_fal_client_subscribe_with_a_custom_size_object(fal: Any) -> None:
    updates: list[Any] = []
    out = fal.subscribe(
        T2I,
        {
            "prompt": "a cabin by a lake",
            "image_size": {"width": 1536, "height": 864},
            "quality": "low",
            "num_images": 2,
        },
        with_logs=True,
        on_queue_update=updates.append,
    )
    assert [(i["width"], i["height"]) for i in out["images"]] == [(1536, 864)] * 2
    assert any(isinstance(u, fal_client.Completed) for u in updates)


def test_fal_client_edit_with_references_and_a_mask(fal: Any, tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.new("RGB", (1200, 800), (40, 90, 200)).save(photo)
    mask = tmp_path / "mask.png"
    alpha = Image.new("RGBA", (1200, 800), (0, 0, 0, 255))
    alpha.paste((0, 0, 0, 0), (0, 0, 600, 800))  # transparent = edit here (OpenAI's convention)
    alpha.save(mask)
    photo_url, mask_url = fal.upload_file(photo), fal.upload_file(mask)
    out = fal.subscribe(
        EDIT,
        {"prompt": "invert", "image_urls": [photo_url], "mask_url": mask_url, "image_size": "1536x1024"},
        with_logs=True,
    )
    image = out["images"][0]
    assert (image["width"], image["height"]) == (1536, 1024)
    pixels = np.asarray(Image.open(io.BytesIO(httpx.get(image["url"], timeout=30).content)).convert("RGB"), np.int16)
    left, right = pixels[100:900, 100:700].mean(axis=(0, 1)), pixels[100:900, 850:1400].mean(axis=(0, 1))
    assert abs(right - (40, 90, 200)).max() < 3  # outside the mask: untouched
    assert abs(left - (215, 165, 55)).max() < 3  # inside: inverted
    many = fal.run(EDIT, {"prompt": "sepia", "image_urls": [photo_url] * 16, "quality": "low"})
    assert many["images"][0]["width"] > 0


def test_invalid_sizes_are_refused_with_the_rule_and_the_nearest(fal: Any) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.run(T2I, {"prompt": "a fox", "image_size": {"width": 1000, "height": 600}})
    assert caught.value.status_code == 422
    assert "not a multiple of 16" in str(caught.value) and "1024x640" in str(caught.value)
    with pytest.raises(fal_client.FalClientHTTPError) as caught:
        fal.run(EDIT, {"prompt": "sepia", "image_urls": ["https://x.test/a.png"], "background": "transparent"})
    assert caught.value.status_code == 422 and "background" in str(caught.value)


@pytest.mark.parametrize(
    "size", [(1024, 640), (3840, 1280), (1280, 3840), (2880, 2880), (3840, 2160), (2160, 3840), (1536, 864)]
)
def test_the_engine_draws_exactly_the_size_asked_for(size: tuple[int, int]) -> None:
    request = GptImage2Request(
        prompt="mountains at dawn", image_size={"width": size[0], "height": size[1]}, quality="low"
    )
    [image] = generate(request, T2I)
    assert (image.width, image.height) == size == Image.open(io.BytesIO(image.data)).size


@pytest.mark.parametrize(("preset", "pixels"), sorted(PRESET_PIXELS.items()))  # pinned in test_gpt_image_2.py
def test_presets_are_drawn_at_fals_usual_pixels(preset: str, pixels: tuple[int, int]) -> None:
    [image] = generate(GptImage2Request(prompt="a meadow", image_size=preset, quality="low"), T2I)
    assert (image.width, image.height) == pixels


def test_edit_sizes() -> None:
    tall = Image.new("RGB", (600, 900), (90, 90, 90))
    [auto] = edit(GptImage2EditRequest(prompt="sepia", image_urls=["https://x.test/a.png"]), [tall])
    assert auto.width / auto.height == pytest.approx(600 / 900, rel=0.03)  # auto follows the input's shape
    assert auto.width % 16 == 0 and auto.height % 16 == 0 and auto.width * auto.height >= 655_360
    request = GptImage2EditRequest(prompt="sepia", image_urls=["https://x.test/a.png"], image_size="3840x2160")
    [big] = edit(request, [tall])
    assert (big.width, big.height) == (3840, 2160)


def test_simulated_time_grows_with_the_pixels() -> None:
    model = get(T2I).input_model
    seconds = [
        simulated_seconds(model.model_validate({"prompt": "ab", "quality": "high", "image_size": s}), "text-to-image")
        for s in ("square", "1024x1024", "1536x1024", "2560x1440", "3840x2160")
    ]
    assert seconds == sorted(seconds) and seconds[1] == 5.0
    assert seconds[2] == pytest.approx(6.5, abs=0.05)  # as for GPT Image 1's 1536x1024
    assert 15 < seconds[-1] < 25  # 4K: several times a megapixel, not eight times
    mini = get("fal-ai/gpt-image-1-mini").input_model
    assert simulated_seconds(mini.model_validate({"prompt": "a", "quality": "high"}), "text-to-image") == 5.0
