"""A budget shows before pressing: the Studio's form and Compare show the estimate against what the budget has
left, and disable Generate / Run with the reason when the request would be refused."""

from __future__ import annotations

import falstudio as fs
from falstudio.client import Client
from falstudio.local import LocalServer
from falstudio.widgets.compare import Compare
from falstudio.widgets.studio import Studio


def test_the_studio_disables_generate_with_the_reason_when_over_budget(server: LocalServer) -> None:
    studio = Studio(Client(base_url=server.url, key=server.key, budget="0.05"), "openai/gpt-image-2", history=False)
    try:
        form = studio.form
        form.value = {"prompt": "a fox", "quality": "high", "image_size": "1024x1024"}  # ~$0.22
        assert form.generate_button.disabled
        assert "Over budget: estimated $0.2201, but only $0.05 of the $0.05 budget is left" in form.summary.value
        assert "✓ ready" not in form.summary.value
        assert "$0.05 left of $0.05 budget" in form.cost_label.value
        assert studio.click_generate() is None and studio.jobs == []  # nothing sent, no red Failed job
        form.value = {"prompt": "a fox", "quality": "low", "image_size": "1024x1024"}  # ~$0.01
        assert not form.generate_button.disabled and "✓ ready" in form.summary.value
        job = studio.click_generate()
        assert job is not None
        studio.wait(60)
        assert "$0.04 left of $0.05 budget" in studio.form.cost_label.value  # read again once the job ended
    finally:
        studio.close()


def test_compare_disables_run_with_the_reason_when_over_budget(server: LocalServer) -> None:
    variations = fs.sweep({"prompt": "a fox"}, endpoint="fal-ai/gpt-image-1-mini", quality=["low", "medium"])  # $0.03
    compare = Compare(variations, client=Client(base_url=server.url, key=server.key, budget="0.02"))
    try:
        assert compare.run_button.disabled
        assert "Over budget: estimated $0.03, but only $0.02 of the $0.02 budget is left" in compare.summary.value
        assert compare.run_button.tooltip.startswith("Over budget")
    finally:
        compare.close()
    roomy = Compare(variations, client=Client(base_url=server.url, key=server.key, budget="1"))
    try:
        assert not roomy.run_button.disabled and "$1.00 left of $1.00 budget" in roomy.summary.value
    finally:
        roomy.close()
