"""Survivors at the problem's stated limits: who is right but too slow (#29).

A program can pass every example and still be far too slow for the hidden tests (CodeContests 762A: n up to
10^15, and every survivor loops to n). The test-input stage keeps only inputs most survivors run cleanly, so such
an input never reaches clustering when every survivor is slow. This stage writes a few inputs with sizes and
values at their stated maxima (the random source's "limit" profile over the constraints parsed from the
statement), runs the survivors on them under the problem's time and memory limits, and marks each program that
times out, runs out of memory or crashes there: the picks rank such programs after those that do not, and a
speed-up step (`SolveConfig.speedup_share`) asks the model to make them asymptotically faster.

A crash is only held against a program on an input that some survivor ran cleanly (else the input itself may be
malformed: the constraints were misread); a time-out always is (on 762A every survivor times out).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import PublicView
from alphagen.results import Candidate
from alphagen.run_memo import RunMemo
from alphagen.statuses import TestStatus
from sandbox import BatchExecutor, Program, Status

LIMIT_INPUTS = 3
"""Inputs at the limits per problem: each costs a slow program a whole time limit."""
LIMIT_SCALE = 200_000
"""The largest size written (sizes are also bounded by the parsed constraints)."""
LIMIT_BYTES = 4 << 20
"""The largest input written."""
HEAD_CHARS = 120
"""How much of an input a repair prompt shows."""
PROBE_SHARE = 0.3
"""The probe may spend this share of the problem's sampling seconds (the first chunk always runs; after it, none
starts that the time left cannot cover, the longest chunk so far being what a chunk costs): slow programs cost a
whole time limit each, and on shipped problems with many slow survivors (primes-in-range: 19.8 s, 44% of the solve)
the unbudgeted probe was the largest stage after sampling (#29, item 6). At 0.2 with that rule it stayed under 21%
of every shipped problem but cut 762A's probe short at -n 64 (10 of its 13 loops marked: the right program fell back
to the 5th pick). At 0.25 with chunks started up to the budget's end, 762A kept its first pick but the last chunk
overran: 26.5% of primes-in-range's solve with the 1.5B at -n 8 (8.0 s against a 4.2 s budget). 0.3 with the rule
gives 762A more probing than that did (0.3 of sampling less one chunk, against 0.25 plus one) and never overruns."""
PROBE_CHUNK = 2
"""Survivors probed per sandbox batch at least, in rank order; an executor with more workers gets one survivor per
worker (`probe_width`): a chunk of slow ones then costs about one time limit however wide the machine, and the
budget is checked between chunks."""


def probe_width(executor: BatchExecutor) -> int:
    """Survivors per probe batch: the executor's worker count (sandbox.Executor, RayExecutor and RunMemo say it
    as `workers`), at least PROBE_CHUNK. A fixed 2 left 14 of a 16-core GPU host's workers idle while each chunk's
    slow programs used their whole time limit."""
    workers = getattr(executor, "workers", None)
    return max(PROBE_CHUNK, workers) if isinstance(workers, int) else PROBE_CHUNK


@dataclass(frozen=True)
class LimitMark:
    """How a program failed on an input at the limits."""

    status: TestStatus
    """time_limit, memory_limit or runtime_error."""
    input_bytes: int
    head: str
    """The input's first HEAD_CHARS characters (what a repair prompt shows)."""
    where: str = "within the stated limits"
    """What the input is: one of the probe's, or a generated one another program ran in time (`probe`)."""

    @classmethod
    def on(cls, status: TestStatus, text: str, where: str = "within the stated limits") -> LimitMark:
        return cls(status, len(text.encode()), text[:HEAD_CHARS], where)


def limit_inputs(view: PublicView, seed: int, count: int = LIMIT_INPUTS) -> tuple[str, ...]:
    """Inputs whose sizes and values sit at the statement's stated maxima; () for function problems or when the
    examples' format or the constraints cannot be learned."""
    from alphagen.testgen.constraints import parse_constraints
    from alphagen.testgen.input_format import learn_input_format
    from alphagen.testgen.random_inputs import RandomInputs

    if view.kind != "stdio" or not view.public_tests:
        return ()
    examples = [t.input for t in view.public_tests]
    try:
        constraints = parse_constraints(view.description)
        fmt = learn_input_format(examples, constraints)
        gen = RandomInputs(examples, constraints, 2000, LIMIT_SCALE, LIMIT_BYTES, fmt)
    except (ValueError, RecursionError, MemoryError):  # a statement or example we cannot model: no inputs
        return ()
    rng = random.Random(seed * 7919 + 17)
    out: list[str] = []
    for _ in range(count * 4):
        if len(out) == count:
            break
        text = gen.generate("limit", rng) if gen.template is not None else None
        if text is not None and text not in out:
            out.append(text)
    return tuple(out)


