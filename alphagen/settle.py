"""When a problem's answer is settled, and where a budget drawn in rounds goes next (#29, item 4).

A solve can draw its samples in rounds (`SolveConfig.settle_min`): after each round the pipeline has clustered
what it drew, and `assess` says whether more samples could still change the picks. A bench run with a total
budget (`alphagen bench --budget`) uses the same rule across problems: `next_round` gives the samples left to
the problems that are not settled, fewest samples first, so the budget goes where it can still pay.

Pure functions of stored results: the same results give the same allocation, so a killed run that replays its
stored rounds allocates exactly as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from alphagen.results import SolveResult
from alphagen.stages import Stage


class Need(StrEnum):
    """Why a problem gets more samples, or SETTLED when it does not."""

    SETTLED = "settled"
    """At least AGREEMENT samples (duplicates count: the model wrote it twice) pass the examples, all of them in
    one cluster (they agree on every generated input), none too slow at the stated limits."""
    NO_SURVIVOR = "no-survivor"
    """No sample passes the examples: coverage is the problem, more samples are the lever."""
    FEW = "few"
    """Fewer than AGREEMENT samples pass the examples: too few have agreed to trust them."""
    DISAGREE = "disagree"
    """The survivors fall into several clusters: more samples grow the right one."""
    SLOW = "slow"
    """A survivor failed at the stated limits (the limit probe): a faster program may still come."""


AGREEMENT = 3
"""Samples that must pass the examples, all in one cluster, before a problem is settled. Two was too few in rounds
of 4: on HumanEval (session 19, `--budget 1312 -n 24 --settle-min 4`) three problems settled on two agreeing wrong
programs out of 4 samples (83, 120, 148) where the uniform run's samples 6-8 held a right one. With k passing
samples, all agreeing, the chance that their answer is still a minority one (its share of passing samples under
1/2, Beta(k+1, 1) from a uniform prior: the stopping rule of Adaptive-Consistency, Aggarwal et al. 2023) is
2^-(k+1): 12.5% for two, 6.25% for three, the first under 10%."""


def assess(result: SolveResult) -> Need:
    """Whether more samples could still change this solve's picks, and why."""
    passing = [c for c in result.candidates if c.passed_examples]
    if not passing:
        return Need.NO_SURVIVOR
    if len(passing) < AGREEMENT:
        return Need.FEW
    # A duplicate has no signature of its own: it behaves as its original.
    by_index = {c.index: c for c in result.candidates}
    originals = [by_index.get(c.duplicate_of, c) if c.duplicate_of is not None else c for c in passing]
    if any(c.limit_status for c in originals):
        return Need.SLOW
    if len({c.signature for c in originals}) > 1:
        return Need.DISAGREE
    return Need.SETTLED


def round_sizes(n: int, step: int) -> list[int]:
    """Samples drawn after each round of a solve that settles in rounds of `step` up to `n`: step, 2 step, ..., n."""
    if n < 1 or step < 1:
        raise ValueError(f"n and the round size must be >= 1, got {n} and {step}")
    return [*range(step, n, step), n]


@dataclass(frozen=True)
class Share:
    """One problem's state in a budgeted run: the samples it has drawn and whether it needs more."""

    drawn: int
    need: Need


def next_round(states: Mapping[str, Share], order: Sequence[str], left: int, step: int, cap: int) -> dict[str, int]:
    """The next round of a budgeted run: problem name -> the samples it should have drawn after the round.

    Only problems that are not settled and below `cap` grow, each by `step` (less at the cap or when the budget
    runs out), fewest samples first, then in `order`: a problem that has had less gets the next samples before
    one that has had more. Empty when nothing needs more or nothing is left."""
    if step < 1 or cap < 1 or left < 0:
        raise ValueError(f"step and cap must be >= 1 and left >= 0, got {step}, {cap}, {left}")
    rank = {name: i for i, name in enumerate(order)}
    wanting = sorted((name for name, s in states.items() if s.need is not Need.SETTLED and s.drawn < cap),
                     key=lambda name: (states[name].drawn, rank[name]))
    grown: dict[str, int] = {}
    for name in wanting:
        more = min(step, cap - states[name].drawn, left)
        if more <= 0:
            break
        grown[name] = states[name].drawn + more
        left -= more
    return grown


def over_rounds(rounds: Sequence[SolveResult]) -> SolveResult:
    """The last round's result with what every round spent: each stage's seconds summed over the rounds, but
    sampling's, whose later rounds already count the earlier rounds' samples (replayed with their stored seconds).

    Each round clusters and makes its test inputs again, so those seconds are spent once per round; the last
    round's alone would hide them (HumanEval's first 40 in rounds of 8: 219 s of model test inputs over the rounds
    against 91 s of test inputs in the last rounds' results). A round reads back what the rounds before it ran,
    probed and drew for test inputs (`pipeline.SolveMemo`), so a later round's seconds are mostly its new
    samples' own."""
    if not rounds:
        raise ValueError("rounds must not be empty")
    *earlier, last = rounds
    spent: dict[str, float] = {}
    for result in earlier:
        for st in result.stages:
            if st.name != Stage.SAMPLE:
                spent[st.name] = spent.get(st.name, 0.0) + st.seconds
    return replace(last, stages=tuple(replace(st, seconds=st.seconds + spent.get(st.name, 0.0))
                                      for st in last.stages))
