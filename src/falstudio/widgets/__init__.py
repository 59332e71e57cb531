"""What people see: forms, job panels, galleries, the Studio, Compare and Arena. Loaded on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._internal.modules import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__)  # the public names: the imports below

if TYPE_CHECKING:
    from .before_after import BeforeAfter as BeforeAfter
    from .compare import Arena as Arena
    from .compare import Compare as Compare
    from .form import RequestForm as RequestForm
    from .gallery import Gallery as Gallery
    from .job import JobView as JobView
    from .studio import Studio as Studio
