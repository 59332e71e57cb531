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

from ._lab import MINUTE, Lab, chromium_page, screenshot_dir

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ALL_CODE_CELLS_RAN = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')];
  return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""


@pytest.fixture
def page(lab: Lab) -> Iterator[Page]:
    lab.add(NOTEBOOKS / "01-quickstart.ipynb", NOTEBOOKS / "03-compare.ipynb")
    with chromium_page() as page:
        yield page


def _run_all(page: Page, lab: Lab, name: str) -> None:
    page.goto(lab.notebook_url(name))
    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=MINUTE)
    page.get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=MINUTE)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Run All Cells$")).click()
    page.wait_for_function(ALL_CODE_CELLS_RAN, timeout=4 * MINUTE)
    tracebacks = page.locator(".jp-OutputArea-output").filter(has_text="Traceback")
    assert tracebacks.count() == 0, tracebacks.first.inner_text()


def _images_loaded(page: Page, selector: str, at_least: int) -> None:
    page.wait_for_function(
        "([sel, n]) => [...document.querySelectorAll(sel)].filter(i => i.complete && i.naturalWidth > 0).length >= n",
        arg=[selector, at_least],
        timeout=MINUTE,
    )


def test_quickstart_runs_in_jupyterlab(lab: Lab, page: Page) -> None:
    from playwright.sync_api import expect

    _run_all(page, lab, "01-quickstart.ipynb")
    studio = page.locator(".fs-studio")
    expect(studio.get_by_text("Done", exact=True).first).to_be_visible(timeout=MINUTE)
    _images_loaded(page, ".fs-studio img", 1)
    expect(page.get_by_text("lighthouse.png 1024 x 768")).to_be_visible()  # GPT Image 2: landscape_4_3
    studio.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir(lab.root.parent / "shots") / "notebook-01-quickstart.png", full_page=True)


def test_compare_notebook_runs_in_jupyterlab(lab: Lab, page: Page) -> None:
    from playwright.sync_api import expect

    _run_all(page, lab, "03-compare.ipynb")
    compare = page.locator(".fs-compare")
    expect(compare.get_by_text(re.compile(r"6 done"))).to_be_visible(timeout=MINUTE)
    _images_loaded(page, ".fs-compare img", 6)
    expect(page.get_by_text("comparison.html True")).to_be_visible()
    compare.scroll_into_view_if_needed()
    page.screenshot(path=screenshot_dir(lab.root.parent / "shots") / "notebook-03-compare.png", full_page=True)
