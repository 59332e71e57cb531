"""The spend line of the Studio and Compare: this kernel's spend and today's, refreshed when a job ends."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

import falstudio as fs
from falstudio.client import Client, process_spend
from falstudio.endpoints.pricing import usd
from falstudio.local import LocalServer
from falstudio.widgets.compare import Compare
from falstudio.widgets.studio import Studio


def figures(text: str) -> tuple[Decimal, Decimal]:
    match = re.match(r"This kernel: \$(\d+\.\d+) · today: \$(\d+\.\d+)", text)
    assert match, text
    return Decimal(match[1]), Decimal(match[2])


def test_the_studio_shows_this_kernels_and_todays_spend_and_updates_it(server: LocalServer) -> None:
    before = process_spend("local")
    studio = Studio(
        Client(base_url=server.url, key=server.key, budget="1.00"), "fal-ai/gpt-image-1-mini", history=False
    )
    try:
        kernel, today = figures(studio.spend.text)
        assert kernel == Decimal(usd(before).removeprefix("$")) and today == 0
        assert "offline runs, priced as fal would bill them" in studio.spend.text
        assert "budget $1.00: $1.00 left" in studio.spend.text
        assert 'role="status"' in studio.spend.value and "font-size" in studio.spend.value
        studio.form.value = {"prompt": "a fox", "quality": "high", "image_size": "1536x1024"}  # $0.06
        job = studio.click_generate()
        assert job is not None
        studio.wait(60)
        kernel_after, today_after = figures(studio.spend.text)
        assert kernel_after - kernel == Decimal("0.06") and today_after == Decimal("0.06")
        assert "budget $1.00: $0.94 left" in studio.spend.text
        assert studio.spend.text in studio._static_html()
    finally:
        studio.close()


def test_compare_shows_the_spend_line_once_it_has_a_client(server: LocalServer) -> None:
    variations = fs.sweep({"prompt": "a fox"}, endpoint="fal-ai/gpt-image-1-mini", quality=["low", "medium"])
    compare = Compare(variations)  # no client yet: the line is empty until the first run makes one
    try:
        assert compare.spend.text == ""
        compare.client = Client(base_url=server.url, key=server.key)
        compare.run(confirm=True)
        compare.wait(60)
        kernel, today = figures(compare.spend.text)
        assert today == Decimal("0.03") and kernel >= Decimal("0.03")
    finally:
        compare.close()


def test_without_a_history_the_line_says_so(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FALSTUDIO_HISTORY", "0")
    compare = Compare(
        fs.sweep({"prompt": "a fox"}, endpoint="fal-ai/gpt-image-1-mini", quality=["low"]),
        client=Client(base_url=server.url, key=server.key),
    )
    try:
        assert "today: not recorded (FALSTUDIO_HISTORY=0)" in compare.spend.text
    finally:
        compare.close()


def test_a_budget_refusal_shows_before_pressing_in_the_studio_and_in_compare(server: LocalServer) -> None:
    client = Client(base_url=server.url, key=server.key, budget="0.01")
    studio = Studio(client, "fal-ai/gpt-image-1-mini", history=False)
    compare = Compare(
        fs.sweep({"prompt": "a fox"}, endpoint="fal-ai/gpt-image-1-mini", quality=["low", "medium"]),
        client=client,
        confirm_above=None,
    )
    try:
        studio.form.value = {"prompt": "a fox", "quality": "medium"}  # $0.02 > $0.01
        assert studio.form.generate_button.disabled and "Over budget" in studio.form.summary.value
        assert studio.click_generate() is None  # no red Failed job: the reason shows before pressing
        assert compare.run_button.disabled and "Over budget: estimated $0.03" in compare.summary.value
    finally:
        compare.close()
        studio.close()


def test_a_client_without_a_history_is_not_in_todays_figure_and_the_line_says_so(server: LocalServer) -> None:
    compare = Compare(
        fs.sweep({"prompt": "a fox"}, endpoint="fal-ai/gpt-image-1-mini", quality=["low"]),
        client=Client(base_url=server.url, key=server.key, history=False),
        confirm_above=None,
    )
    try:
        compare.run()
        compare.wait(60)
        compare.spend.refresh()
        kernel, today = figures(compare.spend.text)
        assert kernel >= Decimal("0.01") and today == 0  # this run is the kernel's, not the history's
        assert "today: $0.00 in the run history, which this client (history=False) does not write to" in (
            compare.spend.text
        )
    finally:
        compare.close()
