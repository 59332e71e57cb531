"""The shipped notebook 01 (quickstart), run with "Run All Cells" in JupyterLab in headless Chromium on the embedded
offline server: every cell finishes, none fails, and the widgets render their images. Notebook 03 (compare) runs so
in test_reader_view_browser.py, whose saved notebook is that run.

Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder) as ``notebook-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import MINUTE, Lab, chromium_page, images_shown, run_all, screenshot_dir

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def page(lab: Lab) -> Iterator[Page]:
    lab.add(NOTEBOOKS / "01-quickstart.ipynb")
    with chromium_page() as page:
        yield page


def test_quickstart_runs_in_jupyterlab(lab: Lab, page: Page) -> None:
    from playwright.sync_api import expect

    run_all(page, lab, "01-quickstart.ipynb")
    studio = page.locator(".fs-studio")
    expect(studio.get_by_text("Done", exact=True).first).to_be_visible(timeout=MINUTE)
    images_shown(page, ".fs-studio img", 1)
    expect(page.get_by_text("lighthouse.png 1024 x 768")).to_be_visible()  # GPT Image 2: landscape_4_3
    studio.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir(lab.root.parent / "shots") / "notebook-01-quickstart.png", full_page=True)
