"""A comparison as files: one labelled grid picture (PNG), or a folder of the full images plus manifests.

Every image carries how it was made (:mod:`falstudio.metadata`); the grid PNG carries the sweep (its base request,
axes and each tile's request id). Secrets never go into either.
"""

from __future__ import annotations

import io
import os
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from ...metadata import ImageMetadata, build, embed
from ...sweep import ENDPOINT, Job, Sweep
from ._grid_png import TILE_PX, GridPicture, render_grid


def first_image(job: Job) -> Image.Image | None:
    """The first output image of a finished job at full size, or None (none, or it cannot be fetched)."""
    images = getattr(job.result, "images", None) or []
    if job.state != "done" or not images:
        return None
    try:
        image: Image.Image = images[0].to_pil()
    except Exception:  # an expired URL or a dead server: the tile says "no image"
        return None
    return image


def grid_picture(
    variations: Sweep,
    jobs: Sequence[Job],
    *,
    favourites: Collection[int],
    mode: str | None,
    title: str,
    tile_px: int = TILE_PX,
) -> GridPicture:
    images = {job.variation.index: first_image(job) for job in jobs}
    return render_grid(variations, jobs, images, favourites=favourites, title=title, mode=mode, tile_px=tile_px)


def export_png(
    path: str | os.PathLike[str],
    variations: Sweep,
    jobs: Sequence[Job],
    *,
    favourites: Collection[int] = (),
    mode: str | None = None,
    title: str = "falstudio comparison",
    tile_px: int = TILE_PX,
) -> Path:
    """Write the labelled grid to ``path`` (``.png`` added when it has no suffix); returns the path."""
    target = Path(path).expanduser()
    if not target.suffix:
        target = target.with_suffix(".png")
    if target.suffix.lower() != ".png":
        raise ValueError(f"export_png writes PNG files; got {target.name!r} (use a .png name)")
    picture = grid_picture(variations, jobs, favourites=favourites, mode=mode, title=title, tile_px=tile_px)
    buffer = io.BytesIO()
    picture.image.save(buffer, "PNG")
    data = embed(buffer.getvalue(), grid_metadata(variations, jobs, favourites, mode))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def export_folder(
    path: str | os.PathLike[str],
    variations: Sweep,
    jobs: Sequence[Job],
    *,
    favourites: Collection[int] = (),
    mode: str | None = None,
) -> Path:
    """Every variation's full images (how each was made inside) plus ``manifest.json`` and ``manifest.csv``."""
    from ...history import ExportItem, write_export

    items = []
    for job in jobs:
        v = job.variation
        images, problem = _job_images(job, mode)
        row: dict[str, Any] = {
            "index": v.index,
            "favourite": v.index in favourites,
            ENDPOINT: v.endpoint,
            **{k: val for k, val in v.params.items() if k != ENDPOINT},
            "state": job.state,
            "request_id": job.request_id,
            "cost_estimate": str(v.cost),
            "error_type": job.error_type,
            "error": job.error or problem,
            "request": v.request.redacted(),
        }
        items.append(ExportItem(f"{v.index:02d}-{v.label()}", row, images))
    return write_export(path, items, kind="compare")


def grid_metadata(
    variations: Sweep, jobs: Sequence[Job], favourites: Collection[int], mode: str | None
) -> ImageMetadata:
    return build(
        endpoint=", ".join(variations.endpoints),
        request=dict(variations.base_fields),
        mode=mode,
        cost_estimate=variations.cost,
        kind="grid",
        axes={k: list(v) for k, v in variations.axes.items()},
        variations=[
            {
                "index": j.variation.index,
                "endpoint": j.variation.endpoint,
                "params": dict(j.variation.params),
                "state": j.state,
                "request_id": j.request_id,
                "favourite": j.variation.index in favourites,
            }
            for j in jobs
        ],
    )


def _job_images(job: Job, mode: str | None) -> tuple[list[tuple[bytes, ImageMetadata | None]], str | None]:
    result = job.result
    images = getattr(result, "images", None) or []
    if job.state != "done":
        return [], None
    out: list[tuple[bytes, ImageMetadata | None]] = []
    for index, image in enumerate(images):
        try:
            data = image.bytes()
        except Exception as exc:  # the server is gone or the URL expired: say so in the manifest
            return out, f"image {index} could not be fetched: {exc}"
        describe = getattr(image, "metadata", None)
        info = describe() if callable(describe) else None
        if info is None:
            info = build(
                endpoint=job.variation.endpoint,
                request=job.variation.request,
                request_id=job.request_id,
                mode=mode,
                index=index,
                count=len(images),
            )
        out.append((data, info))
    return out, None
