"""The Studio's searchable endpoint picker in JupyterLab (headless Chromium), light and dark: typing filters
the endpoints (live first, retired marked), the catalog button asks the offline server's catalog, and picking a
match switches the Studio's endpoint.

Screenshots go to ``$FALSTUDIO_SCREENSHOTS`` (default: a tmp folder).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ._lab import MINUTE, Lab, chromium_page, run_first_cell, screenshot_dir, set_theme

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

NAME = "endpoint-picker.ipynb"


@pytest.fixture(scope="module")
def notebook(lab_server: Lab, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("picker") / NAME
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {},
        "outputs": [],
        "source": ["import falstudio as fs\n", "\n", "studio = fs.Studio(history=False)\n", "studio"],
    }
    document = {
        "cells": [cell],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(document))
    lab_server.add(path)


@pytest.fixture
def page(lab: Lab, notebook: None) -> Iterator[Page]:
    with chromium_page(1280, 1300) as page:
        yield page


def test_the_studio_picker_searches_and_switches_light_and_dark(
    lab: Lab, page: Page, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from playwright.sync_api import expect

    shots = screenshot_dir(tmp_path_factory.mktemp("screenshots"))
    page.goto(lab.notebook_url(NAME))
    set_theme(page, "JupyterLab Light")
    run_first_cell(page)

    studio = page.locator(".fs-studio")
    expect(studio.get_by_role("button", name="Generate")).to_be_enabled(timeout=MINUTE)
    studio.get_by_role("button", name="Search endpoints…").click()
    find = studio.get_by_label("Find")
    find.fill("image-to-image")
    matches = studio.get_by_label("Matches")
    expect(matches).to_be_visible()
    options = matches.locator("option")
    expect(options.first).to_have_attribute("value", re.compile(r"^GPT Image 2 — edit — openai/gpt-image-2/edit"))
    assert all("(retired)" in text or "(deprecated)" in text for text in options.all_inner_texts()[1:])
    page.screenshot(path=shots / "endpoint-picker-light.png")

    find.fill("mini")
    studio.get_by_role("button", name="Search the catalog").click()
    expect(studio.get_by_text(re.compile(r"found in the catalog at 127\.0\.0\.1"))).to_be_visible(timeout=MINUTE)
    values = [options.nth(i).get_attribute("value") or "" for i in range(options.count())]
    matches.select_option(value=next(v for v in values if v.startswith("GPT Image 1 Mini — edit")))
    expect(studio.get_by_label("Endpoint")).to_have_value(re.compile(r"gpt-image-1-mini/edit"), timeout=MINUTE)
    expect(studio.get_by_text("now on fal-ai/gpt-image-1-mini/edit")).to_be_visible()
    page.screenshot(path=shots / "endpoint-picker-picked-light.png")

    set_theme(page, "JupyterLab Dark")
    find.fill("gpt image")
    expect(options.first).to_be_visible()
    page.screenshot(path=shots / "endpoint-picker-dark.png")
    print(f"screenshots in {shots}")
