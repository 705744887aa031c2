"""Clustering picks against random example-passing picks: does ranking beat submitting survivors at random?

For each pick count j (1, 2, 5, 10, ... up to the run's number of picks) a problem contributes two numbers:

* clustering: 1 if one of the first j of the run's real ranked picks passed every hidden test, else 0 (the
  pipeline ranks clusters first and fills round-robin, so its first j picks are what it would submit with j);
* random: the exact probability that j example-passing programs drawn uniformly without replacement contain a
  correct one, 1 - C(s-c, j) / C(s, j) for s survivors of which c are correct (pass@j over the survivors; when
  no program passed every example, over the fallback pool the run picked from: `clustering.fallback_pool`).

The random baseline is computed over *distinct* survivors (dedup runs before clustering; nobody submits one
program twice) and, as AlphaCode's "10 random example-passing samples" reads, over survivor *samples*
(duplicates included, so a frequent program is drawn more often and a draw may repeat a program).
Every survivor is judged on the hidden tests by the runner, so both are exact, with no draws.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alphagen.evaluation.metrics import pass_at_k
from alphagen.evaluation.records import VerdictRecord
from alphagen.results import SolveResult

# Pick counts reported besides the run's own: with small n few problems have more than 10 survivors, so only
# the smaller counts can tell clustering and random apart.
BASE_PICK_COUNTS = (1, 2, 5, 10)


def pick_counts(num_picks: int) -> list[int]:
    """The counts compared for a run submitting `num_picks`: the base ones up to it, and itself."""
    if num_picks < 1:
        raise ValueError(f"num_picks must be >= 1, got {num_picks}")
    return sorted({j for j in BASE_PICK_COUNTS if j <= num_picks} | {num_picks})


def random_solve(survivors: int, correct: int, picks: int) -> float:
    """Chance that `picks` survivors drawn uniformly without replacement include a correct one (exact)."""
    if picks < 1:
        raise ValueError(f"picks must be >= 1, got {picks}")
    # No survivor: nothing to submit, nothing solved (pass_at_k needs n >= k >= 1).
    if survivors == 0:
        return 0.0
    # Fewer survivors than picks: all of them are submitted.
    return pass_at_k(survivors, correct, min(picks, survivors))


def compare_picks(
    result: SolveResult, verdicts: dict[int, VerdictRecord], num_picks: int
) -> dict[str, Any]:
    """One problem's clustering-vs-random record (stored in results.jsonl as `picks_vs_random`)."""
    by_index = {c.index: c for c in result.candidates}

    def root(i: int) -> int:
        # Duplicates carry no verdict of their own: follow the link to the judged original.
        seen: set[int] = set()
        while i in by_index and by_index[i].duplicate_of is not None and i not in seen:
            seen.add(i)
            i = int(by_index[i].duplicate_of)  # type: ignore[arg-type]
        return i

    def correct(i: int) -> bool:
        v = verdicts.get(root(i))
        return v is not None and v.passed

    # The pool the run picked from: the survivors of the filter or, when none passed every example, the fallback
    # pool (the programs it clustered: those with a signature); as samples (duplicates too) and distinct programs.
    passed = any(c.passed_examples for c in result.candidates)
    sample_survivors = [c.index for c in result.candidates
                        if (by_index[root(c.index)].passed_examples if passed
                            else by_index[root(c.index)].signature is not None)]
    distinct_survivors = [i for i in sample_survivors if by_index[i].duplicate_of is None]
    s_samples, c_samples = len(sample_survivors), sum(correct(i) for i in sample_survivors)
    s_distinct, c_distinct = len(distinct_survivors), sum(correct(i) for i in distinct_survivors)
    # The real picks in rank order; what got submitted is what is scored, as for `solved`.
    ranked = [correct(p.candidate) for p in sorted(result.picks, key=lambda p: p.rank)]
    counts = pick_counts(num_picks)
    return {
        "pick_counts": counts,
        "survivors": s_distinct,
        "survivors_correct": c_distinct,
        "survivor_samples": s_samples,
        "survivor_samples_correct": c_samples,
        "clustering": {str(j): 1.0 if any(ranked[:j]) else 0.0 for j in counts},
        "random": {str(j): random_solve(s_distinct, c_distinct, j) for j in counts},
        "random_samples": {str(j): random_solve(s_samples, c_samples, j) for j in counts},
    }


RULES = ("clustering", "random", "random_samples")


def contested(record: dict[str, Any], j: int) -> bool:
    """Can j picks from this problem's survivors differ between rules? Only with more distinct survivors than
    j and some, but not all, of them correct."""
    return record["survivors"] > j and 0 < record["survivors_correct"] < record["survivors"]


def aggregate(records: Sequence[dict[str, Any] | None], digits: int = 6) -> dict[str, Any] | None:
    """Mean solve rate per rule and pick count over problems; None when a record lacks the comparison (a run
    scored before it existed: no partial averages)."""
    per_problem = [r for r in records if r is not None]
    if not per_problem or len(per_problem) < len(records):
        return None
    # Only counts every problem has (one run has one num_picks; be safe when mixing).
    counts = sorted(set.intersection(*(set(r["pick_counts"]) for r in per_problem)))
    out: dict[str, Any] = {"pick_counts": counts, "problems": len(per_problem)}
    for rule in RULES:
        out[rule] = {str(j): round(sum(r[rule][str(j)] for r in per_problem) / len(per_problem), digits)
                     for j in counts}
    out["contested"] = {str(j): sum(contested(r, j) for r in per_problem) for j in counts}
    return out