Probed = dict[Program, LimitMark | None]
"""Programs probed whole on a solve's limit inputs: each one's mark, or None for one that ran them all cleanly (the
probe's memory across the rounds of one solve: the same programs on the same inputs)."""


def probe(
    harness: ProblemHarness, survivors: Sequence[Candidate], inputs: Sequence[str], executor: BatchExecutor,
    budget_s: float | None = None, known: Probed | None = None,
) -> dict[int, LimitMark]:
    """Each survivor's first failure on `inputs` (candidate index -> mark); survivors that ran them all cleanly
    are absent. Each program stops at its first failure: a slow one costs one time limit, not one per input.

    `survivors` in rank order: they run `probe_width` at a time, and with a budget no chunk starts that the time
    left of `budget_s` cannot cover (the longest chunk so far; the first always runs), so the programs the picks put
    first are probed first; the rest stay unmarked.

    A survivor that already timed out, under these limits, on a generated input that another program ran cleanly
    (the test-input checks' and clustering's runs, which `executor` remembers when it is a RunMemo) is marked from
    that run, without probing: it is slower than another survivor on an input of the problem's own. Only the rest
    spend the budget (762A at -n 64: 13 loops to n, each a whole time limit to probe, and with the machine shared
    the budget ran out before the loops in the sqrt(n) program's cluster were reached).

    With `known`, a program probed before (an earlier round of the solve) is answered from it, and each program
    this call probes whole (a time-out, or clean on every input) is added to it."""
    if not survivors or not inputs:
        return {}
    # Each survivor's sandbox program, built once (the driver wrapping is not free for function problems).
    program = {c.index: harness.program(c.code, c.language) for c in survivors}
    marks: dict[int, LimitMark] = {}
    if known is not None:
        for c in survivors:
            if program[c.index] in known:
                if (mark := known[program[c.index]]) is not None:
                    marks[c.index] = mark
        survivors = [c for c in survivors if program[c.index] not in known]
    if isinstance(executor, RunMemo):
        for c in survivors:
            outrun = executor.outrun_on(program[c.index], harness.limits)
            if outrun is not None:
                marks[c.index] = LimitMark.on(TestStatus.TIME_LIMIT, outrun.decode(errors="replace"),
                                              "that another program ran in time")
        survivors = [c for c in survivors if c.index not in marks]
    deadline = None if budget_s is None else time.perf_counter() + budget_s
    failures: dict[int, tuple[int, Status]] = {}
    clean_on: set[int] = set()
    width = probe_width(executor)
    longest = 0.0
    ran = 0
    for start in range(0, len(survivors), width):
        began = time.perf_counter()
        if start and deadline is not None and began + longest > deadline:
            break
        ran = min(len(survivors), start + width)
        programs = [program[c.index] for c in survivors[start : start + width]]
        for r in executor.run_batch(programs, list(inputs), harness.limits, stop_on_first_failure=True):
            if r.status is Status.OK:
                clean_on.add(r.input_index)
            elif r.status in (Status.TIME_LIMIT, Status.MEMORY_LIMIT, Status.RUNTIME_ERROR):
                p = start + r.program_index
                first = failures.get(p)
                if first is None or r.input_index < first[0]:
                    failures[p] = (r.input_index, r.status)
        longest = max(longest, time.perf_counter() - began)
    for p, (i, status) in failures.items():
        if status is not Status.TIME_LIMIT and i not in clean_on:
            continue  # nobody ran this input cleanly: it may be malformed, not the program slow
        marks[survivors[p].index] = LimitMark.on(TestStatus.from_sandbox(status), inputs[i])
    if known is not None:
        # Settled whatever else a later round probes: a time-out, or a clean run of every input. (A crash or a
        # memory limit is held against a program only on an input another ran cleanly: left to be probed again.)
        for p, c in enumerate(survivors[:ran]):
            if p not in failures or failures[p][1] is Status.TIME_LIMIT:
                known[program[c.index]] = marks.get(c.index)
    return marks


def marked(candidates: Sequence[Candidate], marks: dict[int, LimitMark]) -> list[Candidate]:
    """The candidates with their marks (Candidate.limit_status and limit_feedback) set."""
    return [
        replace(c, limit_status=marks[c.index].status.value, limit_feedback=feedback_text(marks[c.index]))
        if c.index in marks else c
        for c in candidates
    ]


def feedback_text(mark: LimitMark) -> str:
    """What a speed-up prompt says about the input (the failure itself is said from limit_status)."""
    more = "..." if mark.input_bytes > len(mark.head.encode()) else ""
    return f"an input of {mark.input_bytes} bytes {mark.where}, starting:\n{mark.head.rstrip()}{more}"
