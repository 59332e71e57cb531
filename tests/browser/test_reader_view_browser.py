"""What a saved notebook shows after the kernel stops: each widget's reader view is its *current* state.

Notebook 03 runs in JupyterLab (Run All Cells: every cell runs, none fails, its export says so); a favourite is
starred in the browser (focus stays on the star while the reader view follows); the notebook is saved (with its
widget state: see ``_lab.SETTINGS``), reopened with no kernel, and the Compare grid is there with its images. Reopened
with a new kernel, in JupyterLab and Notebook 7, the live grid is drawn from the saved state, which holds no picture
(they travel as messages); nothing answers its request for them, so it steps aside for the reader view. The
saved file is exported with nbconvert and the HTML, opened in Chromium with every network request refused, shows
the images too. A job that ends does not move the page or re-create its live panel. Screenshots (light and dark)
go to ``$FALSTUDIO_SCREENSHOTS`` as ``reader-*.png`` (and the run as ``notebook-03-compare.png``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from falstudio.local import Faults, LocalServer

from ._lab import (
    MINUTE,
    NOTEBOOK7_NOISE,
    Lab,
    chromium_page,
    chromium_pages,
    images_shown,
    reader_shows,
    run_all,
    run_first_cell,
    screenshot_dir,
    set_theme,
    wait_until,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SAVED = "reader-03.ipynb"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def saved(lab_server: Lab, shots: Path) -> Path:
    """Notebook 03 run in JupyterLab, a favourite starred in the browser, saved: the file on disk."""
    return _run_star_and_save(lab_server, shots)


def _run_star_and_save(lab_server: Lab, shots: Path) -> Path:
    from playwright.sync_api import expect

    lab_server.add(NOTEBOOKS / "03-compare.ipynb")
    (lab_server.root / SAVED).write_bytes((lab_server.root / "03-compare.ipynb").read_bytes())
    try:
        with chromium_page(1280, 1400) as page:
            set_theme_on(page, lab_server, SAVED, "JupyterLab Light")
            run_all(page, lab_server, SAVED)
            compare = page.locator(".fs-compare")
            expect(compare.get_by_text(re.compile(r"6 done"))).to_be_visible(timeout=MINUTE)
            images_shown(page, ".fs-compare img", 6)
            expect(page.get_by_text("comparison.html True")).to_be_visible()  # the export cell
            compare.scroll_into_view_if_needed()
            page.screenshot(path=shots / "notebook-03-compare.png", full_page=True)
            readers = page.locator(".fs-reader")
            assert readers.count() >= 1
            expect(readers.first).to_be_hidden()  # live: the reader view hides beside the live view

            # Star variation 2 in the browser: the reader view follows, the focus stays on the star.
            star = compare.get_by_role("button", name="☆ Favourite").nth(1)
            star.scroll_into_view_if_needed()
            star.click()
            reader_shows(page, "Compare variations", "★ favourite", 3)  # 0 and 5 from Python, and 2
            focused = page.evaluate("document.activeElement && document.activeElement.textContent")
            assert focused is not None and "★ Favourite" in focused, focused
            compare.scroll_into_view_if_needed()
            page.screenshot(path=shots / "reader-live-lab-light.png")
            set_theme(page, "JupyterLab Dark")
            page.screenshot(path=shots / "reader-live-lab-dark.png")
            set_theme(page, "JupyterLab Light")

            page.locator(".jp-MarkdownCell").first.click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+s")
            wait_until(
                page, "() => !document.querySelector('.jp-mod-dirty')", timeout=MINUTE
            )  # the tab's "unsaved" dot is gone
    finally:
        lab_server.shutdown_kernels()
    return lab_server.root / SAVED


def set_theme_on(page: Page, lab: Lab, name: str, theme: str) -> None:
    page.goto(lab.notebook_url(name))
    set_theme(page, theme)


def test_compare_notebook_runs_in_jupyterlab(saved: Path, shots: Path) -> None:
    """Notebook 03 with Run All Cells in JupyterLab (the run the saved notebook comes from, one run for both): every
    cell ran and none failed, the grid showed its six images (checked in the page), and the export cell said so."""
    cells = [c for c in json.loads(saved.read_text())["cells"] if c["cell_type"] == "code"]
    assert cells and all(c["execution_count"] for c in cells)
    outputs = [o for c in cells for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    printed = "".join("".join(o.get("text", "")) for o in outputs if o["output_type"] == "stream")
    assert "comparison.html True" in printed
    assert (shots / "notebook-03-compare.png").stat().st_size > 10_000


def test_the_saved_notebook_holds_the_run(saved: Path) -> None:
    notebook = json.loads(saved.read_text())
    assert "application/vnd.jupyter.widget-state+json" in notebook["metadata"].get("widgets", {})
    readers = [
        "".join(o["data"]["text/html"])
        for c in notebook["cells"]
        for o in c.get("outputs", [])
        if "fs-reader" in "".join(o.get("data", {}).get("text/html", ""))
    ]
    compare = next(r for r in readers if "Compare variations" in r)
    assert compare.count('<img src="data:image/') == 6 and "6 done" in compare
    assert compare.count("★ favourite") == 3
    state = notebook["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    grids = [model for model in state.values() if model["state"].get("tiles")]
    assert len(grids) == 1 and len(grids[0]["state"]["tiles"]) == 6  # the live grid can be drawn from saved state
    assert "buffers" not in grids[0] and "data:image" not in json.dumps(grids[0])  # but holds no picture


def test_reopened_with_no_kernel_shows_the_grid(lab: Lab, saved: Path, shots: Path) -> None:
    """The saved file, opened with no kernel: the Compare grid with its six images, light and dark."""
    from playwright.sync_api import expect

    with chromium_page(1280, 1400) as page:
        # The server offers no kernel to this page: JupyterLab asks, and the notebook opens with "No Kernel".
        page.route("**/api/kernelspecs*", lambda route: route.fulfill(json={"default": "python3", "kernelspecs": {}}))
        page.goto(lab.notebook_url(saved.name))
        page.locator(".jp-Dialog").get_by_role("button", name="No Kernel").click(timeout=MINUTE)
        expect(page.locator(".jp-Toolbar-kernelName").first).to_have_text(re.compile("No Kernel"))
        grid = page.locator(".fs-reader").filter(has_text="Compare variations").first
        expect(grid).to_be_visible(timeout=MINUTE)
        expect(grid).to_contain_text("6 done")
        images_shown(page, ".fs-reader img", 6)
        assert grid.locator("img").count() == 6
        grid.scroll_into_view_if_needed()
        page.screenshot(path=shots / "reader-reopened-lab-light.png")
        set_theme(page, "JupyterLab Dark")
        grid.scroll_into_view_if_needed()
        page.screenshot(path=shots / "reader-reopened-lab-dark.png")
        set_theme(page, "JupyterLab Light")


def test_reopened_with_a_new_kernel_the_grid_steps_aside(lab: Lab, notebook7: Lab, saved: Path, shots: Path) -> None:
    """The saved file opened with a new kernel, in JupyterLab and Notebook 7 at once (each page waits for the grid's
    pictures): the live grid drawn from the saved state gets none and steps aside, and the reader view with every
    picture is what shows, light and dark, not an empty grid."""
    from playwright.sync_api import expect

    notebook7.add(saved)
    with chromium_pages((1280, 1000, ()), (1280, 1000, NOTEBOOK7_NOISE)) as (in_lab, in_notebook7):
        in_lab.goto(lab.notebook_url(saved.name))
        in_notebook7.goto(notebook7.notebook_url(saved.name))
        for page, app in ((in_lab, "lab"), (in_notebook7, "notebook7")):
            page.locator(".fs-cgrid").first.wait_for(state="attached", timeout=MINUTE)
            grid = page.locator(".fs-reader").filter(has_text="Compare variations").first
            expect(grid).to_be_visible(timeout=MINUTE)
            expect(grid).to_contain_text("6 done")
            images_shown(page, ".fs-reader img", 6)
            expect(page.locator(".fs-cgrid[data-stepped-aside]")).to_have_count(1)
            expect(page.locator(".fs-compare")).to_be_hidden()
            for theme, label in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
                set_theme(page, theme)
                grid.scroll_into_view_if_needed()
                page.screenshot(path=shots / f"reader-new-kernel-{app}-{label}.png")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_nbconvert_html_shows_the_grid_offline(saved: Path, shots: Path, tmp_path: Path, theme: str) -> None:
    """``jupyter nbconvert --to html`` of the saved file (widget state in it), shown with the network refused."""
    command = [sys.executable, "-m", "nbconvert", "--to", "html", f"--HTMLExporter.theme={theme}"]
    subprocess.run(
        [*command, f"--output-dir={tmp_path}", str(saved)],
        check=True,
        capture_output=True,
    )
    html_path = tmp_path / "reader-03.html"
    text = html_path.read_text()
    assert len(re.findall(r'<img [^>]*src="data:image/', text)) >= 6  # the images are in the file itself
    refused: list[str] = []
    with chromium_page(1280, 1400) as page:

        def offline(route: object) -> None:
            url = route.request.url  # type: ignore[attr-defined]
            if url.startswith("file:") or url.startswith("data:"):
                route.continue_()  # type: ignore[attr-defined]
            else:
                refused.append(url)
                route.abort()  # type: ignore[attr-defined]

        page.route("**/*", offline)
        page.goto(html_path.as_uri())
        grid = page.locator(".fs-reader").filter(has_text="Compare variations").first
        grid.wait_for(timeout=MINUTE)
        images_shown(page, ".fs-reader img", 6)
        assert grid.locator("img").count() == 6
        grid.scroll_into_view_if_needed()
        page.screenshot(path=shots / f"reader-nbconvert-{theme}.png")
    assert any("unpkg" in u or "jsdelivr" in u or "cdn" in u for u in refused), refused  # widget JS was refused


def test_a_job_ending_keeps_the_page_and_the_live_panel(lab: Lab, tmp_path: Path, shots: Path) -> None:
    """A job ends while the page is scrolled: the scroll position holds, the live panel is the same element (not
    re-created), and the hidden reader view now says done."""
    from playwright.sync_api import expect

    faults = Faults(hold={"output"})  # the job ends when the test says so: after the page was scrolled
    server = LocalServer(port=0, latency=0, faults=faults).start()
    cells = [
        "import falstudio as fs\n"
        f"client = fs.Client({server.key!r}, base_url={server.url!r}, history=False)\n"
        "job = fs.widgets.JobView.submit(client, 'fal-ai/gpt-image-1-mini', {'prompt': 'a quiet harbour'})\n"
        "job",
        "print('\\n'.join(f'line {i}' for i in range(120)))",
    ]
    notebook = {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {}, "outputs": [], "source": s}
            for i, s in enumerate(cells)
        ],
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}},
    }
    path = tmp_path / "reader-job.ipynb"
    path.write_text(json.dumps(notebook))
    lab.add(path)
    with server, chromium_page(1100, 700) as page:
        page.goto(lab.notebook_url(path.name))
        run_first_cell(page)
        panel = page.locator(".fs-job")
        expect(panel.get_by_role("status")).to_contain_text(re.compile("Queued|Running"), timeout=MINUTE)
        page.locator(".jp-Cell").nth(1).click()
        page.keyboard.press("Escape")
        page.keyboard.press("Shift+Enter")
        page.get_by_text("line 119").wait_for(timeout=MINUTE)
        scroller = ".jp-WindowedPanel-outer"
        page.evaluate("sel => { document.querySelector(sel).scrollTop = 160 }", scroller)
        page.evaluate("() => { document.querySelector('.fs-job').dataset.mark = 'before' }")
        before = page.evaluate("sel => document.querySelector(sel).scrollTop", scroller)
        expect(panel.get_by_role("status")).to_contain_text("Running")  # it ends only now
        faults.release("output")
        expect(panel.get_by_role("status")).to_contain_text("Done", timeout=MINUTE)
        reader = page.locator(".fs-reader").first
        expect(reader).to_contain_text("done", timeout=MINUTE)  # a locator: found again after each update
        assert page.evaluate("sel => document.querySelector(sel).scrollTop", scroller) == before
        assert page.evaluate("() => document.querySelector('.fs-job').dataset.mark") == "before"
        expect(reader).to_be_hidden()
        page.screenshot(path=shots / "reader-job-ended-live-light.png")
