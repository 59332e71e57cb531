"""The Studio as a workbench (issue 28), in JupyterLab and Notebook 7 at 1366×768 and 1920×1080, light and dark:
the form on the left and the result on the right, in view after Generate without scrolling; images dropped and
pasted onto an image field (synthetic ``DataTransfer`` events, as a browser makes them); every help text reached
by the keyboard; 20 jobs leave the Studio's height and its widgets level (at both sizes). Each app's checks at both
sizes run in one page whose window is resized (JupyterLab opens at 1366 and widens, Notebook 7 opens at 1920 and
narrows): a page, a kernel and 20 jobs cost more than the checks. A ``RequestForm`` shown alone has a reader view
when its notebook is reopened, with no "Loading widget..." line above it.

Screenshots (``workbench-*.png``) go to ``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import (
    MINUTE,
    NOTEBOOK7_NOISE,
    Lab,
    chromium_page,
    run_first_cell,
    screenshot_dir,
    set_theme,
    wait_until,
    write_notebook,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

NOTEBOOK = "workbench.ipynb"
CELLS = [
    "import falstudio as fs\nstudio = fs.Studio()\nstudio",
    "import gc\nfrom ipywidgets.widgets.widget import _instances\n"
    "def live():\n    gc.collect()\n    return sum(w.comm is not None for w in list(_instances.values()))\n"
    "counts = {}\n"
    "for n in range(2, 21):\n"
    "    studio.generate({'prompt': f'a lighthouse number {n}', 'quality': 'low'})\n"
    "    studio.wait(120)\n"
    "    if n in (13, 20):\n        counts[n] = live()\n"
    "print('widgets after 13 and 20 jobs:', counts[13], counts[20])",
]
FORM_ALONE = "form-alone.ipynb"
NB7_JOBS = "workbench-nb7-jobs.ipynb"  # Notebook 7 runs its cells one at a time

# How many output lines containing the text are shown (laid out, not hidden by the reader view's rule).
SHOWN_LINES = """(text) => [...document.querySelectorAll('.jp-OutputArea-output')]
  .filter(e => e.textContent.includes(text) && e.getClientRects().length).length"""

# A PNG made in the page, wrapped as a File in a DataTransfer, then dropped on (or pasted into) ``el``.
DROP = """async ([el, kind, name]) => {
  const canvas = document.createElement('canvas');
  canvas.width = 48; canvas.height = 32;
  const g = canvas.getContext('2d');
  g.fillStyle = kind === 'drop' ? '#c0392b' : '#2980b9';
  g.fillRect(0, 0, 48, 32);
  const blob = await new Promise((done) => canvas.toBlob(done, 'image/png'));
  const data = new DataTransfer();
  data.items.add(new File([blob], name, { type: 'image/png' }));
  if (kind === 'drop') {
    el.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: data }));
    el.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: data }));
    el.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: data }));
  } else {
    el.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: data }));
  }
}"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module", autouse=True)
def notebooks(
    lab_server: Lab, notebook7_server: Lab, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[None]]:
    """This module's notebooks in both servers; the executed one (its own kernel runs it: seconds) is made
    meanwhile, there when the future is done."""
    folder = tmp_path_factory.mktemp("workbench")
    lab_server.add(write_notebook(folder / NOTEBOOK, CELLS))
    notebook7_server.add(write_notebook(folder / NB7_JOBS, CELLS))

    def executed() -> None:
        source = (
            "import falstudio as fs\nfs.widgets.RequestForm('openai/gpt-image-2', value={'prompt': 'a lighthouse'})"
        )
        alone = _executed(folder / FORM_ALONE, [source])
        lab_server.add(alone)
        notebook7_server.add(alone)

    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(executed)


def _executed(path: Path, sources: list[str]) -> Path:
    """A notebook run by nbclient without its widget state, as `jupyter nbconvert --execute` leaves it."""
    import nbformat
    from nbclient import NotebookClient

    write_notebook(path, sources)
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, kernel_name="python3", timeout=120, store_widget_state=False).execute()
    nbformat.write(notebook, path)
    return path


def _open(page: Page, lab: Lab, theme: str) -> Locator:
    """JupyterLab with :data:`NOTEBOOK` open in ``theme`` and the Studio's cell run: the Studio, ready."""
    from playwright.sync_api import expect

    page.goto(lab.notebook_url(NOTEBOOK))
    set_theme(page, theme)
    run_first_cell(page)
    studio = page.locator(".fs-studio")
    expect(studio.get_by_role("button", name="Generate", exact=True)).to_be_enabled(timeout=MINUTE)
    studio.locator(".fs-help[data-fs-help]").first.wait_for(state="attached", timeout=MINUTE)  # a11y.js ran
    return studio


