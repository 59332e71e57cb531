"""Builders for recorder events and small images, shared by the history tests."""

from __future__ import annotations

import time
from typing import Any

from PIL import Image

from falstudio._internal.images import image_bytes
from falstudio.client.recorder import Finished, Submitted

ENDPOINT = "fal-ai/gpt-image-1.5"


def png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (48, 32)) -> bytes:
    return image_bytes(Image.new("RGB", size, color), "png")


def submitted(request_id: str, prompt: str = "a red fox", *, at: float | None = None, **extra: Any) -> Submitted:
    fields: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "request_id": request_id,
        "request": {"prompt": prompt},
        "base_url": "http://127.0.0.1:9",
        "mode": "local",
        "submitted_at": time.time() if at is None else at,
        "cost_estimate": "≤ $0.20",
        "cost_amount": "0.20",
    }
    fields.update(extra)
    return Submitted(**fields)


def finished(request_id: str, images: list[bytes] | None = None, **extra: Any) -> Finished:
    images = [png()] if images is None else images
    fields: dict[str, Any] = {
        "endpoint": ENDPOINT,
        "request_id": request_id,
        "state": "done",
        "finished_at": time.time(),
        "output": {"images": [{"url": f"http://127.0.0.1:9/files/{request_id}-{i}.png"} for i in range(len(images))]},
        "images": images,
        "queue_seconds": 0.5,
        "inference_seconds": 1.25,
    }
    fields.update(extra)
    return Finished(**fields)
