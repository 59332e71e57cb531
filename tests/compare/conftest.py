"""Fixtures for the compare tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from falstudio.client import Client
from falstudio.local import LocalServer


@pytest.fixture
def client(server: LocalServer) -> Iterator[Client]:
    """A client of the session's local server, closed after the test."""
    c = Client(key=server.key, base_url=server.url)
    yield c
    c.close()
