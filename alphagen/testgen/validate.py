"""Keeping only inputs the problem could really be judged on: run checks in the sandbox.

An input survives when the problem's validator (if the problem file has one) accepts it, and when most of a
seeded sample of example-passing programs run on it cleanly. Many wrong-looking inputs make every program
crash (a malformed format) or make correct programs disagree (an illegal value); AlphaCode kept those, we
drop them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import partial

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
    runs (a RunMemo keys them by limits), so clustering runs it again, at the full limit, on the inputs kept.

    With `presume`, a checker's time-out on an input is also presumed, without running, on every later input that
    is at least as large in every number (`at_least`: as many tokens or more, each number at least the timed-out
    input's in size, the other tokens equal; 1068B, 1076B: a loop to n, and a larger n takes longer). A presumed
    time-out is a guess (a program's time need not grow with every number: 1076B's loops end early on an odd
    prime), and one that only ever counts against an input (the input has one clean run fewer), so it can drop
    an input a real run would keep, never keep one it would drop. By length alone the guess was too broad: 762A's
    inputs 'n k' with a small n and a large k are long, run at once, and were 5 of its 6 inputs that split the
    survivors.
    """

    share: float = 1.0
    presume: bool = False
    slow: set[int] = field(default_factory=set)
    probed: set[int] = field(default_factory=set)
    """Checkers already run alone on a largest input (see _run_pairs)."""
    timed_out: dict[int, list[list[str]]] = field(default_factory=dict)
    """Per checker: the inputs (as tokens) it timed out on, at whatever limit it ran under."""
    presumed: int = 0
    """Runs not made: time-outs presumed (counted, for the stage's counts)."""
    cut: int = 0
    """Inputs left undecided at the deadline (not kept)."""

    def limits(self, limits: Limits) -> Limits:
        """The limits of a slow checker's runs."""
        wall = None if limits.wall_s is None else limits.wall_s * self.share
        return replace(limits, time_s=limits.time_s * self.share, wall_s=wall)

    def note(self, r: Result, inputs: Sequence[str]) -> Result:
        """A run's result: a time-out makes its program slow, and its input one that larger inputs are presumed
        to time out on. (A time-out at the tighter limit says the same of the tighter limit, the one its later
        runs get.)"""
        if self.share < 1.0 and r.status is Status.TIME_LIMIT:
            self.slow.add(r.program_index)
            self.timed_out.setdefault(r.program_index, []).append(inputs[r.input_index].split())
        return r

    def presumes(self, program: int, text: str) -> bool:
        """Whether the checker's run on this input is presumed a time-out: it timed out on one no larger."""
        if not self.presume or program not in self.timed_out:
            return False
        tokens = text.split()
        return any(at_least(tokens, small) for small in self.timed_out[program])

    def presumed_result(self, program: int, input_index: int) -> Result:
        """A presumed time-out's stand-in result: never run, marked as such in its detail, never stored (only
        clean_inputs sees it, and it counts as not clean)."""
        self.presumed += 1
        return Result(program_index=program, input_index=input_index, status=Status.TIME_LIMIT, detail=PRESUMED)


def at_least(tokens: Sequence[str], small: Sequence[str]) -> bool:
    """Whether an input (as tokens) is at least as large as another in every respect: as many tokens or more,
    each of the other's numbers matched in place by one at least as large in size, each other token equal."""
    if len(tokens) < len(small):
        return False
    for big, little in zip(tokens, small, strict=False):
        if big == little:
            continue
        try:
            if abs(float(big)) < abs(float(little)):
                return False
        except ValueError:
            return False
    return True


PRESUMED = "presumed time-out: not run (the checker timed out on an input at least as short)"


def _past(deadline: float | None) -> bool:
    return deadline is not None and time.perf_counter() >= deadline


