"""One JupyterLab and one Notebook 7 server for the whole session (each starts in a few seconds and is shared:
tests copy their notebooks in with ``lab.add(...)``); kernels a test started are shut down after it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._lab import Lab, jupyter_lab, require_browser


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_browser()
    with jupyter_lab(tmp_path_factory.mktemp("lab"), []) as server:
        yield server


@pytest.fixture(scope="session")
def notebook7_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_browser()
    with jupyter_lab(tmp_path_factory.mktemp("notebook7"), [], app="notebook") as server:
        yield server


@pytest.fixture
def lab(lab_server: Lab) -> Iterator[Lab]:
    """The session's JupyterLab; the kernels this test started are shut down after it."""
    yield lab_server
    lab_server.shutdown_kernels()


@pytest.fixture
def notebook7(notebook7_server: Lab) -> Iterator[Lab]:
    """The session's Notebook 7; the kernels this test started are shut down after it."""
    yield notebook7_server
    notebook7_server.shutdown_kernels()
