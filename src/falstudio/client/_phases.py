"""The words of a request's life, defined once: every package (sweep, widgets, history, the recorder) uses these."""

from __future__ import annotations

from typing import Literal, get_args

FinalPhase = Literal["done", "failed", "cancelled"]
Phase = Literal["submitting", "queued", "running", FinalPhase]
FINAL_PHASES: frozenset[str] = frozenset(get_args(FinalPhase))
