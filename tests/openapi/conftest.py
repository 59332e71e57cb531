"""A fal-shaped OpenAPI service on loopback for every test here, with the loader pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from falstudio.testing import OpenAPIServer

from ._documents import documents


@pytest.fixture
def openapi(monkeypatch: pytest.MonkeyPatch) -> Iterator[OpenAPIServer]:
    """The service with every fixture document; ``FALSTUDIO_OPENAPI_URL`` points at it for this test."""
    with OpenAPIServer(documents()) as service:
        monkeypatch.setenv("FALSTUDIO_OPENAPI_URL", service.url)
        yield service
