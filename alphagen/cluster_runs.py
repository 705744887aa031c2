"""Stage 5's runs: the picking pool on the extra inputs, each survivor's behaviour its signature (`cluster_survivors`).

A survivor that timed out on an input is presumed, without running, to time out on every later input at least as
large, and runs its other later inputs at the tighter limits the test-input checks give a slow program
(`_cluster_runs`, `testgen.validate.SlowCheckers`). Under a time budget (`ClusterClock`), once it is spent a
program whose runs are slow runs no more inputs, and takes the signature of a program that agrees with it on every
input both ran (`bounded_signatures`). The grouping and picking themselves are pure and live in
`alphagen.clustering`; the pipeline calls this between the test inputs and the picks.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from alphagen import clustering
from alphagen.problems.harness import ProblemHarness
from alphagen.results import Candidate, InputSplit
from alphagen.run_memo import RunMemo
from alphagen.stages import Progress, Stage, noop_progress
from sandbox import BatchExecutor
from sandbox.values import Limits, Program, Result, Status

__all__ = ["CLUSTER_CHUNK", "ClusterClock", "Clustered", "bounded_signatures", "cluster_survivors", "input_splits"]


class Clustered(NamedTuple):
    """What clustering returns: the candidates with signatures, the CodeT agreement per survivor, how many inputs
    distinguish at least two survivors, the first inputs that split the clusters (what a report shows to explain
    them), and how many runs were presumed time-outs instead of run (`_cluster_runs`)."""

    candidates: list[Candidate]
    agreement: dict[int, float]
    distinguishing: int
    splits: tuple[InputSplit, ...]
    presumed: int
    unrun: int = 0
    """Pairs of a slow program and an input not run because the clustering's time budget was spent."""


@dataclass
class ClusterClock:
    """A solve's clustering time budget, shared by its clusterings (before and after the limit probe): once it is
    spent, a slow program (one run over SLOW_RUN_SHARE of the time limit) starts no more runs."""

    seconds: float
    """The budget granted."""
    spent: float = 0.0
    """What the clusterings under it took so far (may pass `seconds`: a round already started runs to its end)."""

    @property
    def seconds_left(self) -> float:
        return self.seconds - self.spent

    def deadline(self) -> float:
        return time.perf_counter() + max(0.0, self.seconds_left)


SLOW_RUN_SHARE = 0.1
"""A program with a run over this share of the time limit is slow: past the clustering budget it runs no more
inputs. A fast one always runs them all (its runs cost little), so fast programs' clusters are exact."""


def cluster_survivors(
    harness: ProblemHarness,
    candidates: Sequence[Candidate],
    test_inputs: Sequence[str],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    fallback: bool = True,
    presume: bool = True,
    slow_share: float = 1.0,
    fill: int = 0,
    clock: ClusterClock | None = None,
) -> Clustered:
    """Stage 5: run the picking pool (survivors, or the fallback pool when there are none or, with `fill`, fewer
    than that: see `clustering.picking_pool`) on the extra inputs; signature = their normalized behaviour.

    With `presume`, a survivor that timed out on an input is presumed, without running, to time out on every
    later input at least as large in every number; with `slow_share` under 1, its other later inputs run at that
    share of the time limit (`_cluster_runs`). With a `clock`, once its budget is spent slow programs run no more
    inputs and are clustered by what they ran (`bounded_signatures`); None runs every pair."""
    if not 0.0 < slow_share <= 1.0:
        raise ValueError(f"slow_share must be in (0, 1], got {slow_share}")
    started = time.perf_counter()
    pool = clustering.picking_pool(candidates, fallback, fill)
    survivors = [c for c in candidates if c.index in pool]
    opts = harness.compare
    norm = clustering.norm_from_tolerance(opts.float_abs, opts.float_rel, opts.case_insensitive)
    # Keys stay indexed by the inputs' own order whatever order they run in: signatures, the CodeT agreement and
    # the splits read them by input.
    # None: not run (the budget was spent before this slow program reached the input).
    keys: dict[int, list[str | None]] = {c.index: [None] * len(test_inputs) for c in survivors}
    cpu: dict[int, float] = {c.index: 0.0 for c in survivors}
    presumed = _Presumed()
    progress(Stage.CLUSTER, 0, len(survivors) * len(test_inputs))
    # The spare programs (`fill`: they failed an example) run at the tighter limits from the start: wrong answers
    # loop forever more often, and they rank after every survivor (HumanEval/123 at -n 16: three survivors, and
    # the spare programs' loops took 12 s of clustering against 23 s of sampling at the full limit).
    passed = [c for c in survivors if c.passed_examples] or survivors
    spare = {c.index for c in survivors} - {c.index for c in passed}
    if survivors and test_inputs:
        programs = [harness.program(c.code, c.language) for c in survivors]
        runs = _cluster_runs(executor, programs, test_inputs, harness.generated_limits, presumed if presume else None,
                             slow_share, {p for p, c in enumerate(survivors) if c.index in spare},
                             None if clock is None else clock.deadline())
        for r in runs:
            c = survivors[r.program_index]
            # A presumed time-out goes through the same key as a real one ('<time_limit>', whatever the output).
            keys[c.index][r.input_index] = clustering.output_key(r.stdout, r.status.value, norm)
            cpu[c.index] += r.cpu_s
            progress(Stage.CLUSTER, 1, None)
    # The counts and the CodeT agreement are the survivors' alone, as without `fill`: its spare programs rank
    # after every survivor and vote among themselves.
    if clock is not None:
        clock.spent += time.perf_counter() - started
    distinguishing = sum(
        1 for j in range(len(test_inputs)) if len({keys[c.index][j] for c in passed} - {None}) > 1
    )
    agreement = clustering.codet_scores({i: k for i, k in keys.items() if i not in spare})
    agreement |= clustering.codet_scores({i: k for i, k in keys.items() if i in spare})
    sig = bounded_signatures(keys)
    out = [
        replace(c, signature=sig[c.index], cpu_s=cpu[c.index]) if c.index in sig else c for c in candidates
    ]
    unrun = sum(k is None for ks in keys.values() for k in ks)
    return Clustered(out, agreement, distinguishing, input_splits(keys, sig), presumed.count, unrun)


