"""Keeping only inputs the problem could really be judged on: run checks in the sandbox.

An input survives when the problem's validator (if the problem file has one) accepts it, and when most of a
seeded sample of example-passing programs run on it cleanly. Many wrong-looking inputs make every program
crash (a malformed format) or make correct programs disagree (an illegal value); AlphaCode kept those, we
drop them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from alphagen.stages import Advance
from sandbox import BatchExecutor
from sandbox.values import Limits, Program, Result, Status


def validator_accepts(
    executor: BatchExecutor, validator: str, inputs: Sequence[str], limits: Limits, advance: Advance
) -> list[bool]:
    """Per input: does the validator program exit 0 on it?"""
    ok = [False] * len(inputs)
    if not inputs:
        return ok
    vlimits = replace(limits, time_s=max(limits.time_s, 2.0), wall_s=None)
    for r in executor.run_batch([Program(validator)], list(inputs), vlimits):
        ok[r.input_index] = r.status is Status.OK
        advance(1)
    return ok


def clean_needed(programs: int, min_fraction: float) -> int:
    """How many of `programs` checkers must run an input cleanly for it to be kept: the fewest whose fraction
    reaches `min_fraction`, and at least one (an input no checker runs cleanly is never kept)."""
    return next((c for c in range(1, programs + 1) if c / programs >= min_fraction), programs)


@dataclass
class SlowCheckers:
    """The checkers (by index) that timed out in one problem's clean-run checks, kept across its chunks of inputs.

    One time-out says a program is slow on this problem's large inputs (762A: every survivor loops to n, and n
    goes to 10^15), and the check would pay it a whole time limit on every further large input. A slow checker's
    later runs get `share` of the limit instead (one test per child, since most of them time out): still enough
    for the small inputs it runs in milliseconds. Its runs at the tighter limit are not the clustering stage's
    runs (a RunMemo keys them by limits), so clustering runs it again, at the full limit, on the inputs kept."""

    share: float = 1.0
    slow: set[int] = field(default_factory=set)
    probed: set[int] = field(default_factory=set)
    """Checkers already run alone on a largest input (see _run_pairs)."""

    def limits(self, limits: Limits) -> Limits:
        """The limits of a slow checker's runs."""
        wall = None if limits.wall_s is None else limits.wall_s * self.share
        return replace(limits, time_s=limits.time_s * self.share, wall_s=wall)

    def note(self, r: Result) -> Result:
        """A full-limit run: a time-out makes its program slow."""
        if self.share < 1.0 and r.status is Status.TIME_LIMIT:
            self.slow.add(r.program_index)
        return r


def _run_pairs(
    executor: BatchExecutor,
    programs: Sequence[Program],
    inputs: Sequence[str],
    limits: Limits,
    pairs: list[tuple[int, int]],
    slow: SlowCheckers,
) -> Iterator[Result]:
    """Every pair's result, a slow checker's at its tighter limits.

    A checker not seen yet first runs alone on its longest input (the likeliest to time out), one test per child:
    its other pairs then run knowing whether it is slow. Stopping a running batch at the first time-out would
    not save that: a child running several tests of a program reruns the ones after a time-out one by one, and an
    abandoned batch waits for it (on 762A a worker slot was restarted)."""
    if slow.share >= 1.0:
        yield from executor.run_batch(list(programs), list(inputs), limits, pairs=pairs)
        return
    first: dict[int, int] = {}
    for p, i in pairs:
        if p not in slow.probed and (p not in first or len(inputs[i]) > len(inputs[first[p]])):
            first[p] = i
    if first:
        probe = list(first.items())
        yield from map(slow.note, executor.run_batch(list(programs), list(inputs), limits, pairs=probe,
                                                     tests_per_child=1))
        slow.probed |= set(first)
    probed = set(first.items())
    rest = [pair for pair in pairs if pair not in probed]
    tight = [(p, i) for p, i in rest if p in slow.slow]
    if tight:
        yield from executor.run_batch(list(programs), list(inputs), slow.limits(limits), pairs=tight,
                                      tests_per_child=1)
    full = [(p, i) for p, i in rest if p not in slow.slow]
    if full:
        yield from map(slow.note, executor.run_batch(list(programs), list(inputs), limits, pairs=full))


def clean_inputs(
    executor: BatchExecutor,
    programs: Sequence[Program],
    inputs: Sequence[str],
    limits: Limits,
    min_fraction: float,
    advance: Advance,
    slow: SlowCheckers | None = None,
) -> list[bool]:
    """Per input: do at least `clean_needed` of `programs` run on it without a non-ok status?

    Decided in two waves, so that an input most programs cannot run costs as few runs as possible (each such run
    is a crash or, on the largest inputs, a whole time limit): first only as many programs as must run cleanly;
    an input on which they all did is kept, one on which too many failed is dropped, and only the inputs still
    open meet the other programs. The verdicts are those of running every program on every input. The runs
    skipped on a kept input are ones clustering makes anyway (and a RunMemo lets clustering reuse these).

    With `slow`, a program that timed out once runs its later checks at a tighter limit (see SlowCheckers): a run
    that needs more than that counts as not clean."""
    if not inputs:
        return []
    if not programs:
        return [True] * len(inputs)
    slow = slow if slow is not None else SlowCheckers()
    need = clean_needed(len(programs), min_fraction)
    may_fail = len(programs) - need
    clean = [0] * len(inputs)
    failed = [0] * len(inputs)
    waves = (range(need), range(need, len(programs)))
    for wave in waves:
        open_inputs = [i for i in range(len(inputs)) if clean[i] < need and failed[i] <= may_fail]
        # Program by program: the sandbox runs a program's consecutive small tests in one child (much faster).
        pairs = [(p, i) for p in wave for i in open_inputs]
        if not pairs:
            break
        for r in _run_pairs(executor, programs, inputs, limits, pairs, slow):
            if r.status is Status.OK:
                clean[r.input_index] += 1
            else:
                failed[r.input_index] += 1
            advance(1)
    return [c >= need for c in clean]


def check_sample(survivors: Sequence[Program], k: int, seed: int) -> list[Program]:
    """A seeded sample of at most k survivors: the clean-run check need not run all of them."""
    if len(survivors) <= k:
        return list(survivors)
    idx = sorted(random.Random(seed).sample(range(len(survivors)), k))
    return [survivors[i] for i in idx]


def generator_outputs(
    executor: BatchExecutor,
    generators: Sequence[str],
    seed_inputs: Sequence[str],
    limits: Limits,
    max_bytes: int,
    advance: Advance,
) -> list[list[str]]:
    """Run every generator program on every seed; per generator, the inputs it printed (failed runs
    dropped)."""
    if not generators or not seed_inputs:
        return [[] for _ in generators]
    glimits = replace(limits, time_s=max(limits.time_s, 2.0), wall_s=None, output_bytes=max_bytes + 1)
    got: list[dict[int, str]] = [{} for _ in generators]
    programs = [Program(g) for g in generators]
    for r in executor.run_batch(programs, list(seed_inputs), glimits):
        if r.status is Status.OK and r.stdout.strip():
            got[r.program_index][r.input_index] = r.stdout.decode("utf-8", "replace")
        advance(1)
    return [[d[i] for i in sorted(d)] for d in got]
