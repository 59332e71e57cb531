"""What people see: forms, job panels, galleries, the Studio and Compare. Loaded on first use."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_LAZY = {
    "RequestForm": "form",
    "JobView": "job",
    "Gallery": "gallery",
    "Studio": "studio",
    "Compare": "compare",
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
    from .before_after import BeforeAfter
    from .compare import Compare
    from .form import RequestForm
    from .gallery import Gallery
    from .job import JobView
    from .studio import Studio