def _generate_and_see_the_result(page: Page, studio: Locator) -> None:
    """Generate; the final image shows large on the right, inside the window, without scrolling."""
    from playwright.sync_api import expect

    form, stage = studio.locator(".fs-form"), studio.locator(".fs-studio-stage")
    generate = studio.get_by_role("button", name="Generate", exact=True)
    # Generate is in view as the Studio opens (a 1366×768 laptop, the offline server's note above it): no scroll
    button, window = generate.bounding_box(), page.viewport_size
    assert button is not None and window is not None and button["y"] + button["height"] <= window["height"], button
    before = studio.bounding_box()
    generate.click()
    expect(studio.locator(".fs-studio-stage").get_by_text("Done", exact=True)).to_be_visible(timeout=2 * MINUTE)
    picture = stage.locator(".fs-gallery-stage img").first
    expect(picture).to_be_visible()
    wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle())
    assert "lighthouse" in (picture.get_attribute("alt") or "")
    save = stage.get_by_role("button", name=re.compile(r"^Save image 1: a lighthouse"))  # buttons named apart
    expect(save).to_have_count(1)
    after = studio.bounding_box()
    assert before is not None and after is not None and abs(after["y"] - before["y"]) < 1, "the page scrolled"
    box, viewport = picture.bounding_box(), page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (box, viewport)  # all of it in view
    left, right = form.bounding_box(), stage.bounding_box()
    assert left is not None and right is not None
    assert left["x"] + left["width"] <= right["x"] + 1 and abs(left["y"] - right["y"]) < 40  # two panes side by side


def _keyboard_reaches_every_help_text(page: Page, studio: Locator) -> None:
    """From the prompt, Tab goes through the form: each "?" it reaches shows its help; every one is reached."""
    marks = studio.locator(".fs-form .fs-help")
    total = marks.count()
    assert total >= 5
    studio.locator(".fs-form textarea").first.focus()
    reached: set[str] = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "() => document.activeElement && document.activeElement.classList.contains('fs-help')"
            " ? document.activeElement.getAttribute('aria-label') : null"
        )
        if label:
            tip = studio.locator(f'.fs-help[aria-label="{label}"] .fs-help-text')
            expect_visible(tip)
            reached.add(label)
            page.keyboard.press("Escape")  # and it can be dismissed
            expect_hidden(tip)
        if len(reached) == total:
            break
    assert len(reached) == total, (sorted(reached), total)


def expect_visible(locator: Locator) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_visible()


def expect_hidden(locator: Locator) -> None:
    from playwright.sync_api import expect

    expect(locator).to_be_hidden()


def _drop_and_paste(page: Page, studio: Locator) -> None:
    from playwright.sync_api import expect

    studio.get_by_label("Endpoint").select_option(label="GPT Image 2 — edit — openai/gpt-image-2/edit")
    field = studio.locator(".fs-image-field").first
    expect(field.locator(".fs-drop-button")).to_be_visible(timeout=MINUTE)
    expect(field.locator(".fs-drop-button")).to_have_text("Upload…")  # no "(0)"
    page.evaluate(DROP, [field.element_handle(), "drop", "dropped.png"])
    expect(field.get_by_text(re.compile(r"1\. dropped\.png · PNG 48×32"))).to_be_visible(timeout=MINUTE)
    text_box = field.locator("input[type=text]").first
    text_box.focus()
    page.evaluate(DROP, [text_box.element_handle(), "paste", "pasted.png"])
    expect(field.get_by_text(re.compile(r"2\. pasted\.png · PNG 48×32"))).to_be_visible(timeout=MINUTE)
    field.get_by_role("button", name=re.compile(r"^Move image 2 up")).click()
    expect(field.get_by_text(re.compile(r"1\. pasted\.png"))).to_be_visible()


