"""End to end in JupyterLab: a JobView of a streamed run shows a partial image while it runs, then the final one.

GPT Image 2 streams on fal; until its registry rows are here, the notebook gives a seed endpoint the streaming
capability, and the local server streams it (high quality at latency 3: about 15 s, partial images at a quarter,
half and three quarters of that). Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ._lab import MINUTE, Lab, chromium_page, run_first_cell, screenshot_dir

pytestmark = pytest.mark.browser

CELL = (
    "import dataclasses\n"
    "import falstudio as fs\n"
    "from falstudio.endpoints import registry\n"
    "mini = 'fal-ai/gpt-image-1-mini'\n"
    "registry.REGISTRY[mini] = dataclasses.replace(registry.REGISTRY[mini], streaming=True)\n"
    "server = fs.local.LocalServer(port=0, latency=3).start()\n"
    "client = fs.Client(server.key, base_url=server.url, history=False)\n"
    "request = {'prompt': 'a lighthouse on a cliff at sunset', 'quality': 'high'}\n"
    "job = fs.widgets.JobView.submit(client, mini, request)\n"
    "job"
)


def _notebook(path: Path) -> Path:
    cell = {"cell_type": "code", "execution_count": None, "id": "c0", "metadata": {}, "outputs": [], "source": CELL}
    kernel = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    document = {"cells": [cell], "nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernel}}
    path.write_text(json.dumps(document))
    return path


def test_a_job_view_shows_a_partial_image_before_the_final_one(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path / "screenshots")
    notebook = _notebook(tmp_path / "stream.ipynb")
    lab.add(notebook)
    with chromium_page(1100, 900) as page:
        page.goto(lab.notebook_url(notebook.name))
        run_first_cell(page)

        panel = page.locator(".fs-job")
        preview = panel.locator("img").first
        expect(panel.get_by_text("Forming: partial image")).to_be_visible(timeout=MINUTE)
        expect(preview).to_be_visible()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        expect(panel.get_by_role("status")).to_contain_text("Running")  # still running: the picture is forming
        page.screenshot(path=shots / "jobview-partial.png")
        partial_src = preview.get_attribute("src")

        expect(panel.get_by_text("The final image")).to_be_visible(timeout=MINUTE)
        expect(panel.get_by_role("status")).to_contain_text("Done")
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=preview.element_handle())
        assert preview.get_attribute("src") != partial_src
        page.screenshot(path=shots / "jobview-final.png")
