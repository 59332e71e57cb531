"""A 20-tile Compare grid saved with its widget state and reopened: the grid's pictures travel as messages, never
in the saved state. With no kernel JupyterLab draws no live view and the reader view shows. With a new kernel
JupyterLab and Notebook 7 draw the live grid from the saved state, and nothing answers the grid's request for its
pictures: the grid steps aside (it hides behind its reader view, as a live view that never drew does) and the
reader view with every picture is what people see, light and dark, not an empty grid. Screenshots go to
``$FALSTUDIO_SCREENSHOTS`` as ``reopened-grid-*.png``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import (
    ALL_CODE_CELLS_RAN,
    MINUTE,
    NOTEBOOK7_NOISE,
    Lab,
    chromium_page,
    chromium_pages,
    images_shown,
    run_first_cell,
    screenshot_dir,
    set_theme,
    wait_until,
    write_notebook,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

TILES = 20  # more than 16: the grid starts compact
CELLS = [
    "import falstudio as fs\n"
    "from falstudio.local import LocalServer\n"
    "server = LocalServer(port=0, latency=0, concurrency=4).start()\n"
    "client = fs.Client(key=server.key, base_url=server.url, history=False)\n"
    f"prompts = [f'a lighthouse, study {{k}}' for k in range({TILES // 2})]\n"
    "cmp = fs.Compare(fs.sweep({'quality': 'low'}, endpoint='fal-ai/gpt-image-1-mini', prompt=prompts,\n"
    "                          output_format=['png', 'jpeg']),\n"
    "                 client=client, confirm_above=None, concurrency=8)\n"
    "cmp",
    "cmp.run()\nprint(len(cmp.wait(600)), 'results')",
]


def test_a_reopened_grid_without_its_pictures_shows_the_reader_view(lab: Lab, notebook7: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path / "screenshots")
    name = "reopened-grid.ipynb"
    lab.add(write_notebook(tmp_path / name, CELLS))
    try:
        with chromium_page(1280, 1000) as page:
            page.goto(lab.notebook_url(name))
            run_first_cell(page)
            page.locator(".jp-CodeCell").nth(1).locator(".jp-InputArea").click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
            wait_until(page, ALL_CODE_CELLS_RAN, timeout=5 * MINUTE)
            live = page.locator(".fs-compare")
            expect(live.get_by_text(f"{TILES} done")).to_be_visible(timeout=MINUTE)
            images_shown(page, ".fs-cgrid img", TILES)  # live: the kernel sent the pictures
            expect(page.locator(".fs-reader").first).to_be_hidden()
            page.locator(".jp-CodeCell").first.click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+s")
            wait_until(page, "() => !document.querySelector('.jp-mod-dirty')", timeout=MINUTE)
    finally:
        lab.shutdown_kernels()
    saved = json.loads((lab.root / name).read_text())
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert any(m["state"].get("tiles") for m in state.values())  # the live grid can render from saved state

    with chromium_page(1280, 1000) as page:  # no kernel: JupyterLab draws no live view, the reader view shows
        page.route("**/api/kernelspecs*", lambda route: route.fulfill(json={"default": "python3", "kernelspecs": {}}))
        page.goto(lab.notebook_url(name))
        page.locator(".jp-Dialog").get_by_role("button", name="No Kernel").click(timeout=MINUTE)
        expect(page.locator(".jp-Toolbar-kernelName").first).to_have_text(re.compile("No Kernel"))
        _reader_view_shows_the_grid(page)
        page.screenshot(path=shots / "reopened-grid-no-kernel-light.png")
    notebook7.add(lab.root / name)
    # A new kernel, JupyterLab and Notebook 7 at once (two servers; each page waits for the grid's pictures): the
    # live grid is drawn from the saved state and steps aside.
    try:
        with chromium_pages((1280, 1000, ()), (1280, 1000, NOTEBOOK7_NOISE)) as (in_lab, in_notebook7):
            in_lab.goto(lab.notebook_url(name))
            in_notebook7.goto(notebook7.notebook_url(name))
            for page, app in ((in_lab, "new-kernel"), (in_notebook7, "notebook7")):
                page.locator(".fs-cgrid").first.wait_for(state="attached", timeout=MINUTE)
                _reader_view_shows_the_grid(page)
                expect(page.locator(".fs-cgrid[data-stepped-aside]")).to_have_count(1)
                for theme, label in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
                    set_theme(page, theme)
                    page.locator(".fs-reader").filter(has_text="Compare variations").first.scroll_into_view_if_needed()
                    page.screenshot(path=shots / f"reopened-grid-{app}-{label}.png")
    finally:
        lab.shutdown_kernels()


def _reader_view_shows_the_grid(page: Page) -> None:
    """The Compare's reader view is shown with every picture, and no live grid without pictures above it."""
    from playwright.sync_api import expect

    reader = page.locator(".fs-reader").filter(has_text="Compare variations").first
    expect(reader).to_be_visible(timeout=MINUTE)
    expect(reader).to_contain_text(f"{TILES} done")
    images_shown(page, ".fs-reader img", TILES)
    expect(page.locator(".fs-compare")).to_be_hidden()
