"""One JupyterLab and one Notebook 7 server for the whole session (each starts in a few seconds and is shared:
tests copy their notebooks in with ``lab.add(...)``), and one Chromium per test worker; kernels a test started are
shut down after it, but for the module's page (``lab_page``), whose kernels live as long as it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ._lab import Lab, chromium_page, close_chromium, jupyter_lab, require_browser

if TYPE_CHECKING:
    from playwright.sync_api import Page


class _ChromiumLivesInTheBrowserTier:
    """A test worker keeps one Chromium for its browser tests (``_lab.chromium``) and closes it before any other
    test: a started Playwright marks the thread's event loop as running, and kernels and clients use
    ``asyncio.run``. (The slow tiers run first: a worker runs its browser files together.)"""

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        if item.get_closest_marker("browser") is None:
            close_chromium()

    def pytest_sessionfinish(self) -> None:
        close_chromium()


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_ChromiumLivesInTheBrowserTier(), "falstudio-browser-chromium")


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
    """The session's JupyterLab; the kernels this test started are shut down after it, the theme it chose
    forgotten."""
    yield lab_server
    lab_server.shutdown_kernels()
    lab_server.forget_theme()


@pytest.fixture
def notebook7(notebook7_server: Lab) -> Iterator[Lab]:
    """The session's Notebook 7; the kernels this test started are shut down after it, the theme it chose
    forgotten."""
    yield notebook7_server
    notebook7_server.shutdown_kernels()
    notebook7_server.forget_theme()


@pytest.fixture(scope="module")
def lab_page(lab_server: Lab) -> Iterator[Page]:
    """One page in the session's JupyterLab for a module's tests that open the same notebook: a page load and a
    kernel start cost more than most checks. A test sets the viewport it needs and runs the cell again for new
    widgets (``run_first_cell``); the page's kernels are shut down after the module. Tests that use it take
    ``lab_server``, not ``lab`` (which shuts down every kernel after its test); the theme they chose is forgotten
    after the module."""
    try:
        with chromium_page(1280, 1200) as page:
            yield page
    finally:
        lab_server.shutdown_kernels()
        lab_server.forget_theme()
