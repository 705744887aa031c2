"""Keeping only inputs the problem could really be judged on: run checks in the sandbox.

An input survives when the problem's validator (if the problem file has one) accepts it, and when most of a
seeded sample of example-passing programs run on it cleanly. Many wrong-looking inputs make every program
crash (a malformed format) or make correct programs disagree (an illegal value); AlphaCode kept those, we
drop them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace

from sandbox import BatchExecutor
from sandbox.values import Limits, Program, Status

Advance = Callable[[int], None]


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


def clean_fractions(
    executor: BatchExecutor, programs: Sequence[Program], inputs: Sequence[str], limits: Limits, advance: Advance
) -> tuple[list[float], list[list[str]]]:
    """Per input: the fraction of `programs` that ran without a non-ok status; and each program's outputs
    (crashes as `<status>` markers) for reporting what distinguishes."""
    if not programs or not inputs:
        return [1.0] * len(inputs), []
    ok = [0] * len(inputs)
    outs = [[""] * len(inputs) for _ in programs]
    for r in executor.run_batch(list(programs), list(inputs), limits):
        if r.status is Status.OK:
            ok[r.input_index] += 1
            outs[r.program_index][r.input_index] = r.stdout.decode("utf-8", "replace")
        else:
            outs[r.program_index][r.input_index] = f"<{r.status.value}>"
        advance(1)
    return [k / len(programs) for k in ok], outs


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
