"""Modules you can call: ``fs.sweep(...)`` and ``fs.history(...)`` while ``import falstudio.sweep`` is a module."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

__all__ = ["make_callable"]


def make_callable(module_name: str, function: Callable[..., Any]) -> None:
    """Calling the module ``module_name`` calls ``function`` (its signature and docstring show in ``help``)."""

    class CallableModule(types.ModuleType):
        __call__ = staticmethod(function)

    module = sys.modules[module_name]
    module.__class__ = CallableModule
