"""One lazy-export helper: a package's public names are its ``TYPE_CHECKING`` imports, loaded on first use."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        textwrap.dedent(
            """
            from __future__ import annotations
            from typing import TYPE_CHECKING
            from falstudio._internal.modules import lazy_exports

            __all__, __getattr__, __dir__ = lazy_exports(__name__, modules=frozenset({"heavy"}))

            if TYPE_CHECKING:
                from . import sub as sub
                from .heavy import heavy as heavy
                from .heavy import Thing as Thing
                from .heavy import make as build
            """
        )
    )
    (root / "heavy.py").write_text("class Thing: ...\ndef make(): return Thing()\ndef heavy(): return 1\n")
    (root / "sub.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "lazypkg"


def test_names_come_from_the_type_checking_block_and_load_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = _package(tmp_path, monkeypatch)
    package = importlib.import_module(name)
    try:
        assert package.__all__ == ["Thing", "build", "heavy", "sub"] and dir(package) == package.__all__
        assert f"{name}.heavy" not in sys.modules  # nothing loaded yet
        assert package.build().__class__ is package.Thing  # `make as build` exports `build`
        assert package.heavy is sys.modules[f"{name}.heavy"]  # named in modules=: the module itself
        assert package.sub.VALUE == 2  # `from . import sub`: the submodule
        assert "Thing" in vars(package)  # cached: __getattr__ is not asked again
        with pytest.raises(AttributeError, match="has no attribute 'nope'"):
            package.nope  # noqa: B018
    finally:
        for loaded in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[loaded]


def test_importing_falstudio_loads_no_package_until_a_name_is_used() -> None:
    code = (
        "import sys, falstudio as fs\n"
        "heavy = [m for m in ('falstudio.widgets', 'falstudio.local.server', 'falstudio.client._async', 'httpx')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert fs.Client.__module__ == 'falstudio.client._sync' and 'falstudio.widgets' not in sys.modules\n"
        "assert fs.errors.FalstudioError.__module__ == 'falstudio.errors'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_the_client_class_loads_neither_pydantic_nor_the_endpoints() -> None:
    """``fs.Client`` costs about what ``import fal_client`` does (issue 29): pydantic and the endpoint models load
    with the first request that needs them, not with the class."""
    code = (
        "import sys, falstudio as fs\n"
        "fs.Client, fs.AsyncClient, fs.client.State, fs.client.Budget, fs.client.TrackedRequest\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core', 'PIL', 'filelock')"
        " or m == 'falstudio.endpoints' or m.startswith('falstudio.endpoints.'))\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_reading_the_history_loads_no_endpoint(tmp_path: Path) -> None:
    """``fs.history()`` reads records without building the endpoint models (issue 23: its first read)."""
    code = (
        "import sys, falstudio as fs\n"
        "fs.history()\n"
        "loaded = [m for m in sys.modules if m == 'falstudio.endpoints' or m.startswith('falstudio.endpoints.')]\n"
        "assert not loaded, loaded\n"
    )
    env = {**os.environ, "FALSTUDIO_HISTORY_DIR": str(tmp_path)}
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, env=env)
