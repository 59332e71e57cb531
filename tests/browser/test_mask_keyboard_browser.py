"""The mask painter without a mouse: Tab to the canvas, arrows move the brush ring, Space puts the pen down,
Tab to "Use as mask", Enter. The mask that reaches Python is fully transparent (alpha 0, OpenAI's rule) where the
keyboard painted and opaque elsewhere (the half-transparent paint used to leave alpha ~115: no edit on fal)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ._lab import MINUTE, Lab, chromium_page, run_first_cell, screenshot_dir, set_theme, write_notebook

pytestmark = pytest.mark.browser

PAINTER = (
    "import base64, io\n"
    "from PIL import Image\n"
    "from falstudio.widgets.form._mask_painter import MaskPainter\n"
    "buffer = io.BytesIO()\n"
    "Image.new('RGB', (240, 160), 'teal').save(buffer, 'PNG')\n"
    "masks = []\n"
    "painter = MaskPainter()\n"
    "painter.show('data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode())\n"
    "painter.on_mask(masks.append)\n"
    "painter"
)
READ = (
    "import numpy as np\n"
    "alphas = [np.asarray(Image.open(io.BytesIO(m)).convert('RGBA'))[..., 3] for m in masks]\n"
    "values = [sorted({int(v) for v in a.flat}) for a in alphas]\n"
    "print('sizes', [Image.open(io.BytesIO(m)).size for m in masks], 'values', values,\n"
    "      'transparent', [round(float((a == 0).mean()), 3) for a in alphas])"
)


def test_a_mask_is_painted_and_used_with_the_keyboard_alone(lab: Lab, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path / "screenshots")
    notebook = write_notebook(tmp_path / "mask.ipynb", [PAINTER, READ])
    lab.add(notebook)
    with chromium_page(1000, 800) as page:
        page.goto(lab.notebook_url(notebook.name))
        run_first_cell(page)
        canvas = page.locator(".fs-mask-canvas")
        expect(page.get_by_text("Mask size: 240×160 (the image's)")).to_be_visible(timeout=MINUTE)
        expect(canvas).to_have_attribute("tabindex", "0")
        canvas.focus()
        ring = page.locator(".fs-mask-ring")
        expect(ring).to_be_visible()
        for _ in range(3):  # pen up: the ring moves, nothing is painted
            page.keyboard.press("Shift+ArrowLeft")
        page.keyboard.press("Space")
        expect(page.get_by_text("Pen down (painting): arrows paint")).to_be_visible()
        for _ in range(6):
            page.keyboard.press("Shift+ArrowRight")
        page.keyboard.press("]")
        page.screenshot(path=shots / "mask-keyboard-light.png")
        page.keyboard.press("Space")
        expect(page.get_by_text("Pen up: arrows move")).to_be_visible()
        for _ in range(5):  # Brush, Eraser, Clear, the size slider, Use as mask
            page.keyboard.press("Tab")
        expect(page.get_by_role("button", name="Use as mask")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_text("Mask sent (240×160)")).to_be_visible(timeout=MINUTE)

        cell = page.locator(".jp-CodeCell").nth(1)
        cell.click()
        page.keyboard.press("Escape")
        page.keyboard.press("Control+Enter")
        printed = cell.locator(".jp-OutputArea-output").filter(has_text="transparent")
        expect(printed).to_be_visible(timeout=MINUTE)
        text = printed.inner_text()
        assert "sizes [(240, 160)] values [[0, 255]]" in text, text  # alpha 0 where painted (OpenAI's rule), else 255
        cleared = float(re.findall(r"transparent \[([\d.]+)\]", text)[0])
        assert 0.05 < cleared < 0.5, text  # a band across the middle, not the whole picture
        set_theme(page, "JupyterLab Dark")
        canvas.focus()
        page.screenshot(path=shots / "mask-keyboard-dark.png")
