"""Hand-written rows against fal's schema: each registered GPT Image model is compared, field by field, with the
model built from a fixture document of the same endpoint (written from the shared notes in fal's shape), so a
change on either side shows up here. The only accepted differences are listed below, with why."""

from __future__ import annotations

import copy

import pytest

from falstudio.endpoints import REGISTRY, UnknownEndpointError, get, refresh, spec_from_openapi
from falstudio.endpoints.drift import differences, drift
from falstudio.testing import OpenAPIServer

from ._documents import GPT_IMAGE

# (field, fact, hand-written value, fal's value) -> why the hand-written row is deliberately stricter.
INTENDED = {
    ("prompt", "max_length", 32000, None): "OpenAI's 32,000-character limit, which fal does not declare",
    ("prompt", "min_length", 1, None): "an empty prompt is refused before anything is sent",
    ("image_urls", "min_length", 1, None): "an edit needs at least one image",
    ("image_urls", "max_length", 16, None): "OpenAI accepts at most 16 input images; fal declares no limit",
}


def _intended(line: str) -> bool:
    return any(
        line == f"{f}.{fact}: hand-written {mine!r}, fal's schema {theirs!r}" for f, fact, mine, theirs in INTENDED
    )


@pytest.mark.parametrize("endpoint_id", sorted({*REGISTRY, *GPT_IMAGE}))
def test_hand_written_model_matches_fals_schema(endpoint_id: str) -> None:
    if endpoint_id not in GPT_IMAGE:
        pytest.skip(f"no fixture document for {endpoint_id}: add one to tests/openapi/_documents.py from fal's schema")
    if endpoint_id not in REGISTRY:
        pytest.skip(f"{endpoint_id} has a fixture document but no hand-written row in this tree yet")
    derived = spec_from_openapi(GPT_IMAGE[endpoint_id], endpoint_id)
    found = [d for d in differences(REGISTRY[endpoint_id].input_model, derived.input_model) if not _intended(d)]
    assert found == [], f"{endpoint_id}: the hand-written model and fal's schema disagree:\n  " + "\n  ".join(found)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda p: p["quality"].update(default="high"), "quality.default: hand-written 'auto', fal's schema 'high'"),
        (lambda p: p["num_images"].update(maximum=8), "num_images.le: hand-written 4, fal's schema 8"),
        (lambda p: p["background"]["enum"].remove("transparent"), "background.enum"),
        (lambda p: p.update(seed={"type": "integer"}), "seed: only in fal's schema"),
        (lambda p: p.pop("sync_mode"), "sync_mode: only in the hand-written model"),
        (lambda p: p["num_images"].update(type="number"), "num_images.types: hand-written ('integer',)"),
    ],
)
def test_drift_is_caught(edit: object, expected: str) -> None:
    """The comparison is not blind: each kind of change fal could make to a schema is reported."""
    endpoint_id = "fal-ai/gpt-image-1-mini"
    document = copy.deepcopy(GPT_IMAGE[endpoint_id])
    edit(document["components"]["schemas"]["GptImage1MiniInput"]["properties"])  # type: ignore[operator]
    found = differences(REGISTRY[endpoint_id].input_model, spec_from_openapi(document, endpoint_id).input_model)
    assert any(line.startswith(expected) for line in found), found


def test_required_fields_are_compared() -> None:
    endpoint_id = "fal-ai/gpt-image-1-mini/edit"
    document = copy.deepcopy(GPT_IMAGE[endpoint_id])
    document["components"]["schemas"]["GptImage1MiniEditInput"]["required"] = ["prompt"]
    found = differences(REGISTRY[endpoint_id].input_model, spec_from_openapi(document, endpoint_id).input_model)
    assert "image_urls.required: hand-written True, fal's schema False" in found


def test_drift_against_fals_current_schema(openapi: OpenAPIServer) -> None:
    """``drift(id)`` compares a registered row with fal's schema as the service serves it today."""
    assert [line for line in drift("fal-ai/gpt-image-1.5") if not _intended(line)] == []
    openapi.documents["fal-ai/gpt-image-1.5"]["components"]["schemas"]["GptImage15Input"]["properties"]["quality"][
        "enum"
    ].append("xhigh")
    refresh("fal-ai/gpt-image-1.5")
    assert any(line.startswith("quality.enum: hand-written") for line in drift("fal-ai/gpt-image-1.5"))
    assert get("fal-ai/gpt-image-1.5") is REGISTRY["fal-ai/gpt-image-1.5"]  # the hand-written row stays in charge
    with pytest.raises(UnknownEndpointError, match="registered endpoint"):
        drift("test-org/pixel-flow")
