"""What a keyboard and screen-reader user meets in JupyterLab: keys stay in falstudio's controls (no notebook
shortcut fires), controls have names and states in the accessibility tree, the focus ring shows in both themes,
"Copy as code" reaches the clipboard, "Run again" runs, and the Studio's top row fits an 820 px window.

Screenshots (``ux-*.png``) and the accessibility snapshot go to ``$FALSTUDIO_SCREENSHOTS`` (default: tmp).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import MINUTE, Lab, run_first_cell, screenshot_dir, set_theme, wait_until, write_notebook

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

NOTEBOOK = "a11y.ipynb"
CELLS = [
    # The offline server at model-like times (the suite runs it instant): "Running again" shows while its job runs.
    "import os\nos.environ['FALSTUDIO_LOCAL_LATENCY'] = '1'\n"
    "import falstudio as fs\nstudio = fs.Studio(endpoint='fal-ai/gpt-image-1-mini')\nstudio",
    "print('second cell')",
    "print('third cell')",
]
COMPARE = "compare-ux.ipynb"
COMPARE_CELLS = [
    "import falstudio as fs\n"
    "cmp = fs.Compare(fs.sweep({'prompt': 'a lighthouse on a cliff at sunset'}, endpoint='openai/gpt-image-2',\n"
    "                          quality=['low', 'medium', 'high'], image_size=['1024x1024']))\n"
    "cmp",
]


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module", autouse=True)
def notebooks(lab_server: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    """This module's notebooks, in the session's JupyterLab."""
    folder = tmp_path_factory.mktemp("a11y")
    lab_server.add(write_notebook(folder / NOTEBOOK, CELLS), write_notebook(folder / COMPARE, COMPARE_CELLS))


def _open_studio(page: Page, lab: Lab, width: int, height: int, theme: str = "JupyterLab Light") -> Locator:
    """A new Studio at ``width``×``height`` in ``theme``, in the module's page: its cell runs (again)."""
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": height})
    if f"/{NOTEBOOK}?" not in page.url:
        page.goto(lab.notebook_url(NOTEBOOK))
    set_theme(page, theme)
    run_first_cell(page)
    studio = page.locator(".fs-studio")
    expect(studio.get_by_role("button", name="Generate")).to_be_enabled(timeout=MINUTE)
    studio.locator("[data-lm-suppress-shortcuts]").first.wait_for(state="attached", timeout=MINUTE)
    studio.locator(".widget-toggle-buttons[role=group]").first.wait_for(state="attached", timeout=MINUTE)
    return studio


def _cells(page: Page) -> tuple[int, int]:
    """(number of cells, index of the active cell)."""
    return page.evaluate(
        "() => { const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];"
        " return [cells.length, cells.findIndex(c => c.classList.contains('jp-mod-active'))]; }"
    )


def test_keys_stay_in_the_endpoint_dropdown(lab_server: Lab, lab_page: Page) -> None:
    from playwright.sync_api import expect

    page = lab_page
    studio = _open_studio(page, lab_server, 1280, 1400)
    picker = studio.get_by_label("Endpoint")
    before_value = picker.input_value()
    picker.focus()
    cells_before = _cells(page)
    page.keyboard.press("ArrowDown")  # in command mode: "select the next cell"
    expect(picker).not_to_have_value(before_value)
    after_down = picker.input_value()
    for key in ("b", "a", "m", "d", "ArrowUp"):  # insert below/above, to markdown, delete (dd), previous cell
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert _cells(page) == cells_before, "a notebook shortcut fired while the dropdown had focus"
    assert picker.evaluate("el => el === document.activeElement"), "focus left the dropdown"
    assert picker.input_value() != after_down  # ArrowUp (and letters) went to the dropdown
    texts = page.locator(".jp-Cell .jp-InputArea-editor").all_inner_texts()
    assert any("second cell" in t for t in texts) and len(texts) == len(CELLS), texts


