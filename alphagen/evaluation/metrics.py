"""The estimators the field reports: pass@k (Chen et al. 2021) and n@k with AlphaCode's subsampling estimate.

Both are computed from one run's per-candidate data, so a single run of K samples gives the whole solve-rate
curve for every budget k <= K without re-sampling.

With repairs (docs/repair.md) a k-subset keeps a repair only when its parent (and so its whole lineage) is in the
subset too: the picks a run would make had it drawn only those samples and repaired only those parents. Such a
subset uses at most k samples, so at k < K the estimate can only understate what repair buys; at k = K it is
the run's own pool. pass@k stays the chance that k samples drawn from the final pool include a correct one.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alphagen.results import Candidate, Pick

# select(candidates, num_picks) -> picks: the pipeline's filter + cluster + pick rule
# (alphagen.clustering.select).
SelectFn = Callable[[Sequence[Candidate], int], Sequence[Pick]]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k: 1 - C(n-c, k) / C(n, k), the chance that k of the n samples (drawn without
    replacement) contain at least one of the c correct ones.

    Computed as 1 - prod_{i=n-c+1..n} (1 - k/i), which never forms the huge binomials
    (Chen et al. 2021, fig. 3).
    """
    if n < 0 or c < 0 or c > n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1 or k > n:
        raise ValueError(f"k must be in [1, n={n}], got {k}")
    # Fewer wrong samples than k: every size-k draw contains a correct one.
    if n - c < k:
        return 1.0
    prob_all_wrong = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_wrong *= 1.0 - k / i
    return 1.0 - prob_all_wrong


def budgets(total: int) -> list[int]:
    """Sample budgets for the curve: 1, 2, 4, ... up to `total`, with `total` itself always last."""
    if total < 1:
        raise ValueError(f"total must be >= 1, got {total}")
    out: list[int] = []
    k = 1
    while k < total:
        out.append(k)
        k *= 2
    out.append(total)
    return out


@dataclass(frozen=True)
class CandidateOutcome:
    """What the estimators need to know about one sample of a finished run."""

    index: int
    """Candidate.index: sample number in sampling order."""
    root: int
    """Index of the first candidate with the same normalized code (itself when it is not a duplicate)."""
    passed_examples: bool
    """Passed the statement's examples (resolved through `root` for duplicates)."""
    signature: str | None
    """Behaviour hash on the clustering inputs (None if filtered), resolved through `root`."""
    cpu_s: float
    """CPU seconds on the clustering inputs: the tie-break inside a cluster."""
    correct: bool
    """Judged correct: what `solved` means for a submission (a program that failed an example is correct only
    where the examples are not tests: alphagen.problems.harness.examples_are_tests)."""
    language: str = "python"
    """'python' or 'cpp'."""
    code: str = ""
    """The program (select breaks ties inside a cluster by code length)."""
    parent: int | None = None
    """Sample index of the program it repairs (None: a fresh sample)."""
    examples_passed: int = 0
    """Examples passed before its first failure (resolved through `root`): the fallback pool's order."""
    example_status: str = ""
    """Its first non-ok status on the examples (resolved through `root`): the fallback pool takes wrong answers."""

    def __post_init__(self) -> None:
        if self.index < 0 or self.root < 0:
            raise ValueError(f"index and root must be >= 0, got {self.index}, {self.root}")
        if self.root > self.index:
            raise ValueError(f"root must be an earlier sample, got root {self.root} for index {self.index}")


def subsample_candidates(outcomes: Sequence[CandidateOutcome]) -> list[Candidate]:
    """The candidates the pipeline would have had if it had drawn only these samples.

    Duplicates are re-rooted: the earliest member of each duplicate group in the subsample becomes the
    original and the others point to it, exactly as the dedup stage would have marked them.
    """
    first_of_root: dict[int, int] = {}
    out: list[Candidate] = []
    # Sampling order decides which copy is the original, so walk the subsample in index order.
    for o in sorted(outcomes, key=lambda o: o.index):
        original = first_of_root.setdefault(o.root, o.index)
        out.append(
            Candidate(
                index=o.index,
                language=o.language,
                code=o.code,
                duplicate_of=None if original == o.index else original,
                passed_examples=o.passed_examples,
                example_status=o.example_status or ("ok" if o.passed_examples else "wrong_answer"),
                examples_passed=o.examples_passed,
                # Signatures exist for the run's picking pool only: its survivors, or its fallback pool. A subset
                # whose own fallback pool reaches programs the run never clustered picks fewer of them (at k < n
                # the estimate may understate the fallback; at k = n it is the run's own pool).
                signature=o.signature,
                cpu_s=o.cpu_s,
            )
        )
    return out


def with_lineage(outcomes: Sequence[CandidateOutcome]) -> list[CandidateOutcome]:
    """The samples of a subset a run could have had: repairs whose parent is missing (they repair a program the
    run never drew) are dropped, and with them their own repairs."""
    kept: set[int] = set()
    out = []
    # A parent always has a lower index than its repairs, so one pass in index order settles every chain.
    for o in sorted(outcomes, key=lambda o: o.index):
        if o.parent is None or o.parent in kept:
            kept.add(o.index)
            out.append(o)
    return out


def picks_solve(outcomes: Sequence[CandidateOutcome], select: SelectFn, num_picks: int) -> bool:
    """Does filter + cluster + pick over exactly these samples (less the repairs of absent parents) submit at
    least one correct program?"""
    outcomes = with_lineage(outcomes)
    correct = {o.index for o in outcomes if o.correct}
    # Nothing correct among the samples: no selection rule can solve it (and select need not run).
    if not correct:
        return False
    picks = select(subsample_candidates(outcomes), num_picks)
    return any(p.candidate in correct for p in picks[:num_picks])


def n_at_k(
    outcomes: Sequence[CandidateOutcome],
    k: int,
    select: SelectFn,
    num_picks: int = 10,
    draws: int = 100,
    rng: random.Random | None = None,
) -> float:
    """AlphaCode's n@k estimate from one run of K >= k samples: the mean, over `draws` random subsets of k
    samples, of whether the `num_picks` picks made from the subset contain a correct program.

    When there are no more subsets than `draws` (always for k == K: one subset, the run's own picks
    re-derived) every subset is evaluated once and the value is exact.
    """
    total = len(outcomes)
    if k < 1 or k > total:
        raise ValueError(f"k must be in [1, K={total}], got {k}")
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws}")
    # No correct sample at all: every subset fails, skip the draws.
    if not any(o.correct for o in outcomes):
        return 0.0
    subsets = math.comb(total, k)
    if subsets <= draws:
        solved_all = sum(picks_solve(s, select, num_picks) for s in itertools.combinations(outcomes, k))
        return solved_all / subsets
    rng = rng if rng is not None else random.Random(0)
    solved = sum(picks_solve(rng.sample(list(outcomes), k), select, num_picks) for _ in range(draws))
    return solved / draws


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, None for no values (a summary over zero problems has no rate)."""
    return sum(values) / len(values) if values else None
