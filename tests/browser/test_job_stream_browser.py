"""End to end in JupyterLab: a JobView of a streamed run shows a partial image while it runs, then the final one.

GPT Image 2 streams on fal, and the local server streams it like fal (coarse-to-fine partial images). The server
runs in the test's process and holds the run before its output (``Faults.hold``): the partial image is seen while
the job runs, for as long as the test looks, then the test lets it finish. Screenshots go to
``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from falstudio.local import Faults, LocalServer

from ._lab import MINUTE, Lab, chromium_page, run_first_cell, screenshot_dir, wait_until, write_notebook

pytestmark = pytest.mark.browser

CELL = (
    "import falstudio as fs\n"
    "client = fs.Client({key!r}, base_url={url!r}, history=False)\n"
    "request = {{'prompt': 'a lighthouse on a cliff at sunset', 'quality': 'high'}}\n"
    "job = fs.widgets.JobView.submit(client, 'openai/gpt-image-2', request)\n"
    "job"
)


def test_a_job_view_shows_a_partial_image_before_the_final_one(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path / "screenshots")
    faults = Faults(hold={"output"})
    with LocalServer(port=0, latency=0, faults=faults) as server, chromium_page(1100, 900) as page:
        notebook = write_notebook(tmp_path / "stream.ipynb", [CELL.format(key=server.key, url=server.url)])
        lab.add(notebook)
        page.goto(lab.notebook_url(notebook.name))
        run_first_cell(page)

        panel = page.locator(".fs-job")
        preview = panel.locator("img").first
        expect(panel.get_by_text("Forming: partial image")).to_be_visible(timeout=MINUTE)
        expect(preview).to_be_visible()
        expect(preview).to_have_attribute("alt", "a lighthouse on a cliff at sunset")  # alt text: the prompt
        wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        expect(panel.get_by_role("status")).to_contain_text("Running")  # still running: the picture is forming
        page.screenshot(path=shots / "jobview-partial.png")
        partial_src = preview.get_attribute("src")

        faults.release("output")  # the run goes on to its final image
        expect(panel.get_by_text("The final image")).to_be_visible(timeout=MINUTE)
        expect(panel.get_by_role("status")).to_contain_text("Done")
        wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        assert preview.get_attribute("src") != partial_src
        page.screenshot(path=shots / "jobview-final.png")