def _paint_a_mask_and_use_it(page: Page, studio: Locator) -> None:
    """Paint over the first image, use it as the mask (the image's size), generate: the offline engine used it."""
    from playwright.sync_api import expect

    studio.get_by_role("button", name="Paint a mask…").click()
    canvas = studio.locator(".fs-mask-canvas")
    expect(canvas).to_be_visible(timeout=MINUTE)
    expect(studio.get_by_text("Mask size: 48×32 (the image's)")).to_be_visible(timeout=MINUTE)
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=8)
    page.mouse.up()
    studio.get_by_role("button", name="Use as mask").click()
    expect(studio.get_by_text(re.compile(r"1\. painted mask · PNG 48×32"))).to_be_visible(timeout=MINUTE)
    studio.locator(".fs-form textarea").first.fill("make it pixel-art style")
    studio.get_by_role("button", name="Generate", exact=True).click()
    stage = studio.locator(".fs-studio-stage")
    expect(stage.get_by_text("“make it pixel-art style”")).to_be_visible(timeout=MINUTE)  # this job, not the last
    expect(stage.get_by_text("Done", exact=True)).to_be_visible(timeout=2 * MINUTE)
    stage.get_by_role("button", name=re.compile(r"^Log \(")).click()
    expect(stage.get_by_text(re.compile(r"Mask: the edit is confined to \d+% of the picture"))).to_be_visible(
        timeout=MINUTE
    )


def _twenty_jobs_stay_level(page: Page, studio: Locator, first_height: float) -> str:
    from playwright.sync_api import expect

    cell = page.locator(".jp-CodeCell").nth(1)
    prompt = cell.locator(".jp-InputPrompt")
    ran = prompt.inner_text()
    cell.locator(".jp-InputArea").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Enter")
    expect(prompt).not_to_have_text(ran)  # it runs (again): its old output is gone
    printed = cell.locator(".jp-OutputArea-output").filter(has_text="widgets after 13 and 20 jobs")
    expect(printed).to_be_visible(timeout=6 * MINUTE)
    thirteen, twenty = map(int, re.findall(r"\d+", printed.inner_text())[-2:])
    assert thirteen == twenty, (thirteen, twenty)  # widgets level after the first dozen jobs
    expect(studio.get_by_role("button", name=re.compile(r"^Jobs \(20"))).to_be_visible(timeout=MINUTE)
    page.wait_for_timeout(1000)
    height = studio.bounding_box()
    assert height is not None and height["height"] <= 1.25 * first_height, (height["height"], first_height)
    return f"{first_height:.0f} -> {height['height']:.0f} px, {twenty} widgets"


def _resize(page: Page, width: int, height: int) -> float:
    """The window resized (as a person drags it): the page laid out again; the Studio's height then."""
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return page.locator(".fs-studio").bounding_box()["height"]  # type: ignore[index]


def test_the_studio_is_a_workbench_in_jupyterlab(lab: Lab, shots: Path) -> None:
    """Opened at 1366×768, then the window widened to 1920×1080."""
    from playwright.sync_api import expect

    with chromium_page(1366, 768) as page:
        studio = _open(page, lab, "JupyterLab Light")
        first = {1920: _resize(page, 1920, 1080), 1366: _resize(page, 1366, 768)}
        page.screenshot(path=shots / "workbench-1366-start-light.png")
        _generate_and_see_the_result(page, studio)
        page.screenshot(path=shots / "workbench-1366-result-light.png")
        _keyboard_reaches_every_help_text(page, studio)
        studio.locator(".fs-form .fs-help").nth(1).focus()
        page.screenshot(path=shots / "workbench-1366-help-light.png")
        summary = _twenty_jobs_stay_level(page, studio, first[1366])

        wide = _resize(page, 1920, 1080)
        assert wide <= 1.25 * first[1920], (wide, first[1920])  # level after 20 jobs at this size too
        page.locator(".jp-CodeCell").first.locator(".jp-InputArea").click()  # the Studio's cell, at the top
        page.keyboard.press("Escape")
        _generate_and_see_the_result(page, studio)
        page.screenshot(path=shots / "workbench-1920-result-light.png")
        studio.get_by_role("button", name=re.compile(r"^Jobs \(21")).click()  # the job list, one click away
        expect(studio.get_by_role("listitem").filter(has_text="a lighthouse number 19").first).to_be_visible()
        page.screenshot(path=shots / "workbench-1920-jobs-light.png")
        _drop_and_paste(page, studio)
        page.screenshot(path=shots / "workbench-1920-dropped-light.png")
        _paint_a_mask_and_use_it(page, studio)
        page.screenshot(path=shots / "workbench-1920-masked-light.png")
        set_theme(page, "JupyterLab Dark")
        page.screenshot(path=shots / "workbench-1920-masked-dark.png")
        print(summary)