UNRUN = "<not run>"
"""What a report shows for an input a program did not run (the clustering's budget was spent)."""


def bounded_signatures(keys: Mapping[int, Sequence[str | None]]) -> dict[int, str]:
    """Each program's signature from its keys; a program that did not run every input (None keys) takes the
    signature of the program that agrees with it on every input both ran, if one does: of those that ran
    everything, in the largest cluster, then the earliest sample; else, of the earlier such programs (most inputs
    run first). With no None key this is `clustering.signature` of each program's keys.

    A slow program stopped by the budget is thereby clustered with the fast programs it agreed with wherever it
    ran, not split off by what it was never asked (the clustering deadline tried in session 19 timed those runs out
    instead, which split a right-but-slow program from its fast twins and read as disagreement)."""
    sig = {i: clustering.signature([str(k) for k in ks]) for i, ks in keys.items() if None not in ks}
    size = Counter(sig.values())
    # Candidates to join: complete programs, largest cluster first, then earlier samples.
    order = sorted(sig, key=lambda i: (-size[sig[i]], i))
    partial = sorted((i for i in keys if i not in sig), key=lambda i: (sum(k is None for k in keys[i]), i))
    for i in partial:
        mine = keys[i]
        match = next((j for j in order if all(a is None or b is None or a == b
                                              for a, b in zip(mine, keys[j], strict=True))), None)
        sig[i] = sig[match] if match is not None else clustering.signature([UNRUN if k is None else k for k in mine])
        order.append(i)
    return sig


CLUSTER_CHUNK = 8
"""Inputs per program per round of clustering runs: one child's worth (the pipeline's executors run
`pipeline.TESTS_PER_CHILD`, 8, tests of a program in one child), so a program that never times out runs in as many
children as in one batch of everything."""


@dataclass
class _Presumed:
    """Per program, the inputs (as tokens) it timed out on at the full limit; the runs presumed so far."""

    timed_out: dict[int, list[list[str]]] = field(default_factory=dict)
    count: int = 0


