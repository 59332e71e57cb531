"""Bradley–Terry strengths from pairwise votes, with bootstrap intervals (numpy; checked against ``choix``).

A vote is ``(a, b, outcome)`` with items as indexes and outcome ``left`` (a won), ``right`` (b won), ``tie`` or
``both_bad`` (neither: counted as a tie for the strengths, and shown on its own). Strengths are fitted by the
minorisation–maximisation algorithm (Hunter 2004) on win counts, ties counted half to each side, with ``prior``
virtual tied comparisons between every pair so that an item that never won still has a finite strength.
They are printed on the Elo scale: 400 · log10 of the strength, centred on the mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OUTCOMES = ("left", "right", "tie", "both_bad")
ELO = 400 / np.log(10)
BOOTSTRAP = 200

Comparison = tuple[int, int, str]  # (left item, right item, outcome)


def win_matrix(n: int, votes: Sequence[Comparison]) -> np.ndarray:
    """``w[i, j]``: how often ``i`` beat ``j`` (a tie or both-bad counts half to each)."""
    return _wins(n, *_arrays(votes))


def _arrays(votes: Sequence[Comparison]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left items, right items, and the left side's score (1, 0 or ½) of each vote."""
    score = {"left": 1.0, "right": 0.0, "tie": 0.5, "both_bad": 0.5}
    a = np.array([v[0] for v in votes], dtype=int)
    b = np.array([v[1] for v in votes], dtype=int)
    return a, b, np.array([score[v[2]] for v in votes], dtype=float)


def _wins(n: int, a: np.ndarray, b: np.ndarray, left: np.ndarray) -> np.ndarray:
    w = np.zeros((n, n))
    np.add.at(w, (a, b), left)
    np.add.at(w, (b, a), 1 - left)
    return w


def bradley_terry(wins: np.ndarray, prior: float = 0.5, iterations: int = 500, tol: float = 1e-10) -> np.ndarray:
    """Log-strengths (mean 0) that maximise the Bradley–Terry likelihood of ``wins`` (plus the prior)."""
    n = wins.shape[0]
    w = wins + (prior / 2) * (1 - np.eye(n))
    games = w + w.T
    won = w.sum(axis=1)
    p = np.ones(n)
    for _ in range(iterations):
        denom = (games / (p[:, None] + p[None, :])).sum(axis=1)
        new = np.where(denom > 0, won / np.where(denom > 0, denom, 1), p)
        new = np.maximum(new, 1e-300)
        new /= np.exp(np.log(new).mean())
        if np.max(np.abs(np.log(new) - np.log(p))) < tol:
            p = new
            break
        p = new
    logs = np.log(p)
    return np.asarray(logs - logs.mean())


@dataclass(frozen=True)
class Strengths:
    """Fitted log-strengths with 95 % bootstrap intervals (all mean-centred), per item."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def leader(self) -> int:
        return int(np.argmax(self.mean))

    def separated(self) -> bool:
        """Whether the leader's interval lies above every other item's."""
        best = self.leader()
        others = [i for i in range(len(self.mean)) if i != best]
        return bool(others) and all(self.low[best] > self.high[i] for i in others)


def fit(
    n: int, votes: Sequence[Comparison], *, prior: float = 0.5, rounds: int = BOOTSTRAP, seed: int = 0
) -> Strengths:
    """Strengths of ``n`` items and their 95 % intervals from ``rounds`` bootstrap resamples of the votes."""
    a, b, left = _arrays(votes)
    mean = bradley_terry(_wins(n, a, b, left), prior)
    if not votes or rounds < 1:
        return Strengths(mean, mean.copy(), mean.copy())
    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, n))
    for r in range(rounds):
        picked = rng.integers(0, len(votes), len(votes))
        samples[r] = bradley_terry(_wins(n, a[picked], b[picked], left[picked]), prior)
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    return Strengths(mean, np.asarray(low), np.asarray(high))


def elo(value: float) -> float:
    """A log-strength on the Elo scale (400 points: 10 to 1 odds)."""
    return float(value * ELO)