def test_controls_have_names_and_states(lab_server: Lab, lab_page: Page, shots: Path) -> None:
    from playwright.sync_api import expect

    page = lab_page
    studio = _open_studio(page, lab_server, 1280, 1700)
    expect(studio.get_by_role("slider", name="Number of images")).to_be_visible()
    for group in ("Image size", "Quality", "Background", "Output format"):
        expect(studio.get_by_role("group", name=group, exact=True)).to_be_visible()
    autos = [studio.get_by_role("button", name=f"{g}: auto", exact=True) for g in ("Image size", "Quality")]
    autos.append(studio.get_by_role("button", name="Background: auto", exact=True))
    for button in autos:
        expect(button).to_have_count(1)
    selected = studio.get_by_role("group", name="Quality", exact=True).get_by_role("button", pressed=True)
    expect(selected).to_have_count(1)
    studio.get_by_role("button", name="Quality: low", exact=True).click()
    expect(studio.get_by_role("button", name="Quality: low", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(studio.get_by_role("button", name="Quality: auto", exact=True)).to_have_attribute("aria-pressed", "false")
    help_mark = studio.get_by_role("button", name="Help for Number of images")  # the "?": a toggletip
    expect(help_mark).to_have_attribute("aria-description", re.compile("^How many images to generate"))

    studio.locator("textarea").first.fill("a red kite over the dunes")
    studio.get_by_role("button", name="Generate").click()
    studio.get_by_role("button", name="Recent history").click()  # the history: one click away
    again = studio.get_by_role("button", name=re.compile(r"^Run again: a red kite over the dunes · gpt-image-1-mini"))
    expect(again).to_be_visible(timeout=MINUTE)
    expect(studio.locator(".fs-job").first).to_contain_text("a red kite over the dunes")
    expect(studio.get_by_role("button", name=re.compile(r"^Jobs \(1"))).to_be_visible()
    again.first.click()  # runs it again, even though the form already holds this request
    expect(studio.get_by_text(re.compile("Running again: “a red kite over the dunes”"))).to_be_visible()
    expect(studio.get_by_role("button", name=re.compile(r"^Jobs \(2"))).to_be_visible(timeout=MINUTE)
    expect(studio.locator(".fs-gallery-prompt").first).to_have_text("Prompt: a red kite over the dunes")
    (shots / "ux-a11y-snapshot.yaml").write_text(studio.aria_snapshot())
    page.screenshot(path=shots / "ux-studio-history-light.png")


def test_focus_ring_shows_in_both_themes(lab_server: Lab, lab_page: Page, shots: Path) -> None:
    page = lab_page
    studio = _open_studio(page, lab_server, 1280, 1300, "JupyterLab Light")
    for theme, tag in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)  # in place: the Studio stays live
        generate = studio.get_by_role("button", name="Generate")
        studio.get_by_role("button", name=re.compile("^Output format: webp")).focus()
        for _ in range(30):  # Tab to Generate, as a keyboard user gets there
            if generate.evaluate("el => el === document.activeElement"):
                break
            page.keyboard.press("Tab")
        assert generate.evaluate("el => el === document.activeElement"), "Tab never reached Generate"
        ring = generate.evaluate(
            "el => { const s = getComputedStyle(el); return [s.outlineStyle, parseFloat(s.outlineWidth)]; }"
        )
        assert ring[0] != "none" and ring[1] >= 2, ring
        generate.scroll_into_view_if_needed()
        studio.screenshot(path=shots / f"ux-focus-generate-{tag}.png")
        page.keyboard.press("Shift+Tab")
        studio.screenshot(path=shots / f"ux-focus-previous-{tag}.png")


def test_copy_as_code_reaches_the_clipboard(lab_server: Lab, lab_page: Page, shots: Path) -> None:
    from playwright.sync_api import expect

    page = lab_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=lab_server.url)
    studio = _open_studio(page, lab_server, 1280, 1500)
    studio.get_by_role("button", name="Copy as code").click()
    expect(studio.get_by_role("status").filter(has_text="Copied")).to_be_visible()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert "fs.Client().subscribe(" in copied and '"fal-ai/gpt-image-1-mini"' in copied
    expect(studio.locator("pre").filter(has_text="subscribe(")).to_be_visible()  # and the snippet stays shown
    page.screenshot(path=shots / "ux-copy-as-code.png")


