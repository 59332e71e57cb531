"""End to end in JupyterLab and headless Chromium: ``fs.Studio()`` generates an image, light and dark; an
executed notebook reopened without a kernel shows the Studio's and the Gallery's static HTML.

Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder). The Studio talks to the embedded
offline server, as it does with no FAL_KEY.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ._lab import MINUTE, Lab, run_first_cell, screenshot_dir, set_theme, wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NOTEBOOK = Path(__file__).with_name("studio.ipynb")
REOPENED = "studio-reopened.ipynb"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return screenshot_dir(tmp_path_factory.mktemp("screenshots"))


@pytest.fixture(scope="module")
def notebooks(lab_server: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Future[None]]:
    """The Studio notebook in the session's JupyterLab; the executed one (its own kernel runs it: seconds) is made
    meanwhile, there when the future is done."""
    lab_server.add(NOTEBOOK)
    folder = tmp_path_factory.mktemp("executed")
    with ThreadPoolExecutor(1) as pool:
        yield pool.submit(lambda: lab_server.add(_executed_notebook(folder / REOPENED)))


@pytest.fixture
def page(lab_page: Page, notebooks: Future[None]) -> Page:
    """The module's page (its Studio's cell runs again for each test), 1280×1700."""
    lab_page.set_viewport_size({"width": 1280, "height": 1700})
    return lab_page


def _open_studio(page: Page, lab: Lab) -> None:
    """The notebook's Studio, new (its cell runs again if the page shows the notebook already), light."""
    if f"/{NOTEBOOK.name}?" not in page.url:
        page.goto(lab.notebook_url(NOTEBOOK.name))
    set_theme(page, "JupyterLab Light")
    run_first_cell(page)


def test_studio_generates_an_image(lab_server: Lab, page: Page, shots: Path) -> None:
    from playwright.sync_api import expect

    _open_studio(page, lab_server)

    studio = page.locator(".fs-studio")  # the client may print a line about the offline server first
    generate = studio.get_by_role("button", name="Generate")
    expect(generate).to_be_enabled(timeout=MINUTE)
    expect(studio.get_by_label("Endpoint")).to_be_visible()  # labelled controls, found by their label
    expect(studio.get_by_text("offline preview server")).to_be_visible()
    generate.click()

    thumbnail = studio.locator(".fs-gallery-open img").first
    expect(thumbnail).to_be_visible(timeout=MINUTE)
    wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    assert "lighthouse" in (thumbnail.get_attribute("alt") or "")
    expect(studio.get_by_text("Done", exact=True).first).to_be_visible()
    studio.get_by_role("button", name="Recent history").click()  # one click away
    expect(studio.get_by_role("button", name="Run again").first).to_be_visible()  # the run is in the history strip
    expect(studio.get_by_role("status").filter(has_text=re.compile(r"This kernel: \$0\.\d+ · today"))).to_be_visible()
    page.screenshot(path=shots / "studio-light.png")

    # Dropping an image falstudio saved on "Load from image" refills the form with how it was made.
    made = _saved_image(shots.parent / "made-by-falstudio.png")
    with page.expect_file_chooser() as chooser:
        studio.get_by_role("button", name=re.compile("Load from image")).click()
    chooser.value.set_files(str(made))
    expect(studio.get_by_text("Loaded the request of made-by-falstudio.png")).to_be_visible(timeout=MINUTE)
    expect(studio.get_by_label("Endpoint")).to_have_value(re.compile("gpt-image-1.5"))
    expect(studio.locator("textarea").first).to_have_value("a teapot, loaded from its file")
    page.screenshot(path=shots / "studio-loaded-from-image.png")

    studio.locator(".fs-gallery-open").first.click()  # enlarge: the full image comes on demand
    dialog = page.locator("dialog.fs-gallery-dialog[open]")
    expect(dialog).to_contain_text(re.compile(r"\(\d+×\d+\)"), timeout=MINUTE)
    page.screenshot(path=shots / "studio-enlarged.png")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)

    set_theme(page, "JupyterLab Dark")
    page.screenshot(path=shots / "studio-dark.png")


