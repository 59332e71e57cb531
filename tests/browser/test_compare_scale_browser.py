"""A large Compare in JupyterLab and Notebook 7, light and dark: the compact grid paints (its time to first paint
is printed) and scrolls, arrow keys move between tiles, F marks a favourite, Enter enlarges (with
Previous, Next and Download), and a blind vote is cast by keyboard in fs.Arena. In Notebook 7 the grid keeps its
full height after later cells run (Notebook 7 would squeeze it into a scrolled box). Notebook 7 draws the scale
case, 256 tiles; JupyterLab does the same checks on 32 (more than 16: compact too; 32 images instead of 256 to
make and send on this 2-core machine).

Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: the test's tmp folder) as ``scale-<app>-*.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ._lab import (
    ALL_CODE_CELLS_RAN,
    MINUTE,
    NOTEBOOK7_NOISE,
    Lab,
    chromium_page,
    run_all,
    run_first_cell,
    screenshot_dir,
    set_theme,
    wait_until,
    write_notebook,
)

pytestmark = pytest.mark.browser

TILES = {"lab": 32, "notebook7": 256}  # 4 variations per prompt


def cells(tiles: int) -> list[str]:
    return [
        "import falstudio as fs\n"
        "from falstudio.local import LocalServer\n"
        "server = LocalServer(port=0, latency=0, concurrency=2).start()\n"
        "client = fs.Client(key=server.key, base_url=server.url, history=False)\n"
        f"prompts = [f'a lighthouse, study {{k}}' for k in range({tiles // 4})]\n"
        "cmp = fs.Compare(fs.sweep({'quality': 'low'}, endpoint='fal-ai/gpt-image-1-mini', prompt=prompts,\n"
        "                          background=['auto', 'opaque'], output_format=['png', 'jpeg']),\n"
        "                 client=client, confirm_above=None, concurrency=8)\n"
        "cmp",
        "cmp.run()\nprint(len(cmp.wait(900)), 'results')",
        "arena = fs.Arena(cmp, seed=0)\narena",
        "print('after the grid')",
    ]


def _grid_and_arena(page, lab: Lab, name: str, shots: Path, app: str) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    total = TILES[app]
    if app == "notebook7":  # Notebook 7 has no kernel status text to wait for: Run All Cells from the menu
        run_all(page, lab, name)
    else:
        page.goto(lab.notebook_url(name))
        run_first_cell(page)
        for i in range(1, len(cells(total))):  # the kernel runs them in turn
            page.locator(".jp-CodeCell").nth(i).locator(".jp-InputArea").click()
            page.keyboard.press("Escape")
            page.keyboard.press("Control+Enter")
    wait_until(page, ALL_CODE_CELLS_RAN, timeout=15 * MINUTE)  # the results are in
    tracebacks = page.locator(".jp-OutputArea-output").filter(has_text="Traceback")
    assert tracebacks.count() == 0, tracebacks.first.inner_text()
    grid = page.locator(".fs-cgrid").first
    paint = grid.get_attribute("data-first-paint-ms")
    assert paint is not None and int(paint) >= 0
    print(f"\n{app}: {total} tiles, time to first paint {paint} ms")
    expect(page.locator(".fs-compare").get_by_text(re.compile(f"{total} done"))).to_be_visible(timeout=MINUTE)
    assert "fs-cgrid-compact" in (grid.get_attribute("class") or "")  # more than 16 tiles: compact
    grid.get_by_label("Sort").select_option("index")  # every tile in one grid, as many columns as fit
    tiles = grid.locator(".fs-cgrid-tile")
    expect(tiles).to_have_count(total)
    columns = grid.locator(".fs-cgrid-grid").evaluate("g => getComputedStyle(g).gridTemplateColumns.split(' ').length")
    assert columns >= 6, columns  # compact tiles: many columns fit ~1,200 px

    # Scrolling through it: frames are counted while the page scrolls by the wheel.
    grid.scroll_into_view_if_needed()
    page.evaluate(
        "() => { window.__frames = []; const t = () => { window.__frames.push(performance.now());"
        " if (window.__frames.length < 400) requestAnimationFrame(t); }; requestAnimationFrame(t); }"
    )
    for _ in range(20):
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    gaps = page.evaluate("() => window.__frames.slice(1).map((t, i) => t - window.__frames[i])")
    print(f"{app}: scrolling, {len(gaps)} frames, slowest {max(gaps):.0f} ms")
    loaded = grid.locator("img").evaluate_all("imgs => imgs.filter(i => i.complete && i.naturalWidth > 0).length")
    assert loaded > 0

    # Keyboard: arrows move, F marks a favourite, Enter enlarges.
    first = tiles.nth(0)
    first.scroll_into_view_if_needed()
    first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    focused = page.evaluate("() => document.activeElement.dataset.variation")
    assert focused == str(2 + columns), (focused, columns)
    page.keyboard.press("f")
    expect(grid.get_by_text(re.compile(r"· 1 favourite$"))).to_be_visible()
    expect(tiles.nth(2 + columns)).to_have_class(re.compile("fs-cgrid-favourite"))
    first.hover()  # compact: the details show on hover
    expect(first.locator(".fs-cgrid-details")).to_be_visible()
    for theme, suffix in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        first.hover()
        page.screenshot(path=shots / f"scale-{app}-grid-{suffix}.png")

    tiles.nth(2 + columns).focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Enlarged view")
    expect(dialog).to_be_visible(timeout=MINUTE)
    expect(dialog.get_by_role("link", name="Download")).to_have_attribute(
        "download", re.compile(r"variation-\d+\."), timeout=MINUTE
    )
    header = dialog.locator("b").first
    expect(header).to_have_text(f"#{2 + columns}")
    dialog.get_by_role("button", name="Next").click()
    expect(header).to_have_text(f"#{3 + columns}", timeout=MINUTE)
    expect(dialog.locator(".fs-ba-tag-after")).to_have_text(f"#{3 + columns}", timeout=MINUTE)
    for theme, suffix in (("JupyterLab Dark", "dark"), ("JupyterLab Light", "light")):
        set_theme(page, theme)
        page.screenshot(path=shots / f"scale-{app}-enlarged-{suffix}.png")
    dialog.get_by_role("button", name="Previous").focus()  # the theme menu took the focus
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    if app == "notebook7":  # later cells ran: the grid's output is not squeezed into a scrolled box
        cell = page.locator(".jp-CodeCell").filter(has=page.locator(".fs-cgrid")).first
        assert "jp-mod-outputsScrolled" not in (cell.get_attribute("class") or "")
        height = cell.locator(".jp-OutputArea").evaluate("o => o.getBoundingClientRect().height")
        assert height > 2000, height
        cell.locator(".jp-OutputArea-promptOverlay").first.click()  # the reader asks for a scrolled box: kept
        expect(cell).to_have_class(re.compile("jp-mod-outputsScrolled"))
        page.wait_for_timeout(300)
        expect(cell).to_have_class(re.compile("jp-mod-outputsScrolled"))
        cell.locator(".jp-OutputArea-promptOverlay").first.click()
        expect(cell).not_to_have_class(re.compile("jp-mod-outputsScrolled"))

    # A blind vote by keyboard.
    arena = page.locator(".fs-arena")
    arena.scroll_into_view_if_needed()
    judge = arena.get_by_role("textbox")
    judge.fill("ana")
    judge.press("Enter")  # the pair takes the focus
    wait_until(page, "() => document.querySelector('.fs-arena').dataset.pair === '1'", timeout=MINUTE)
    page.keyboard.press("ArrowLeft")
    expect(arena.get_by_text(re.compile(r"^Pair 1 \(left won\): left was .*; right was "))).to_be_visible(
        timeout=MINUTE
    )
    expect(arena.locator("tbody tr")).to_have_count(4)
    for theme, suffix in (("JupyterLab Light", "light"), ("JupyterLab Dark", "dark")):
        set_theme(page, theme)
        arena.scroll_into_view_if_needed()
        page.screenshot(path=shots / f"scale-{app}-arena-{suffix}.png")
    set_theme(page, "JupyterLab Light")


@pytest.mark.parametrize("app", ["lab", "notebook7"])
def test_a_large_compare_and_a_blind_vote(app: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    lab: Lab = request.getfixturevalue("lab" if app == "lab" else "notebook7")
    shots = screenshot_dir(tmp_path / "screenshots")
    name = f"scale-{app}.ipynb"
    lab.add(write_notebook(tmp_path / name, cells(TILES[app])))
    with chromium_page(1280, 1200, ignore=NOTEBOOK7_NOISE) as page:
        _grid_and_arena(page, lab, name, shots, app)
    for png in shots.glob(f"scale-{app}-*.png"):
        assert png.stat().st_size > 10_000