def test_the_top_row_fits_820_px_with_the_file_browser_open(lab_server: Lab, lab_page: Page, shots: Path) -> None:
    page = lab_page
    studio = _open_studio(
        page, lab_server, 1280, 1200
    )  # run at full width: JupyterLab hides the kernel indicator at 820 px
    page.set_viewport_size({"width": 820, "height": 1200})
    if not page.locator(".jp-FileBrowser").is_visible():
        page.keyboard.press("Control+Shift+F")
    page.locator(".jp-FileBrowser").wait_for(state="visible", timeout=MINUTE)
    page.wait_for_timeout(500)
    output = studio.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')]").first
    right = output.bounding_box()["x"] + output.bounding_box()["width"]  # type: ignore[index]
    for control in (
        studio.get_by_label("Endpoint"),
        studio.locator(".fs-drop-button").first,  # Load from image
        studio.get_by_role("button", name="Generate"),
    ):
        box = control.bounding_box()
        assert box is not None and box["x"] + box["width"] <= right + 1, (control, box, right)
    page.screenshot(path=shots / "ux-studio-820px.png")


def test_compare_tiles_fill_the_output_and_enlarge_opens_over_the_grid(lab: Lab, lab_page: Page, shots: Path) -> None:
    from playwright.sync_api import expect

    page = lab_page  # the module's page (one Playwright per thread), another notebook in it
    page.set_viewport_size({"width": 1400, "height": 1100})
    page.goto(lab.notebook_url(COMPARE))
    for run, (theme, tag) in enumerate((("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")), start=1):
        set_theme(page, theme)  # in place; the cell runs again for a new Compare
        if run == 1:
            run_first_cell(page)
        else:
            page.locator(".jp-Cell").first.locator(".jp-InputArea").click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
        prompt = page.locator(".jp-Cell").first.locator(".jp-InputPrompt")
        expect(prompt).to_have_text(re.compile(rf"\[{run}\]"), timeout=MINUTE)  # its output is the new one
        output = page.locator(".fs-compare")
        for axis in ("Endpoint", "Image size", "Quality", "Output format"):  # each axis a named group of boxes
            expect(output.get_by_role("group", name=axis, exact=True).get_by_role("checkbox").first).to_be_visible()
        expect(page.get_by_text("Click to show javascript error")).to_have_count(0)
        output.get_by_role("button", name="Run").click()
        enlarge = output.get_by_role("button", name="Enlarge").nth(2)
        expect(enlarge).to_be_enabled(timeout=MINUTE)
        expect(output.get_by_text(re.compile(r"3 requests .* · 3 done"))).to_be_visible(timeout=MINUTE)
        tile = output.locator(".fs-cgrid-tile").first.bounding_box()
        assert tile is not None and tile["width"] >= 300, tile  # not ~208 px in a ~1100 px output
        page.screenshot(path=shots / f"ux-compare-grid-{tag}.png")

        enlarge.focus()
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="Enlarged view")
        expect(dialog).to_be_visible()
        slider = dialog.get_by_role("slider")
        expect(slider).to_be_visible(timeout=MINUTE)
        box, viewport = dialog.bounding_box(), page.viewport_size
        assert box is not None and viewport is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], box  # where the user looks
        picture = dialog.locator(".fs-ba-after")
        wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
        natural, shown = picture.evaluate("img => [img.naturalWidth, img.getBoundingClientRect().width]")
        assert shown <= natural + 1, (natural, shown)  # never stretched past its own size
        slider.focus()
        page.keyboard.press("ArrowLeft")
        expect(dialog.locator(".fs-ba-readout")).to_have_text(re.compile(r"^left 49%: .* · right 51%: #2$"))
        page.screenshot(path=shots / f"ux-compare-enlarged-{tag}.png")
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        assert enlarge.evaluate("el => el === document.activeElement"), "focus did not return to Enlarge"