def _cluster_runs(
    executor: BatchExecutor,
    programs: Sequence[Program],
    inputs: Sequence[str],
    limits: Limits,
    presumed: _Presumed | None,
    slow_share: float = 1.0,
    slow_from_start: frozenset[int] | set[int] = frozenset(),
    deadline: float | None = None,
) -> Iterator[Result]:
    """Every program's result on every input, in any order; with `presumed`, a program's time-outs presumed, and
    a slow one's other runs at `slow_share` of the limits.

    The test-input stage's rules (`testgen.validate.SlowCheckers`, `at_least`): a program that timed out on an input
    is presumed to time out on every later one at least as large in every number (1076B: a loop to n <= 10^10
    paid the whole limit on each of 15 ten-digit inputs, 48% of its solve). A presumed time-out is a stand-in
    Result (status time limit, never run, 0 CPU seconds), so it gets the same key as a real one; it differs from
    the real run only where that would not have timed out (a time that does not grow with every number).

    A slow program (one that timed out at the full limit, here or in the test-input stage's runs that a RunMemo
    holds) runs its later inputs at `slow_share` of the limits, as the test-input checks do: a program slow on
    inputs that no number orders (HumanEval 116's sort by bit count loops forever on every negative number: 12 of
    22 inputs, none larger than another) paid a whole limit on each, 22 s of clustering against 15 s of sampling.
    Its answers in milliseconds keep their keys (762A's inputs with a small n split its slow survivors); only a run
    between the two limits becomes a time-out, of a program already known to time out. Those runs are the
    test-input checks' own (same tighter limits): a RunMemo reads them back. The programs in `slow_from_start` are
    slow before any time-out.

    Once the time left to `deadline` (a `time.perf_counter()` value; None: never) cannot cover another round as long
    as the longest so far, a program with a run over SLOW_RUN_SHARE of the limits starts no more runs: its other
    pairs are left out (not yielded). The runs already known always come, and a program seen slow by none of them
    runs at least its first chunk."""
    if presumed is None:
        yield from executor.run_batch(list(programs), list(inputs), limits)
        return
    from alphagen.testgen.validate import PRESUMED, SlowCheckers, at_least

    # The very limits the test-input checks give a slow checker, so that a RunMemo finds their runs.
    tight = SlowCheckers(share=slow_share).limits(limits)
    memo = executor if isinstance(executor, RunMemo) else None
    tokens = [text.split() for text in inputs]
    # Slow from the start: the programs the test-input checks saw time out at the full limit.
    slow = {p for p in range(len(programs)) if slow_share < 1.0 and (
        p in slow_from_start or (memo is not None and memo.timed_out(programs[p], limits)))}
    # Runs already known (a RunMemo holds the test-input stage's runs) come first, together: they cost nothing,
    # their time-outs presume at once, and a known result is never replaced by a presumed one. A slow program's
    # run at the tighter limits counts as known where the full-limit one is not.
    known: list[tuple[int, int]] = []
    known_tight: list[tuple[int, int]] = []
    if memo is not None:
        for p in range(len(programs)):
            for i in range(len(inputs)):
                if memo.has(programs[p], inputs[i], limits):
                    known.append((p, i))
                elif p in slow and memo.has(programs[p], inputs[i], tight):
                    known_tight.append((p, i))
    # The rest of each program's inputs, smallest first (shortest, then in text order: numerically, for numbers
    # of one length), so that a time-out comes as early as it can and presumes on as many later inputs as it can.
    done = set(known) | set(known_tight)
    order = sorted(range(len(inputs)), key=lambda i: (len(inputs[i]), inputs[i]))
    todo = {p: [i for i in order if (p, i) not in done] for p in range(len(programs))}
    full, short = known, known_tight
    slowest: dict[int, float] = {}
    heavy = SLOW_RUN_SHARE * limits.time_s
    longest = 0.0
    while True:
        began = time.perf_counter()
        for batch, lim in ((full, limits), (short, tight)):
            for r in executor.run_batch(list(programs), list(inputs), lim, pairs=batch) if batch else ():
                if r.status is Status.TIME_LIMIT:
                    presumed.timed_out.setdefault(r.program_index, []).append(tokens[r.input_index])
                    if slow_share < 1.0:
                        slow.add(r.program_index)
                slowest[r.program_index] = max(slowest.get(r.program_index, 0.0), r.cpu_s)
                yield r
        # The next round: a program that never timed out runs its next chunk; one that did runs its next input
        # not presumed, alone, so that each of its time-outs can presume on the inputs after it. Past the
        # deadline a program with a heavy run stops: what it has not run stays unknown (`bounded_signatures`).
        full, short = [], []
        # The cover rule of the limit probe: past the deadline once the time left cannot cover another round as
        # long as the longest so far (a slow program's chunk of large inputs can take seconds).
        now = time.perf_counter()
        longest = max(longest, now - began)
        past = deadline is not None and now + longest >= deadline
        for p, rest in todo.items():
            if past and slowest.get(p, 0.0) > heavy:
                rest.clear()
                continue
            timed_out = presumed.timed_out.get(p)
            take = 1 if timed_out or p in slow else CLUSTER_CHUNK
            while rest and take:
                i = rest.pop(0)
                if timed_out and any(at_least(tokens[i], small) for small in timed_out):
                    presumed.count += 1
                    yield Result(program_index=p, input_index=i, status=Status.TIME_LIMIT, detail=PRESUMED)
                    continue
                (short if p in slow else full).append((p, i))
                take -= 1
        # Every pair either ran or was presumed: a round with nothing to run means nothing is left.
        if not full and not short:
            return


SPLITS_KEPT = 10
"""Splitting inputs kept per problem: enough to explain the clusters, few enough for the stored results."""
OUTPUT_CHARS = 200
"""Each cluster's output on a splitting input is cut to this many characters in the stored results."""


def input_splits(keys: Mapping[int, Sequence[str | None]], sig: Mapping[int, str]) -> tuple[InputSplit, ...]:
    """The first SPLITS_KEPT inputs on which the clusters' representatives (of each signature, the program that ran
    the most inputs, then the lowest sample) disagree where they ran, with each representative's output (UNRUN
    where it did not run)."""
    first: dict[str, int] = {}
    for i in sorted(sig, key=lambda i: (sum(k is None for k in keys[i]), i)):
        first.setdefault(sig[i], i)
    reps = sorted(first.values())
    if len(reps) < 2:
        return ()
    splits = []
    for j in range(len(keys[reps[0]])):
        outputs = tuple((r, (UNRUN if keys[r][j] is None else str(keys[r][j]))[:OUTPUT_CHARS]) for r in reps)
        if len({keys[r][j] for r in reps} - {None}) > 1:
            splits.append(InputSplit(j, outputs))
            if len(splits) == SPLITS_KEPT:
                break
    return tuple(splits)
