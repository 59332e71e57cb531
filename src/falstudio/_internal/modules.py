"""Module plumbing: modules you can call (``fs.sweep(...)``) and public names that load on first use."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["lazy_exports", "make_callable"]


def make_callable(module_name: str, function: Callable[..., Any]) -> None:
    """Calling the module ``module_name`` calls ``function`` (its signature and docstring show in ``help``)."""

    class CallableModule(types.ModuleType):
        __call__ = staticmethod(function)

    module = sys.modules[module_name]
    module.__class__ = CallableModule


def lazy_exports(
    module_name: str, *, modules: frozenset[str] = frozenset()
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for a package whose public names load on first use.

    The names are read from the package's own ``if TYPE_CHECKING:`` block, which type checkers and IDEs read too,
    so each public name is written once: ``from .server import LocalServer as LocalServer`` exports
    ``LocalServer``, imported from ``.server`` when first asked for. A name in ``modules`` is the module it is
    imported from (``fs.history`` is the callable module, which type checkers see as its function).
    """
    module = sys.modules[module_name]
    table = _type_checking_imports(module)
    unknown = modules - table.keys()
    if unknown:
        raise ImportError(f"{module_name}: {sorted(unknown)} are not imported in its TYPE_CHECKING block")
    namespace = vars(module)
    names = sorted(table)

    def __getattr__(name: str) -> Any:
        try:
            source, attribute = table[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        if name in modules:
            value: Any = importlib.import_module(source)
        elif source == module_name:  # `from . import errors as errors`: a submodule
            value = importlib.import_module(f"{source}.{attribute}")
        else:
            value = getattr(importlib.import_module(source), attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return list(names)

    return list(names), __getattr__, __dir__


def _type_checking_imports(module: types.ModuleType) -> dict[str, tuple[str, str]]:
    """``{exported name: (absolute module, attribute)}`` for each ``from M import A as N`` under TYPE_CHECKING."""
    spec = module.__spec__
    source = spec.loader.get_source(module.__name__) if spec and spec.loader else None  # type: ignore[attr-defined]
    if source is None:
        raise ImportError(f"{module.__name__}: its source is needed to read its public names")
    package = module.__name__ if spec and spec.submodule_search_locations is not None else module.__package__
    table: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.body:
                if isinstance(statement, ast.ImportFrom):
                    base = importlib.util.resolve_name("." * statement.level + (statement.module or ""), package)
                    for alias in statement.names:
                        table[alias.asname or alias.name] = (base, alias.name)
    return table


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )
