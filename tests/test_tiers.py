"""Every test has a tier (unit, loopback, kernel, browser) from where it lives, and its tier's time limit; under xdist
the controller caches the rewritten test modules for the workers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from .conftest import ROOT, TIERS, rewrite_ahead, slowest_files_first, tier_of


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


def test_files_of_the_slow_tiers_run_first_each_file_kept_together() -> None:
    def item(path: str, name: str, tier: str) -> _Item:
        return _Item(path=ROOT / path, name=name, marks=[tier])

    items = [
        item("tests/test_a.py", "a1", "unit"),
        item("tests/client/test_b.py", "b1", "loopback"),
        item("tests/client/test_b.py", "b2", "unit"),  # a test of a loopback file marked unit: stays with its file
        item("tests/browser/test_c.py", "c1", "browser"),
        item("notebooks/d.ipynb", "d1", "kernel"),
        item("tests/browser/test_e.py", "e1", "browser"),
        item("tests/browser/test_e.py", "e2", "browser"),
    ]
    ordered = slowest_files_first(items)  # type: ignore[arg-type]
    assert [i.name for i in ordered] == ["c1", "e1", "e2", "d1", "b1", "b2", "a1"]


def test_the_suite_runs_its_slowest_files_first(request: pytest.FixtureRequest) -> None:
    """This session's order: no unit test file before a browser one (README's command hands files out in it)."""
    tiers = [next(t for t in TIERS if item.get_closest_marker(t)) for item in request.session.items]
    if "browser" in tiers and "unit" in tiers:
        assert max(i for i, t in enumerate(tiers) if t == "browser") < min(
            i for i, t in enumerate(tiers) if t == "unit"
        )


def test_test_modules_are_rewritten_once_and_cached_until_they_change(
    pytestconfig: pytest.Config, tmp_path: Path
) -> None:
    module = tmp_path / "test_example.py"
    module.write_text("def test_sum():\n    assert 1 + 1 == 2\n")
    (tmp_path / "helper.py").write_text("X = 1\n")  # not a test module: pytest does not rewrite it
    assert rewrite_ahead(pytestconfig, [tmp_path]) == 1
    assert len(list((tmp_path / "__pycache__").glob("test_example.*-pytest-*.pyc"))) == 1
    assert rewrite_ahead(pytestconfig, [tmp_path]) == 0  # what a worker would read: fresh, not written again
    module.write_text("def test_sum():\n    assert 2 == 2\n")
    assert rewrite_ahead(pytestconfig, [tmp_path, module]) == 1  # stale: written again, once
