"""Loaded endpoints whose image fields are named oddly: a list of masks is drawn from its first mask (it used to
fail the offline job with a validation error), and an ``unmasked_image_url`` is an input image, not a mask.
Each case runs in a child under memory and time limits."""

from __future__ import annotations

from pathlib import Path

from ._bounded import run_bounded

ROOT = Path(__file__).resolve().parents[2]
_CASE = """
import sys
sys.path.insert(0, ROOT)
from falstudio.endpoints import spec_from_openapi
from falstudio.local._loaded import for_engines
from tests.openapi._documents import fal_document
URL, OTHER = "https://example.com/a.png", "https://example.com/b.png"
LIST = {"type": "array", "items": {"type": "string"}}

def mapped(properties, request):
    properties = {"prompt": {"type": "string"}, **properties}
    spec = spec_from_openapi(fal_document("acme/restyle/edit", "image-to-image", "Restyle", properties, ["prompt"]))
    m = for_engines(spec, spec.validate({"prompt": "sepia", **request}))
    roles = {n: f.role for n, f in spec.fields.items() if f.role not in ("", "prompt")}
    return dict(roles=roles, images=m.request.image_urls, mask=m.request.mask_image_url,
                fields=[m.image_field, m.mask_field], notes=m.notes)

report(
    masks=mapped({"image_urls": LIST, "mask_image_urls": LIST},
                 {"image_urls": [URL], "mask_image_urls": [OTHER, URL]}),
    unmasked=mapped({"unmasked_image_url": {"type": "string"}, "inpaint_mask_url": {"type": "string"}},
                    {"unmasked_image_url": URL, "inpaint_mask_url": OTHER}),
)
"""


def test_odd_image_and_mask_field_names_are_drawn_from_what_they_are() -> None:
    result = run_bounded(f"ROOT = {str(ROOT)!r}\n" + _CASE, memory=1024 * 1024 * 1024, seconds=60)
    masks = result["masks"]
    assert masks["roles"] == {"image_urls": "images", "mask_image_urls": "mask"}
    assert (masks["images"], masks["mask"]) == (["https://example.com/a.png"], "https://example.com/b.png")
    assert masks["fields"] == ["image_urls", "mask_image_urls"]
    assert masks["notes"] == ["mask_image_urls: only its first mask is used offline"]
    unmasked = result["unmasked"]
    assert unmasked["roles"] == {"unmasked_image_url": "images", "inpaint_mask_url": "mask"}
    assert (unmasked["images"], unmasked["mask"]) == (["https://example.com/a.png"], "https://example.com/b.png")
