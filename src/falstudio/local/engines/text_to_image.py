"""Offline text-to-image: a deterministic landscape painted from the prompt's words.

Same request, same bytes: the seed is a hash of the endpoint and the fields that shape the picture.
Image ``i`` of a request is the same picture whatever ``num_images`` is, and differs from image ``j``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from falstudio import endpoints
from falstudio.endpoints import RequestModel, sizes

from . import _prompt, _scene
from ._output import GeneratedImage, LogFn, add_mark, encode, no_log, scaled_log

DETAIL = {"low": 0, "medium": 1, "auto": 1, "high": 2}


def as_request(request: RequestModel | Mapping[str, Any], endpoint_id: str) -> RequestModel:
    """``request`` validated against ``endpoint_id``'s model (dicts are validated, models pass through)."""
    if isinstance(request, RequestModel):
        return request
    return endpoints.get(endpoint_id).validate(request)


def output_size(image_size: Any, fallback: tuple[int, int] = (1024, 1024)) -> tuple[int, int]:
    """Pixels for an ``image_size`` value (``"WxH"``, ``{width, height}``, a preset as fal's usual pixels);
    ``auto`` gives ``fallback``."""
    return sizes.dimensions(image_size) or fallback


def seed_of(endpoint_id: str, fields: Mapping[str, Any], index: int) -> int:
    text = json.dumps({"endpoint": endpoint_id, **fields, "index": index}, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def generate(
    request: RequestModel | Mapping[str, Any], endpoint_id: str, *, log: LogFn = no_log
) -> list[GeneratedImage]:
    """Paint ``request.num_images`` pictures for a text-to-image request."""
    req = as_request(request, endpoint_id)
    prompt = str(getattr(req, "prompt", ""))
    size = output_size(getattr(req, "image_size", "auto"))
    quality = str(getattr(req, "quality", "auto"))
    transparent = getattr(req, "background", "auto") == "transparent"
    output_format = str(getattr(req, "output_format", "png"))
    count = int(getattr(req, "num_images", 1))

    reading = _prompt.read(prompt)
    drawn = sorted(_prompt.with_defaults(reading))
    log(
        f"Offline engine: {reading.sky} sky, {reading.ground} ground"
        + (f", drawing {', '.join(drawn)}" if drawn else ""),
        0.0,
    )
    if reading.not_drawn:
        log(f"Not drawn offline (no picture for these words): {', '.join(reading.not_drawn[:12])}", 0.0)
    fields = {"prompt": prompt, "size": size, "quality": quality, "transparent": transparent}
    images = []
    for i in range(count):
        step = scaled_log(log, i / count, 1 / count)
        label = f"image {i + 1}/{count}: " if count > 1 else ""
        picture = _scene.render(
            reading,
            size,
            DETAIL.get(quality, 1),
            transparent,
            seed_of(endpoint_id, fields, i),
            lambda message, progress, label=label, step=step: step(label + message, progress * 0.9),
        )
        add_mark(picture)
        step(f"{label}Encoding {output_format} ({size[0]}x{size[1]})", 0.95)
        images.append(encode(picture, output_format, f"{prompt[:200]} ({endpoint_id}, quality {quality})"))
    log(f"Done: {count} image{'s' if count > 1 else ''}", 1.0)
    return images