def _run_pairs(
    executor: BatchExecutor,
    programs: Sequence[Program],
    inputs: Sequence[str],
    limits: Limits,
    pairs: list[tuple[int, int]],
    slow: SlowCheckers,
    is_open: Callable[[int], bool],
    deadline: float | None,
) -> Iterator[Result]:
    """The pairs' results, a slow checker's at its tighter limits; pairs of an input already decided (`is_open`
    false) are not run, and none start past the deadline (their inputs stay undecided).

    A checker not seen yet first runs alone on its longest input (the likeliest to time out), one test per child,
    at the tighter limit: its other pairs then run knowing whether it is slow, and a slow one's first time-out costs
    a share of the limit, not the whole (1076B: six slow checkers, 14 s of probes at the whole limit). Stopping a
    running batch at the first time-out would not save that: a child running several tests of a program reruns the
    ones after a time-out one by one, and an abandoned batch waits for it (on 762A a worker slot was restarted)."""
    if slow.share >= 1.0:
        yield from executor.run_batch(list(programs), list(inputs), limits, pairs=pairs)
        return
    note = partial(slow.note, inputs=inputs)
    first: dict[int, int] = {}
    for p, i in pairs:
        if p not in slow.probed and (p not in first or len(inputs[i]) > len(inputs[first[p]])):
            first[p] = i
    if first:
        probe = list(first.items())
        yield from map(note, executor.run_batch(list(programs), list(inputs), slow.limits(limits), pairs=probe,
                                                tests_per_child=1))
        slow.probed |= set(first)
    probed = set(first.items())
    rest = [pair for pair in pairs if pair not in probed]
    # Who is slow now decides each pair's limit (one that times out in the full batch below has run its pairs).
    slow_now = set(slow.slow)
    # The checkers that never timed out, together (several tests of a program per child: the fast path).
    full = [(p, i) for p, i in rest if p not in slow_now and is_open(i)]
    if full and not _past(deadline):
        yield from map(note, executor.run_batch(list(programs), list(inputs), limits, pairs=full))
    # The slow ones in rounds of one input per checker, each checker's smallest first (shortest, then in text
    # order: numerically, for numbers of one length): a time-out then presumes one on every input of its later
    # rounds at least as large, which is not run.
    tight = sorted(((p, i) for p, i in rest if p in slow_now), key=lambda pair: (len(inputs[pair[1]]), inputs[pair[1]]))
    while tight and not _past(deadline):
        batch: dict[int, int] = {}
        later: list[tuple[int, int]] = []
        for p, i in tight:
            if not is_open(i):
                continue
            if slow.presumes(p, inputs[i]):
                yield slow.presumed_result(p, i)
            elif p in batch:
                later.append((p, i))
            else:
                batch[p] = i
        if batch:
            yield from map(note, executor.run_batch(list(programs), list(inputs), slow.limits(limits),
                                                    pairs=list(batch.items()), tests_per_child=1))
        tight = later


def clean_inputs(
    executor: BatchExecutor,
    programs: Sequence[Program],
    inputs: Sequence[str],
    limits: Limits,
    min_fraction: float,
    advance: Advance,
    slow: SlowCheckers | None = None,
    deadline: float | None = None,
) -> list[bool]:
    """Per input: do at least `clean_needed` of `programs` run on it without a non-ok status?

    Decided in two waves, so that an input most programs cannot run costs as few runs as possible (each such run
    is a crash or, on the largest inputs, a whole time limit): first only as many programs as must run cleanly;
    an input on which they all did is kept, one on which too many failed is dropped, and only the inputs still
    open meet the other programs. The verdicts are those of running every program on every input. The runs
    skipped on a kept input are ones clustering makes anyway (and a RunMemo lets clustering reuse these).

    With `slow`, a program that timed out once runs its later checks at a tighter limit, and (`slow.presume`)
    is presumed to time out on inputs at least as long without running (see SlowCheckers): a run that needs more
    than that limit, or a presumed time-out, counts as not clean. Known-slow programs go to the second wave. At
    `deadline` (a `time.perf_counter()`) no further batch starts and the inputs still undecided are not kept
    (`slow.cut` counts them). So every verdict is that of the runs or stricter: an input may be dropped that every
    run at the full limit would keep, never the other way."""
    if not inputs:
        return []
    if not programs:
        return [True] * len(inputs)
    slow = slow if slow is not None else SlowCheckers()
    need = clean_needed(len(programs), min_fraction)
    may_fail = len(programs) - need
    clean = [0] * len(inputs)
    failed = [0] * len(inputs)

    def is_open(i: int) -> bool:
        return clean[i] < need and failed[i] <= may_fail

    # Known-slow checkers last: the first wave then decides most inputs with the programs that run them fast.
    order = sorted(range(len(programs)), key=lambda p: p in slow.slow)
    waves = (order[:need], order[need:])
    for wave in waves:
        open_inputs = [i for i in range(len(inputs)) if is_open(i)]
        # Program by program: the sandbox runs a program's consecutive small tests in one child (much faster).
        pairs = [(p, i) for p in wave for i in open_inputs]
        if not pairs or _past(deadline):
            break
        for r in _run_pairs(executor, programs, inputs, limits, pairs, slow, is_open, deadline):
            if r.status is Status.OK:
                clean[r.input_index] += 1
            else:
                failed[r.input_index] += 1
            advance(1)
    slow.cut += sum(1 for i in range(len(inputs)) if is_open(i))
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