def _run_studio_cell_in_notebook_7(page: Page, lab: Lab) -> Locator:
    """Open :data:`NB7_JOBS` and run its first cell only (Notebook 7 has no kernel status text to wait for; on a
    loaded machine it may ask which kernel to use while a slow one starts: the dialog keeps Python)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import expect

    page.goto(lab.notebook_url(NB7_JOBS))
    set_theme(page, "JupyterLab Light")
    prompt = page.locator(".jp-CodeCell").first.locator(".jp-InputPrompt")
    for _attempt in range(4):
        dialog = page.locator(".jp-Dialog").filter(has_text="Select Kernel")
        if dialog.count():
            dialog.locator(".jp-Dialog-button.jp-mod-accept").click()  # "Select"
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=MINUTE)
        page.locator(".jp-CodeCell").first.locator(".jp-InputArea").click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Enter")  # run in place: the 20 jobs' cell waits
        try:
            prompt.filter(has_text=re.compile(r"\[(\*|\d+)\]")).wait_for(timeout=15_000)
            break
        except PlaywrightTimeout:
            continue
    else:
        raise AssertionError("the Studio's cell never started running in Notebook 7")
    studio = page.locator(".fs-studio")
    expect(studio.get_by_role("button", name="Generate", exact=True)).to_be_enabled(timeout=MINUTE)
    return studio


def test_the_studio_in_notebook_7_light_and_dark(notebook7: Lab, shots: Path) -> None:
    """Notebook 7 opened at 1920×1080: the result in view after Generate, light and dark; 20 jobs leave the
    Studio's height and widget count level (measured in dark, the height again in light). Then the window narrowed
    to 1366×768, in dark: the result in view after Generate, every help text by keyboard, images dropped and
    pasted (light)."""
    with chromium_page(1920, 1080, ignore=NOTEBOOK7_NOISE) as page:
        studio = _run_studio_cell_in_notebook_7(page, notebook7)
        first = {1366: _resize(page, 1366, 768), 1920: _resize(page, 1920, 1080)}
        page.screenshot(path=shots / "workbench-notebook7-1920-start-light.png")
        _generate_and_see_the_result(page, studio)
        page.screenshot(path=shots / "workbench-notebook7-1920-result-light.png")
        set_theme(page, "JupyterLab Dark")
        picture = studio.locator(".fs-studio-stage .fs-gallery-stage img").first
        box, viewport = picture.bounding_box(), page.viewport_size
        assert box is not None and viewport is not None
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (box, viewport)  # in view, dark
        page.screenshot(path=shots / "workbench-notebook7-1920-result-dark.png")
        summary = _twenty_jobs_stay_level(page, studio, first[1920])
        page.screenshot(path=shots / "workbench-notebook7-1920-20-jobs-dark.png")
        set_theme(page, "JupyterLab Light")
        height = studio.bounding_box()
        assert height is not None and height["height"] <= 1.25 * first[1920], (height["height"], first[1920])
        page.screenshot(path=shots / "workbench-notebook7-1920-20-jobs-light.png")
        print(f"Notebook 7 1920x1080: {summary}")

        narrow = _resize(page, 1366, 768)
        assert narrow <= 1.25 * first[1366], (narrow, first[1366])  # level after 20 jobs at this size too
        set_theme(page, "JupyterLab Dark")
        page.locator(".jp-CodeCell").first.locator(".jp-InputArea").click()  # the Studio's cell, at the top
        page.keyboard.press("Escape")
        _generate_and_see_the_result(page, studio)
        page.screenshot(path=shots / "workbench-notebook7-result-dark.png")
        _keyboard_reaches_every_help_text(page, studio)
        _drop_and_paste(page, studio)
        set_theme(page, "JupyterLab Light")
        page.screenshot(path=shots / "workbench-notebook7-dropped-light.png")


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_a_form_shown_alone_has_a_reader_view_when_reopened(
    lab: Lab, notebook7: Lab, notebooks: Future[None], shots: Path, app: str
) -> None:
    from playwright.sync_api import expect

    notebooks.result(timeout=2 * MINUTE / 1000)
    server = lab if app == "lab" else notebook7
    with chromium_page(1366, 900, ignore=NOTEBOOK7_NOISE) as page:
        page.goto(server.notebook_url(FORM_ALONE))
        reader = page.locator(".fs-reader")
        expect(reader).to_be_visible(timeout=MINUTE)
        expect(reader).to_contain_text("Static view of a falstudio form")
        expect(reader).to_contain_text("a lighthouse")
        expect(reader).to_contain_text("Sync mode")
        assert "False" not in reader.inner_text()  # booleans in words
        assert page.evaluate(SHOWN_LINES, "Loading widget") == 0, "a 'Loading widget...' line shows"
        # The kernel is connected: the widget manager has restored what it has and given up on the live view
        page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=MINUTE)
        for line in ("Loading widget", "Error displaying widget"):
            assert page.evaluate(SHOWN_LINES, line) == 0, f"a '{line}' line shows above the reader view"
        page.screenshot(path=shots / f"workbench-form-alone-{app}.png")
