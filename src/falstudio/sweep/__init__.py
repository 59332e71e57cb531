"""Variations of one request (a sweep) and running them."""

from ._expand import ENDPOINT, Sweep, SweepError, Variation, describe, sweep
from ._run import FINAL_STATES, Job, JobState, SweepRun

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
