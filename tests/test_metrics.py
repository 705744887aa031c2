"""The estimators against values computed by hand (and by brute force over every subset)."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from alphagen.clustering import select
from alphagen.evaluation.metrics import CandidateOutcome, budgets, mean, n_at_k, pass_at_k, subsample_candidates


def test_pass_at_k_hand_values() -> None:
    # n=5, c=2: pass@1 = 2/5; pass@2 = 1 - C(3,2)/C(5,2) = 1 - 3/10.
    assert pass_at_k(5, 2, 1) == pytest.approx(0.4)
    assert pass_at_k(5, 2, 2) == pytest.approx(0.7)
    # n=10, c=3, k=5: 1 - C(7,5)/C(10,5) = 1 - 21/252.
    assert pass_at_k(10, 3, 5) == pytest.approx(1 - 21 / 252)
    # Fewer wrong samples than k: certain; no correct sample: impossible.
    assert pass_at_k(4, 3, 2) == 1.0
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(7, 7, 1) == 1.0


def test_pass_at_k_matches_binomials_and_is_stable_for_large_n() -> None:
    for n, c, k in [(200, 10, 100), (1000, 3, 10), (64, 1, 64), (50, 25, 7)]:
        exact = 1 - math.comb(n - c, k) / math.comb(n, k)
        assert pass_at_k(n, c, k) == pytest.approx(exact, rel=1e-9, abs=1e-12)
    # Huge n where C(n, k) overflows a float: still 1/n for k=1.
    assert pass_at_k(100_000, 1, 1) == pytest.approx(1e-5)
    assert 0.0 < pass_at_k(100_000, 1, 5000) < 1.0


def test_pass_at_k_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k must be"):
        pass_at_k(5, 1, 6)
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(5, 6, 1)


def test_budgets_are_powers_of_two_ending_at_total() -> None:
    assert budgets(1) == [1]
    assert budgets(16) == [1, 2, 4, 8, 16]
    assert budgets(20) == [1, 2, 4, 8, 16, 20]
    assert mean([]) is None and mean([1.0, 0.0]) == 0.5


def _outcomes() -> list[CandidateOutcome]:
    # 0: passes examples, wrong on hidden tests, behaviour A, fastest (wins ties);
    # 1: correct, behaviour B; 2: fails the examples; 3: normalized duplicate of 1.
    return [
        CandidateOutcome(0, 0, True, "A", 0.1, False, code="print(0)"),
        CandidateOutcome(1, 1, True, "B", 0.2, True, code="print(1)"),
        CandidateOutcome(2, 2, False, None, 0.0, False, code="print(2)"),
        CandidateOutcome(3, 1, True, "B", 0.2, True, code="print(1) "),
    ]


def test_one_at_k_by_hand() -> None:
    outs = _outcomes()
    # k = K: clusters A (1 sample) and B (2 samples: 1 and its duplicate 3); the one pick is from B: solved.
    assert n_at_k(outs, 4, select, num_picks=1) == 1.0
    # k = 2, six subsets: {0,1} tie A/B -> A (faster) wrong; {0,2} wrong; {0,3} tie -> A wrong;
    # {1,2}, {1,3}, {2,3} solved.  3/6.
    assert n_at_k(outs, 2, select, num_picks=1, draws=6) == pytest.approx(0.5)
    # k = 1: {1} and {3} solve, {0} and {2} do not.
    assert n_at_k(outs, 1, select, num_picks=1) == pytest.approx(0.5)


def test_ten_at_k_equals_pass_at_k_when_everything_surviving_is_submitted() -> None:
    # With more picks than samples every example-passing sample is submitted, so n@k is pass@k.
    outs = _outcomes()
    for k in range(1, 5):
        assert n_at_k(outs, k, select, num_picks=10) == pytest.approx(pass_at_k(4, 2, k))


def test_subsampling_estimate_converges_to_the_exhaustive_value() -> None:
    rng = random.Random(5)
    outs = []
    for i in range(12):
        sig = rng.choice("ABC")
        outs.append(CandidateOutcome(i, i, True, sig, rng.random(), sig == "C", code="x" * i))
    exhaustive = sum(
        any(p.candidate in {o.index for o in s if o.correct} for p in select(subsample_candidates(s), 1))
        for s in itertools.combinations(outs, 5)
    ) / math.comb(12, 5)
    # All 792 subsets when draws allow it: exact.
    assert n_at_k(outs, 5, select, num_picks=1, draws=1000) == pytest.approx(exhaustive)
    # Random subsets: close to it, and reproducible for a seeded generator.
    est = n_at_k(outs, 5, select, num_picks=1, draws=400, rng=random.Random(1))
    assert est == n_at_k(outs, 5, select, num_picks=1, draws=400, rng=random.Random(1))
    assert abs(est - exhaustive) < 0.08


def test_subsample_reroots_duplicates_to_their_earliest_member() -> None:
    outs = _outcomes()
    cands = subsample_candidates([outs[3], outs[2]])
    # 3's original (1) is not in the subset: 3 becomes the executed original itself.
    assert [(c.index, c.duplicate_of) for c in cands] == [(2, None), (3, None)]
    cands = subsample_candidates([outs[3], outs[1]])
    assert [(c.index, c.duplicate_of) for c in cands] == [(1, None), (3, 1)]


def test_outcome_validation() -> None:
    with pytest.raises(ValueError, match="root must be an earlier sample"):
        CandidateOutcome(0, 1, True, "A", 0.0, False)
