"""Notebook 7 runs the shipped notebooks 01 (quickstart) and 03 (compare) with "Run All Cells" in headless Chromium:
every cell runs, none fails, the widgets render their images, and each reader view hides beside its live view.
Screenshots (light and dark) go to ``$FALSTUDIO_SCREENSHOTS`` as ``reader-notebook7-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import MINUTE, NOTEBOOK7_NOISE, Lab, chromium_page, images_shown, run_all, screenshot_dir, set_theme

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


def _both_themes(page: Page, widget: Locator, shots: Path, name: str) -> None:
    for theme, suffix in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        widget.scroll_into_view_if_needed()
        page.screenshot(path=shots / f"reader-notebook7-{name}-{suffix}.png")
    set_theme(page, "JupyterLab Light")


def test_quickstart_runs_in_notebook7(notebook7: Lab, shots: Path) -> None:
    from playwright.sync_api import expect

    notebook7.add(NOTEBOOKS / "01-quickstart.ipynb")
    with chromium_page(1280, 1500, ignore=NOTEBOOK7_NOISE) as page:
        run_all(page, notebook7, "01-quickstart.ipynb")
        studio = page.locator(".fs-studio")
        expect(studio.get_by_text("Done", exact=True).first).to_be_visible(timeout=MINUTE)
        images_shown(page, ".fs-studio img", 1)
        expect(page.get_by_text("lighthouse.png 1024 x 768")).to_be_visible()
        for reader in page.locator(".fs-reader").all():
            expect(reader).to_be_hidden()  # beside a live view
        _both_themes(page, studio, shots, "01")


def test_compare_notebook_runs_in_notebook7(notebook7: Lab, shots: Path) -> None:
    from playwright.sync_api import expect

    notebook7.add(NOTEBOOKS / "03-compare.ipynb")
    with chromium_page(1280, 1500, ignore=NOTEBOOK7_NOISE) as page:
        run_all(page, notebook7, "03-compare.ipynb")
        compare = page.locator(".fs-compare")
        expect(compare.get_by_text(re.compile(r"6 done"))).to_be_visible(timeout=MINUTE)
        images_shown(page, ".fs-compare img", 6)
        expect(page.get_by_text("comparison.html True")).to_be_visible()
        expect(page.locator(".fs-reader").first).to_be_hidden()
        _both_themes(page, compare, shots, "03")
