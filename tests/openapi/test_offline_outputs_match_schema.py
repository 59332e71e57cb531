"""An endpoint typed from fal's schema answers offline with every field its output schema requires: typed
placeholders (listed in ``offline_placeholders``), so code reading ``result["seed"]`` works offline as on fal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from falstudio.client import Client
from falstudio.local import LocalServer
from falstudio.testing import OpenAPIServer

from ._documents import REF, _prompt, fal_document

SEEDISH = "test-org/seedish"
OUTPUT: dict[str, Any] = {
    "title": "SeedishOutput",
    "type": "object",
    "properties": {
        "images": {"title": "Images", "type": "array", "items": {"$ref": f"{REF}ImageFile"}},
        "seed": {"title": "Seed", "type": "integer", "description": "The seed used."},
        "description": {"title": "Description", "type": "string", "description": "What the model said."},
        "has_nsfw_concepts": {"title": "Nsfw", "type": "array", "items": {"type": "boolean"}},
        "timings": {
            "title": "Timings",
            "type": "object",
            "properties": {"inference": {"type": "number"}, "note": {"type": "string"}},
            "required": ["inference"],
        },
        "mode": {"title": "Mode", "enum": ["fast", "slow"], "type": "string"},
        "maybe": {"title": "Maybe", "type": "string"},
    },
    "required": ["images", "seed", "description", "has_nsfw_concepts", "timings", "mode"],
}
INPUT = {"prompt": _prompt(), "seed": {"anyOf": [{"type": "integer"}, {"type": "null"}], "title": "Seed"}}


@pytest.fixture
def client(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    document = fal_document(SEEDISH, "text-to-image", "Seedish", INPUT, ["prompt"], output=OUTPUT)
    with OpenAPIServer({SEEDISH: document}) as service:
        monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", service.url)
        with Client(server.key, base_url=server.url, history=False) as c:
            yield c


def test_every_required_output_field_is_there_typed_and_marked(client: Client) -> None:
    result = client.subscribe(SEEDISH, {"prompt": "a fox"}, with_logs=True)
    assert isinstance(result["seed"], int) and result.get("seed") == result["seed"]
    assert "offline" in result["description"] and isinstance(result["has_nsfw_concepts"][0], bool)
    assert isinstance(result["timings"]["inference"], float) and "note" not in result["timings"]
    assert result["mode"] == "fast" and "maybe" not in result  # optional fields stay out
    assert sorted(result["offline_placeholders"]) == sorted(
        ["seed", "description", "has_nsfw_concepts", "timings", "mode"]
    )
    assert any("Offline placeholders" in line.message for line in result.logs)
    again = client.subscribe(SEEDISH, {"prompt": "a fox", "seed": 1234})
    assert again["seed"] == 1234  # a seed the request set is echoed, as fal does
