"""End to end in JupyterLab: a JobView of a streamed run shows a partial image while it runs, then the final one.

GPT Image 2 streams on fal, and the local server streams it like fal (high quality at latency 3: several seconds,
with coarse-to-fine partial images spread over that time). Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default:
a tmp folder).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ._lab import MINUTE, Lab, chromium_page, run_first_cell, screenshot_dir, write_notebook

pytestmark = pytest.mark.browser

CELL = (
    "import falstudio as fs\n"
    "server = fs.local.LocalServer(port=0, latency=3).start()\n"
    "client = fs.Client(server.key, base_url=server.url, history=False)\n"
    "request = {'prompt': 'a lighthouse on a cliff at sunset', 'quality': 'high'}\n"
    "job = fs.widgets.JobView.submit(client, 'openai/gpt-image-2', request)\n"
    "job"
)


def test_a_job_view_shows_a_partial_image_before_the_final_one(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path / "screenshots")
    notebook = write_notebook(tmp_path / "stream.ipynb", [CELL])
    lab.add(notebook)
    with chromium_page(1100, 900) as page:
        page.goto(lab.notebook_url(notebook.name))
        run_first_cell(page)

        panel = page.locator(".fs-job")
        preview = panel.locator("img").first
        expect(panel.get_by_text("Forming: partial image")).to_be_visible(timeout=MINUTE)
        expect(preview).to_be_visible()
        expect(preview).to_have_attribute("alt", "a lighthouse on a cliff at sunset")  # alt text: the prompt
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        expect(panel.get_by_role("status")).to_contain_text("Running")  # still running: the picture is forming
        page.screenshot(path=shots / "jobview-partial.png")
        partial_src = preview.get_attribute("src")

        expect(panel.get_by_text("The final image")).to_be_visible(timeout=MINUTE)
        expect(panel.get_by_role("status")).to_contain_text("Done")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        assert preview.get_attribute("src") != partial_src
        page.screenshot(path=shots / "jobview-final.png")
