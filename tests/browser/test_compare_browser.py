"""End to end: JupyterLab in headless Chromium runs a 2x2 ``fs.Compare`` and enlarges a tile.

The grid must fill with 4 images under its row and column headers; the enlarged tile is a before/after
slider against the baseline whose position, moved with the keyboard in the browser, is read back in the
kernel. Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: the test's tmp folder) as ``compare-*.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._lab import MINUTE, Lab, chromium_page, run_first_cell, screenshot_dir, wait_until, write_notebook

pytestmark = pytest.mark.browser

CELLS = [
    "import falstudio as fs\n"
    "cmp = fs.Compare(fs.sweep({'prompt': 'a lighthouse on a cliff at sunset'}, endpoint='fal-ai/gpt-image-1-mini',\n"
    "                          quality=['low', 'medium'], image_size=['1024x1024', '1536x1024']))\n"
    "cmp",
    "slider = cmp.viewer.body.children[0]\nprint('position', slider.position, 'favourites', sorted(cmp.favourites))",
]


def test_compare_grid_and_before_after_slider_in_jupyterlab(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path / "screenshots")
    notebook = write_notebook(tmp_path / "compare.ipynb", CELLS)
    lab.add(notebook)
    with chromium_page(1280, 1500) as page:
        page.goto(lab.notebook_url(notebook.name))
        run_first_cell(page)

        output = page.locator(".jp-OutputArea-output").first
        run = output.get_by_role("button", name="Run")
        expect(run).to_be_enabled(timeout=MINUTE)
        expect(output.get_by_text("4 requests · estimated")).to_be_visible()
        expect(output.get_by_text("image_size: 1536x1024", exact=True)).to_be_visible()  # a column header
        expect(output.get_by_text("quality: medium", exact=True)).to_be_visible()  # a row header
        run.click()

        images = output.locator(".fs-cgrid-grid img")
        expect(images).to_have_count(4, timeout=2 * MINUTE)
        for i in range(4):
            wait_until(
                page, "img => img.complete && img.naturalWidth > 0", arg=images.nth(i).element_handle(), timeout=MINUTE
            )
        expect(run).to_be_enabled(timeout=MINUTE)  # the run has ended
        expect(output.get_by_text("4 done")).to_be_visible()
        output.get_by_role("button", name="☆ Favourite").nth(3).click()
        expect(output.get_by_role("button", name="★ Favourite")).to_have_count(1)
        page.screenshot(path=shots / "compare-grid.png")

        output.get_by_role("button", name="Enlarge").nth(1).click()  # the full image comes on demand
        slider = output.get_by_role("slider", name="#0 baseline / #1 position")
        expect(slider).to_be_visible(timeout=MINUTE)
        slider.scroll_into_view_if_needed()
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        expect(slider).to_have_attribute("aria-valuetext", "left 55%: #0 baseline · right 45%: #1")
        page.screenshot(path=shots / "compare-enlarged.png", full_page=True)

        page.locator(".jp-Cell").nth(1).click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")  # cell 2: read the state back in the kernel
        expect(page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")).to_contain_text(
            "position 55.0 favourites [3]", timeout=MINUTE
        )
    for name in ("compare-grid.png", "compare-enlarged.png"):
        assert (shots / name).stat().st_size > 10_000
