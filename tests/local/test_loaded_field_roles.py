"""The offline server finds a loaded endpoint's input images and mask by what the fields are (``spec.fields``),
whatever fal named them: an edit endpoint with ``reference_image_urls`` is drawn from those images."""

from __future__ import annotations

from falstudio.endpoints import spec_from_openapi
from falstudio.local._loaded import for_engines

from ..openapi._documents import fal_document

URL = "https://example.com/a.png"


def _spec(properties: dict[str, dict[str, object]]):  # type: ignore[no-untyped-def]
    return spec_from_openapi(fal_document("acme/restyle/edit", "image-to-image", "Restyle", properties, ["prompt"]))


def test_input_images_and_mask_by_role_not_by_one_name() -> None:
    spec = _spec(
        {
            "prompt": {"type": "string"},
            "reference_image_urls": {"type": "array", "items": {"type": "string"}},
            "mask_image_url": {"type": "string"},
            "strength": {"type": "number"},
        }
    )
    assert [n for n, f in spec.fields.items() if f.role] == ["prompt", "reference_image_urls", "mask_image_url"]
    request = spec.validate({"prompt": "sepia", "reference_image_urls": [URL], "mask_image_url": URL, "strength": 1})
    mapped = for_engines(spec, request)
    assert mapped.request.image_urls == [URL] and mapped.request.mask_image_url == URL
    assert (mapped.image_field, mapped.mask_field) == ("reference_image_urls", "mask_image_url")
    assert mapped.notes == ["Ignored offline (the engine cannot act on them): strength"]


def test_with_no_image_given_errors_point_at_the_endpoints_own_image_field() -> None:
    spec = _spec({"prompt": {"type": "string"}, "source_image_url": {"type": "string"}, "mask_url": {"type": "string"}})
    mapped = for_engines(spec, spec.validate({"prompt": "sepia"}))
    assert mapped.request.image_urls == [] and (mapped.image_field, mapped.mask_field) == (
        "source_image_url",
        "mask_url",
    )
