"""Keeping only inputs the problem could really be judged on: run checks in the sandbox.

An input survives when the problem's validator (if the problem file has one) accepts it, and when most of a
seeded sample of example-passing programs run on it cleanly. Many wrong-looking inputs make every program
crash (a malformed format) or make correct programs disagree (an illegal value); AlphaCode kept those, we
drop them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from alphagen.stages import Advance
from sandbox import BatchExecutor
from sandbox.values import Limits, Program, Status


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


def clean_inputs(
    executor: BatchExecutor,
    programs: Sequence[Program],
    inputs: Sequence[str],
    limits: Limits,
    min_fraction: float,
    advance: Advance,
) -> list[bool]:
    """Per input: do at least `clean_needed` of `programs` run on it without a non-ok status?

    Decided in two waves, so that an input most programs cannot run costs as few runs as possible (each such run
    is a crash or, on the largest inputs, a whole time limit): first only as many programs as must run cleanly;
    an input on which they all did is kept, one on which too many failed is dropped, and only the inputs still
    open meet the other programs. The verdicts are those of running every program on every input. The runs
    skipped on a kept input are ones clustering makes anyway (and a RunMemo lets clustering reuse these)."""
    if not inputs:
        return []
    if not programs:
        return [True] * len(inputs)
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
        for r in executor.run_batch(list(programs), list(inputs), limits, pairs=pairs):
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
