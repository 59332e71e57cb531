"""The shipped notebooks 01 (quickstart) and 03 (compare), run with "Run All Cells" in JupyterLab in headless
Chromium on the embedded offline server: every cell finishes, none fails, and the widgets render their images.

Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder) as ``notebook-*.png``.
"""

from __future__ import annotations

import re
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
    lab.add(NOTEBOOKS / "01-quickstart.ipynb", NOTEBOOKS / "03-compare.ipynb")
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


def test_compare_notebook_runs_in_jupyterlab(lab: Lab, page: Page) -> None:
    from playwright.sync_api import expect

    run_all(page, lab, "03-compare.ipynb")
    compare = page.locator(".fs-compare")
    expect(compare.get_by_text(re.compile(r"6 done"))).to_be_visible(timeout=MINUTE)
    images_shown(page, ".fs-compare img", 6)
    expect(page.get_by_text("comparison.html True")).to_be_visible()
    compare.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir(lab.root.parent / "shots") / "notebook-03-compare.png", full_page=True)
