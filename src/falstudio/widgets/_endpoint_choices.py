"""Which endpoints the Studio offers: the picker's entries, the edit endpoint that matches another, and the
endpoint and request an image falstudio saved names."""

from __future__ import annotations

import os
from typing import Any

from ..endpoints import REGISTRY, EndpointSpec, specs
from ..endpoints.lifecycle import STATUSES

OTHER = "\x00other"  # the picker's "Other endpoint…" entry (no endpoint id looks like it)


def picker_options() -> list[tuple[str, str]]:
    """``(label, endpoint id)`` for the endpoint picker: live endpoints first (registered, then loaded from fal's
    schema); others keep their place, marked; last, the "Other endpoint…" entry."""
    ordered = sorted(specs(), key=lambda s: STATUSES.index(s.status_on()))
    options = [
        (f"{s.title} — {s.id}" + ("" if s.status_on() == "active" else f" ({s.status_on()})"), s.id) for s in ordered
    ]
    return [*options, ("Other endpoint… (any fal image endpoint)", OTHER)]


def edit_endpoint_for(spec: EndpointSpec) -> EndpointSpec | None:
    """The image-edit endpoint of the same model and billing as ``spec`` (``spec`` itself if it edits): for an
    endpoint typed from fal's schema, a loaded edit endpoint of the same fal app (``owner/app/...``)."""
    if spec.kind == "image-edit":
        return spec
    app = spec.id.split("/")[:2]
    for other in specs():
        if other.kind != "image-edit" or other.is_byok != spec.is_byok:
            continue
        if other.prices == spec.prices if spec.prices is not None else other.id.split("/")[:2] == app:
            return other
    return None


def request_from_image(source: str | os.PathLike[str] | bytes | bytearray | memoryview) -> tuple[str, dict[str, Any]]:
    """The endpoint and request written into an image falstudio saved."""
    from ..metadata import read_metadata

    data = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    what = "this image" if isinstance(data, bytes) else str(source)
    info = read_metadata(data)
    if info is None:
        raise ValueError(f"{what} has no falstudio metadata (it was not saved by falstudio, or it was stripped)")
    if info.kind != "image" or not info.endpoint:
        raise ValueError(f"{what} is a comparison grid; load one of its images (Compare.export_folder writes them)")
    if info.endpoint not in REGISTRY:
        raise ValueError(f"{what} was made with {info.endpoint}, which this Studio does not offer")
    return info.endpoint, info.loadable_request()
