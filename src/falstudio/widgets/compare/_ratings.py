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


def bradley_terry(wins: np.ndarray, prior: float = 0.5, iterations: int = 1000, tol: float = 1e-10) -> np.ndarray:
    """Log-strengths (mean 0) that maximise the Bradley–Terry likelihood of ``wins`` (plus the prior).

    ``wins`` may be a stack of matrices (``[..., n, n]``): each is fitted, all at once.
    """
    n = wins.shape[-1]
    w = wins + (prior / 2) * (1 - np.eye(n))
    games = w + np.swapaxes(w, -1, -2)
    won = w.sum(axis=-1)
    logs = np.zeros(wins.shape[:-1])
    for _ in range(iterations):
        p = np.exp(logs)
        denom = (games / (p[..., :, None] + p[..., None, :])).sum(axis=-1)
        new = np.log(np.maximum(won, 1e-300)) - np.log(np.where(denom > 0, denom, 1))
        new -= new.mean(axis=-1, keepdims=True)
        done = np.max(np.abs(new - logs)) < tol
        logs = new
        if done:
            break
    return np.asarray(logs)


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
    """Strengths of ``n`` items and their 95 % intervals: the percentiles of ``rounds`` bootstrap resamples of
    the votes, widened where needed to the normal interval of :func:`standard_errors`."""
    a, b, left = _arrays(votes)
    mean = bradley_terry(_wins(n, a, b, left), prior)
    if not votes or rounds < 1:
        return Strengths(mean, mean.copy(), mean.copy())
    rng = np.random.default_rng(seed)
    picked = rng.integers(0, len(votes), (rounds, len(votes)))
    stack = np.zeros((rounds, n, n))
    rows = np.repeat(np.arange(rounds), len(votes))
    np.add.at(stack, (rows, a[picked].ravel(), b[picked].ravel()), left[picked].ravel())
    np.add.at(stack, (rows, b[picked].ravel(), a[picked].ravel()), 1 - left[picked].ravel())
    samples = bradley_terry(stack, prior, tol=1e-7)  # far below what the table prints
    low, high = np.percentile(samples, [2.5, 97.5], axis=0)
    # A handful of votes resamples into the same few votes (one vote: a zero-width interval), so the interval is
    # at least as wide as the normal one from the Fisher information, whose prior comparisons keep it honest.
    spread = 1.96 * standard_errors(_wins(n, a, b, left), mean, prior)
    return Strengths(mean, np.minimum(low, mean - spread), np.maximum(high, mean + spread))


def standard_errors(wins: np.ndarray, logs: np.ndarray, prior: float = 0.5) -> np.ndarray:
    """Standard errors of mean-centred log-strengths ``logs`` fitted to ``wins`` (the inverse Fisher information)."""
    n = len(logs)
    games = wins + wins.T + prior * (1 - np.eye(n))
    p = 1 / (1 + np.exp(logs[None, :] - logs[:, None]))  # p[i, j]: the chance i beats j
    weight = games * p * p.T
    information = np.diag(weight.sum(axis=1)) - weight
    covariance = np.linalg.pinv(information)  # singular along the common shift: the centred parameters' inverse
    return np.asarray(np.sqrt(np.maximum(np.diag(covariance), 0)))


def elo(value: float) -> float:
    """A log-strength on the Elo scale (400 points: 10 to 1 odds)."""
    return float(value * ELO)
