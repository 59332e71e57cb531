"""Variations of one request (a sweep) and running them. ``falstudio.sweep(...)`` is :func:`sweep`."""

from .._internal.modules import make_callable
from ._expand import sweep
from ._problems import SweepError
from ._run import FINAL_STATES, Job, JobState, SweepRun
from ._variations import ENDPOINT, Sweep, Variation, describe

__all__ = [
    "ENDPOINT",
    "FINAL_STATES",
    "Job",
    "JobState",
    "Sweep",
    "SweepError",
    "SweepRun",
    "Variation",
    "describe",
    "sweep",
]

make_callable(__name__, sweep)  # fs.sweep(base, quality=[...]) calls sweep(); the module stays a module
