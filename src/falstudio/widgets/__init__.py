"""What people see: forms, job panels, galleries, the Studio, Compare and Arena. Loaded on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "RequestForm": "form",
    "JobView": "job",
    "Gallery": "gallery",
    "Studio": "studio",
    "Compare": "compare",
    "Arena": "compare",
    "BeforeAfter": "before_after",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'falstudio.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value


if TYPE_CHECKING:
    from .before_after import BeforeAfter as BeforeAfter
    from .compare import Arena as Arena
    from .compare import Compare as Compare
    from .form import RequestForm as RequestForm
    from .gallery import Gallery as Gallery
    from .job import JobView as JobView
    from .studio import Studio as Studio
