"""fal's Platform API, fal-shaped, on loopback for the tests here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._fal_platform import FalPlatform


@pytest.fixture
def fal_platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[FalPlatform]:
    """The fake; ``FALSTUDIO_PLATFORM_URL`` points at it for this test (replies checked against fal's spec)."""
    fake = FalPlatform()
    monkeypatch.setenv("FALSTUDIO_PLATFORM_URL", fake.url)
    try:
        yield fake
    finally:
        fake.close()
    assert not fake.problems, "\n".join(fake.problems)
