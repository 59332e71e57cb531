"""Bradley–Terry strengths: recovered from synthetic votes of known strengths, equal to choix's fit, and the
leader called separated only when its interval clears every other's."""

from __future__ import annotations

import numpy as np
import pytest

from falstudio.widgets.compare import _ratings

TRUE = np.array([-0.9, -0.3, 0.2, 1.0])  # log-strengths, mean 0


def synthetic(n_votes: int, seed: int, ties: float = 0.0) -> list[tuple[int, int, str]]:
    rng = np.random.default_rng(seed)
    votes = []
    for _ in range(n_votes):
        a, b = rng.choice(len(TRUE), 2, replace=False)
        p = 1 / (1 + np.exp(TRUE[b] - TRUE[a]))
        r = rng.random()
        votes.append((int(a), int(b), "tie" if r < ties else "left" if r < ties + (1 - ties) * p else "right"))
    return votes


def test_known_strengths_are_recovered_in_order_and_their_intervals_cover_them() -> None:
    covered = []
    for seed in range(20):  # 20 synthetic elections of 1,500 votes
        fit = _ratings.fit(len(TRUE), synthetic(1500, seed), seed=seed)
        assert list(np.argsort(fit.mean)) == [0, 1, 2, 3], seed
        assert fit.leader() == 3 and fit.separated()
        assert np.all(fit.high - fit.low < 0.6)  # 1,500 votes pin each strength down
        covered += list((fit.low <= TRUE) & (fit.high >= TRUE))
    assert sum(covered) / len(covered) >= 0.85, f"95 % intervals covered {sum(covered)} of {len(covered)}"


def test_the_fit_equals_choix_on_the_same_votes() -> None:
    choix = pytest.importorskip("choix")  # a test dependency (pyproject), the reference implementation
    votes = synthetic(400, 7)
    data = [(a, b) if o == "left" else (b, a) for a, b, o in votes]
    reference = choix.ilsr_pairwise(len(TRUE), data, alpha=0.0, tol=1e-12)
    ours = _ratings.bradley_terry(_ratings.win_matrix(len(TRUE), votes), prior=0.0)
    np.testing.assert_allclose(ours, reference - reference.mean(), atol=1e-6)


def test_a_tie_counts_half_to_each_side_and_an_item_that_never_won_stays_finite() -> None:
    w = _ratings.win_matrix(3, [(0, 1, "tie"), (1, 2, "both_bad"), (0, 2, "left"), (2, 0, "right")])
    assert w[0, 1] == w[1, 0] == 0.5 and w[1, 2] == w[2, 1] == 0.5 and w[0, 2] == 2
    strengths = _ratings.bradley_terry(_ratings.win_matrix(2, [(0, 1, "left")] * 5))
    assert np.all(np.isfinite(strengths)) and strengths[0] > strengths[1]


def test_a_few_votes_leave_the_leader_not_separated() -> None:
    votes = [(3, 2, "left"), (3, 2, "right"), (2, 3, "right"), (3, 0, "left"), (0, 1, "left"), (1, 0, "left")]
    fit = _ratings.fit(4, [*votes, (2, 1, "left"), (2, 0, "right"), (3, 1, "tie")], seed=4)
    assert fit.leader() == 3 and not fit.separated()
    assert fit.high[2] >= fit.low[3]  # item 2 (1 win in 3 against the leader) overlaps it
    one = _ratings.fit(3, [(0, 1, "left")])  # resampling one vote gives it back each time: no certainty from it
    assert one.leader() == 0 and not one.separated() and np.all(one.high - one.low > 1)
    empty = _ratings.fit(3, [])
    assert not empty.separated() and np.all(empty.mean == 0)