def test_studio_on_gpt_image_2_with_a_custom_size(lab_server: Lab, page: Page, shots: Path) -> None:
    """The Studio opens on GPT Image 2; a custom width x height is checked as it is typed, then generated."""
    from playwright.sync_api import expect

    _open_studio(page, lab_server)

    studio = page.locator(".fs-studio")
    generate = studio.get_by_role("button", name="Generate")
    expect(generate).to_be_enabled(timeout=MINUTE)
    picker = studio.get_by_label("Endpoint")
    expect(picker).to_have_value("GPT Image 2 — openai/gpt-image-2")  # ipywidgets' options are their labels
    options = picker.locator("option")  # live endpoints first, the others marked, then "Other endpoint…"
    assert "(retired)" in options.nth(options.count() - 2).inner_text()
    assert "Other" in options.last.inner_text()
    expect(studio.get_by_label("Image size", exact=True)).to_have_value("landscape_4_3 (~1024×768)")

    studio.get_by_label("Image size", exact=True).select_option(label="custom width × height")
    width, height = studio.get_by_label("width"), studio.get_by_label("height")
    width.fill("1000")
    height.fill("600")
    error = studio.get_by_text(re.compile(r"1000x600 breaks fal's size rules: width 1000 and height 600"))
    expect(error).to_be_visible()  # under the field, as the model says it
    expect(generate).to_be_disabled()
    nearest = studio.get_by_role("button", name="use 1024×640")
    expect(nearest).to_be_visible()
    page.screenshot(path=shots / "studio-gpt-image-2-size-error-light.png")

    width.fill("1536")
    height.fill("864")
    expect(error).to_have_count(0)
    expect(generate).to_be_enabled()
    expect(studio.get_by_text(re.compile(r"Estimated cost: ~\$0\.1436"))).to_be_visible()
    generate.click()
    thumbnail = studio.locator(".fs-gallery-open img").first
    expect(thumbnail).to_be_visible(timeout=MINUTE)
    wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())
    ratio = page.evaluate("img => img.naturalWidth / img.naturalHeight", thumbnail.element_handle())
    assert abs(ratio - 1536 / 864) < 0.02, ratio  # the image has the size asked for
    expect(studio.get_by_text("openai/gpt-image-2", exact=True).first).to_be_visible()
    page.screenshot(path=shots / "studio-gpt-image-2-custom-size-light.png")

    set_theme(page, "JupyterLab Dark")
    expect(studio.get_by_label("width")).to_have_value("1536")
    page.screenshot(path=shots / "studio-gpt-image-2-custom-size-dark.png")


def test_reopened_notebook_shows_the_static_fallback(
    lab: Lab, page: Page, notebooks: Future[None], shots: Path
) -> None:
    from playwright.sync_api import expect

    notebooks.result(timeout=2 * MINUTE / 1000)
    page.goto(lab.notebook_url(REOPENED))
    set_theme(page, "JupyterLab Light")
    outputs = page.locator(".jp-OutputArea-output")
    expect(outputs.get_by_text("Static view of a falstudio Studio")).to_be_visible(timeout=MINUTE)
    image = outputs.locator("img[alt='a lighthouse on a cliff at sunset']").first
    expect(image).to_be_visible()
    wait_until(page, "img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    page.screenshot(path=shots / "studio-static-light.png")
    set_theme(page, "JupyterLab Dark")
    page.screenshot(path=shots / "studio-static-dark.png")
    # MathJax has had its time by now: two prices on one line are still text, not LaTeX
    expect(outputs.get_by_text(re.compile(r"This kernel: \$\d+\.\d+ · today: \$"))).to_be_visible()


def _saved_image(path: Path) -> Path:
    """A PNG with falstudio's metadata, as ``Image.save()`` writes it."""
    from PIL import Image

    from falstudio import metadata

    image = Image.new("RGB", (64, 64), "teal")
    image.save(path)
    info = metadata.build(
        endpoint="fal-ai/gpt-image-1.5",
        request={"prompt": "a teapot, loaded from its file", "quality": "high", "image_size": "1536x1024"},
        request_id="loaded-request",
        mode="local",
    )
    path.write_bytes(metadata.embed(path.read_bytes(), info))
    return path


def _executed_notebook(path: Path) -> Path:
    """The Studio notebook plus a cell that generates and shows the gallery, run by nbclient (no widget state
    saved), as a reopened notebook looks when its kernel is gone."""
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("studio.click_generate()\nstudio.wait(60)\nstudio.gallery"))
    shutil.copy(NOTEBOOK, path)
    nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute()
    nbformat.write(notebook, path)
    return path
