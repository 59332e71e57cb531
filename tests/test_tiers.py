"""Every test has a tier (unit, loopback, kernel, browser) from where it lives, and its tier's time limit."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from .conftest import ROOT, TIERS, tier_of


class _Item(SimpleNamespace):
    def get_closest_marker(self, name: str) -> object:
        return name if name in self.marks else None


@pytest.mark.parametrize(
    ("path", "marks", "tier"),
    [
        ("tests/test_endpoints.py", [], "unit"),
        ("tests/client/test_budget.py", [], "loopback"),
        ("tests/widgets/test_studio_kernel.py", [], "kernel"),
        ("tests/widgets/test_form_secret_nbclient.py", [], "kernel"),
        ("notebooks/01-quickstart.ipynb", [], "kernel"),
        ("tests/browser/test_jupyterlab.py", [], "browser"),
        ("tests/browser/some_new_test.py", [], "browser"),
        ("tests/client/test_protocol_units.py", ["unit"], "unit"),  # a module may name its tier
    ],
)
def test_a_test_s_tier_follows_from_its_folder(path: str, marks: list[str], tier: str) -> None:
    assert tier_of(_Item(path=ROOT / path, marks=marks)) == tier  # type: ignore[arg-type]


def test_this_test_got_its_tier_and_time_limit(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("unit") is not None
    timeout = request.node.get_closest_marker("timeout")
    assert timeout is not None and timeout.args == (TIERS["unit"],)
    assert Path(request.node.path).parent == ROOT / "tests"
