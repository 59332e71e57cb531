"""End to end: JupyterLab in headless Chromium runs ``fs.Studio()``, clicks Generate and shows the image.

Screenshots (light theme, the enlarged image, dark theme) go to ``$FALSTUDIO_SCREENSHOTS`` (default: the
test's tmp folder). The Studio talks to the embedded offline server, as it does with no FAL_KEY.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import CHROMIUM, CHROMIUM_ARGS, jupyter_lab, screenshot_dir

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).with_name("studio.ipynb")
MINUTE = 60_000  # Playwright timeouts are in ms


def _require_browser() -> None:
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser test must run in CI: {problem}")
    pytest.skip(problem)


def test_studio_generates_an_image_in_jupyterlab(tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    shots = screenshot_dir(tmp_path / "screenshots")
    errors: list[str] = []
    with jupyter_lab(tmp_path / "lab", [NOTEBOOK]) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1700})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(lab.notebook_url(NOTEBOOK.name))
            _run_first_cell(page)

            output = page.locator(".fs-studio")  # the client may print a line about the offline server first
            generate = output.get_by_role("button", name="Generate")
            expect(generate).to_be_enabled(timeout=MINUTE)
            expect(output.get_by_label("Endpoint")).to_be_visible()  # labelled controls, found by label
            expect(output.get_by_text("offline preview server")).to_be_visible()
            generate.click()

            thumbnail = output.locator(".fs-tile-open img").first
            expect(thumbnail).to_be_visible(timeout=MINUTE)
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
            alt = thumbnail.get_attribute("alt") or ""
            assert "lighthouse" in alt
            expect(output.get_by_text("Done", exact=True).first).to_be_visible()
            page.screenshot(path=shots / "studio-light.png")

            output.locator(".fs-tile-open").first.click()  # enlarge: the full image comes on demand
            dialog = page.locator("dialog.fs-tile-dialog[open]")
            expect(dialog).to_contain_text(re.compile(r"\(\d+×\d+\)"), timeout=MINUTE)
            page.screenshot(path=shots / "studio-enlarged.png")
            dialog.get_by_role("button", name="Close").click()
            expect(dialog).to_have_count(0)

            _switch_theme(page, "JupyterLab Dark")
            page.locator("body[data-jp-theme-light='false']").wait_for(state="attached", timeout=MINUTE)
            page.wait_for_timeout(500)  # let the theme's CSS settle before the picture
            page.screenshot(path=shots / "studio-dark.png")
        finally:
            browser.close()
    assert not errors, f"errors in the page: {errors}"
    for name in ("studio-light.png", "studio-enlarged.png", "studio-dark.png"):
        assert (shots / name).stat().st_size > 10_000


def _run_first_cell(page: Page) -> None:
    """Run the first cell once the kernel is ready (a key pressed while it connects is lost: try again)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=MINUTE)
    page.get_by_text(re.compile(r"\| Idle$")).wait_for(timeout=MINUTE)
    prompt = page.locator(".jp-Cell").first.locator(".jp-InputPrompt")
    for _attempt in range(3):
        page.locator(".jp-Cell").first.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Enter")  # run in place, no new cell
        try:
            prompt.filter(has_text=re.compile(r"\[(\*|\d+)\]")).wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError("the notebook's first cell never started running")


def _switch_theme(page: Page, theme: str) -> None:
    """Settings menu > Theme > ``theme``: the theme changes in place, the widgets stay live."""
    page.get_by_role("menuitem", name="Settings").click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Theme$")).click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(f"^{re.escape(theme)}$")).click()
