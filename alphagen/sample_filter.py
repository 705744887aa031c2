"""Stages 2-3 of a solve, overlapped with the sampler: drop duplicates, run the rest on the examples.

`draw_and_filter` draws one plan (a draw step's requests, `alphagen.draws`) and runs each new distinct program on
the examples while the sampler goes on drawing; `draw_and_filter_many` does it for several problems' plans in one
sampler call. `resolve` gives a pool its final form: deduplicated, each class with its outcome. The feedback kept
for a failure (what a repair prompt quotes) is written by `alphagen.feedback`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from alphagen import extract
from alphagen.feedback import feedback_text, syntax_feedback
from alphagen.problems.harness import ProblemHarness
from alphagen.results import Candidate
from alphagen.stages import Progress, Stage, advancing, noop_progress
from alphagen.statuses import TestStatus
from sandbox import BatchExecutor, Result

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams

FILTER_BATCH = 8
"""While sampling, new distinct programs go to the sandbox in groups of this many: enough to keep the workers
busy, few enough that the filter keeps up with the sampler."""


def dedup(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Stage 2: mark programs equal up to comments/layout as duplicates of the first; they are not executed."""
    first: dict[str, int] = {}
    out = []
    for c in candidates:
        key = extract.fingerprint(c.code, c.language)
        if key in first:
            out.append(replace(c, duplicate_of=first[key]))
        else:
            first[key] = c.index
            out.append(c)
    return out


@dataclass(frozen=True)
class ExampleOutcome:
    """How one program did on the public tests: its status, and for a failure what a repair prompt shows."""

    status: TestStatus
    """'ok' when it passed every example, else its first failure's status."""
    passed: int = 0
    """Examples passed (before its first failure: the filter stops there)."""
    failed_example: int | None = None
    """Index of the first failing example (None when it passed or never ran)."""
    feedback: str = ""
    """Its output there (wrong answer), its stderr tail (crash), the compiler's message; see feedback.feedback_text."""


def example_outcomes(
    harness: ProblemHarness,
    distinct: Sequence[Candidate],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> dict[int, ExampleOutcome]:
    """Each program's outcome on the public tests, stopping at its first failure in example order."""
    out: dict[int, ExampleOutcome] = {}
    runnable = []
    for c in distinct:
        # A Python program that does not even compile is rejected here, without a round trip to the sandbox.
        if c.language == "python" and not extract.python_syntax_ok(c.code):
            out[c.index] = ExampleOutcome(TestStatus.COMPILE_ERROR, feedback=syntax_feedback(c.code))
        else:
            runnable.append(c)
    progress(Stage.FILTER, len(distinct) - len(runnable), None)
    inputs, expected = list(harness.example_inputs), list(harness.example_expected)
    if not inputs:
        # No examples to filter on (some HumanEval docstrings have none): every program that compiles survives,
        # and clustering alone ranks them.
        out.update({c.index: ExampleOutcome(TestStatus.OK) for c in runnable})
        progress(Stage.FILTER, len(runnable), None)
        return out
    if not runnable:
        return out
    programs = [harness.program(c.code, c.language) for c in runnable]
    passed_count: dict[int, int] = {}
    failures: dict[int, Result] = {}
    # All of a program's examples in one child, in order, stopping at the first failure: that failure (and the
    # examples passed before it) is then the same on every run, whatever the scheduling, so the repair prompts
    # built from it are too (examples over the sandbox's 8 KiB grouping limit may still be split: the lowest
    # failing example received is kept).
    for r in executor.run_batch(
        programs, inputs, harness.limits, expected=expected, compare=harness.compare, stop_on_first_failure=True,
        tests_per_child=len(inputs),
    ):
        c = runnable[r.program_index]
        ran = TestStatus.from_sandbox(r.status)
        if ran is not TestStatus.OK or not r.passed:
            if c.index not in failures:
                progress(Stage.FILTER, 1, None)
            if c.index not in failures or r.input_index < failures[c.index].input_index:
                failures[c.index] = r
        else:
            passed_count[c.index] = passed_count.get(c.index, 0) + 1
            if passed_count[c.index] == len(inputs):
                out[c.index] = ExampleOutcome(TestStatus.OK, passed=len(inputs))
                progress(Stage.FILTER, 1, None)
    for index, r in failures.items():
        ran = TestStatus.from_sandbox(r.status)
        status = ran if ran is not TestStatus.OK else TestStatus.WRONG_ANSWER
        out[index] = ExampleOutcome(status, passed=passed_count.get(index, 0), failed_example=r.input_index,
                                    feedback=feedback_text(status, r.stdout, r.stderr, r.detail))
    return out


def with_outcomes(candidates: Sequence[Candidate], outcomes: dict[int, ExampleOutcome]) -> list[Candidate]:
    """Set each candidate's example outcome; duplicates inherit the outcome of the program they duplicate."""
    out = []
    for c in candidates:
        o = outcomes.get(c.duplicate_of if c.duplicate_of is not None else c.index, ExampleOutcome(TestStatus.NOT_RUN))
        out.append(replace(c, passed_examples=(o.status == TestStatus.OK), example_status=o.status,
                           examples_passed=o.passed, failed_example=o.failed_example, feedback=o.feedback))
    return out


def outcome_of(c: Candidate) -> ExampleOutcome:
    """A filtered candidate's outcome, read back from its fields (a resumed run's stored samples)."""
    return ExampleOutcome(TestStatus(c.example_status or TestStatus.NOT_RUN), c.examples_passed, c.failed_example,
                          c.feedback)


class DrawPlan(Protocol):
    """What `draw_and_filter` needs of a plan: the requests, the params, and how a completion becomes a candidate
    (draws.SamplingPlan for fresh samples, repair.RepairPlan for fixes)."""

    @property
    def requests(self) -> tuple[PromptRequest, ...]: ...
    @property
    def params(self) -> SamplingParams: ...
    def candidate(self, comp: Completion) -> Candidate: ...


def draw_and_filter(
    harness: ProblemHarness,
    plan: DrawPlan,
    sampler: Sampler,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    known: Mapping[str, ExampleOutcome] | None = None,
    batch: int = FILTER_BATCH,
) -> tuple[list[Candidate], dict[str, ExampleOutcome], float]:
    """Draw a plan's samples and run each new distinct program on the examples while the sampler goes on.

    The sampler runs in a background thread (a bounded queue between them); every ``batch`` new distinct programs
    go to the sandbox at once. Programs whose fingerprint is in ``known`` (the pool drawn before) are not run
    again. Returns the drawn candidates in index order, each with its class's outcome (not yet deduplicated: the
    pool is, once complete), every fingerprint's outcome (``known`` included) and the sampling seconds (the rest
    of the time is the filter's tail).
    """
    (one,) = draw_and_filter_many([(harness, plan)], sampler, executor, progress, [known], batch)
    return one.candidates, one.outcomes, one.seconds


@dataclass
class Drawn:
    """One plan's share of a draw: what `draw_and_filter` returns for it."""

    candidates: list[Candidate]
    """Its samples in index order, each with its class's outcome (not yet deduplicated)."""
    outcomes: dict[str, ExampleOutcome]
    """Fingerprint -> outcome of every class seen (the ``known`` ones included)."""
    seconds: float
    """Alone: the sampling seconds. Drawn with other plans: its share of the whole call by tokens drawn (the
    filter's tail included, since no later stage accounts for it), so the shares add up to the call's time."""


class _Filtering:
    """One plan's running state in a draw: its candidates, the new distinct programs waiting for the sandbox,
    and every fingerprint's outcome."""

    def __init__(self, harness: ProblemHarness, known: Mapping[str, ExampleOutcome] | None) -> None:
        self.harness = harness
        self.sampled: list[Candidate] = []
        self.by_key: dict[str, ExampleOutcome] = dict(known or {})
        self.seen: set[str] = set(self.by_key)
        self.pending: list[tuple[str, Candidate]] = []
        self.key_of: dict[int, str] = {}  # sample index -> fingerprint
        self.tokens = 0

    def add(self, cand: Candidate, tokens: int) -> None:
        self.sampled.append(cand)
        self.tokens += tokens
        key = self.key_of[cand.index] = extract.fingerprint(cand.code, cand.language)
        if key not in self.seen:
            self.seen.add(key)
            self.pending.append((key, cand))

    def flush(self, executor: BatchExecutor, progress: Progress) -> None:
        if not self.pending:
            return
        outcomes = example_outcomes(self.harness, [c for _, c in self.pending], executor, progress)
        self.by_key.update({key: outcomes.get(c.index, ExampleOutcome(TestStatus.NOT_RUN)) for key, c in self.pending})
        self.pending.clear()

    def result(self, seconds: float) -> Drawn:
        drawn = [with_outcomes([c], {c.index: self.by_key[self.key_of[c.index]]})[0]
                 for c in sorted(self.sampled, key=lambda c: c.index)]
        return Drawn(drawn, self.by_key, seconds)


def draw_and_filter_many(
    items: Sequence[tuple[ProblemHarness, DrawPlan]],
    sampler: Sampler,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    known: Sequence[Mapping[str, ExampleOutcome] | None] | None = None,
    batch: int = FILTER_BATCH,
) -> list[Drawn]:
    """`draw_and_filter` for several plans (of several problems) in one sampler call: one continuous batch, so
    the rows one plan's last, longest samples leave idle are filled by the next plan's samples.

    Every request keeps its plan's sample indices (``first_index``), so each sample has its own random stream as
    when its plan is drawn alone. The samples are the same draws, though not always bit for bit: a batch's other
    rows and prompt widths change how attention rounds (docs/sampling.md). The plans must share their sampling
    params. Returns each plan's `Drawn`, in the order given.
    """
    from alphagen.overlap import Background
    from alphagen.sampling.params import sample_offsets

    if not items:
        return []
    params = items[0][1].params
    for _, plan in items[1:]:
        if plan.params != params:
            raise ValueError(f"plans drawn together must share their sampling params, got {plan.params} and {params}")
    known = list(known) if known is not None else [None] * len(items)
    if len(known) != len(items):
        raise ValueError(f"known must give one mapping per plan ({len(items)}), got {len(known)}")
    # One request list for the sampler; route[i] says whose request i is (plan j, its own request index). A plan
    # drawn alone passes its requests as they are (a Ray sampler recognises the plan it prefetched by them).
    requests: list[PromptRequest] = []
    route: list[tuple[int, int]] = []
    for j, (_, plan) in enumerate(items):
        own = list(plan.requests)
        for ri, (req, offset) in enumerate(zip(own, sample_offsets(own), strict=True)):
            requests.append(req if len(items) == 1 else replace(req, first_index=offset))
            route.append((j, ri))
    states = [_Filtering(harness, k) for (harness, _), k in zip(items, known, strict=True)]
    # Drawn with others, a plan whose samples are all in runs its last programs at once, while the sampler goes on
    # with the others' (alone, its last ones wait for the end: the sampling seconds stop before them).
    expected = [sum(r.count for r in plan.requests) if len(items) > 1 else -1 for _, plan in items]

    started = time.perf_counter()
    stream = sampler.sample(requests, params, progress=advancing(progress, Stage.SAMPLE))
    with Background(stream, maxsize=max(2 * batch, 16)) as completions:
        for comp in completions:
            j, ri = route[comp.request_index]
            state = states[j]
            state.add(items[j][1].candidate(replace(comp, request_index=ri)), comp.num_tokens)
            if len(state.pending) >= batch or len(state.sampled) == expected[j]:
                state.flush(executor, progress)
    sample_s = time.perf_counter() - started
    for state in states:
        state.flush(executor, progress)
    if len(states) == 1:
        return [states[0].result(sample_s)]
    total_s = time.perf_counter() - started
    tokens = sum(st.tokens for st in states)
    return [st.result(total_s * (st.tokens / tokens if tokens else 1 / len(states))) for st in states]


def pool_outcomes(pool: Sequence[Candidate]) -> dict[str, ExampleOutcome]:
    """Fingerprint -> outcome of the pool's executed programs (what a later step need not run again)."""
    return {extract.fingerprint(c.code, c.language): outcome_of(c) for c in pool if c.duplicate_of is None}


def resolve(pool: Sequence[Candidate], by_key: Mapping[str, ExampleOutcome]) -> list[Candidate]:
    """The whole pool deduplicated (the lowest sample index of each class is its original, as stage 2 marks it)
    with each class's outcome: the class's first *arrived* program was the one run, and programs equal up to
    comments and layout behave alike."""
    candidates = dedup(sorted(pool, key=lambda c: c.index))
    outcomes = {c.index: by_key[extract.fingerprint(c.code, c.language)] for c in candidates
                if c.duplicate_of is None}
    return with_outcomes(candidates, outcomes)


class Pool:
    """The samples a solve's draw steps have drawn so far and every fingerprint's example outcome: what a later
    step's filter need not run again, and (resolved) what a repair round chooses its parents from."""

    def __init__(self) -> None:
        self.candidates: list[Candidate] = []
        self.outcomes: dict[str, ExampleOutcome] = {}

    def add(self, drawn: Sequence[Candidate], outcomes: Mapping[str, ExampleOutcome]) -> None:
        """A step just drawn and filtered (`outcomes`: every fingerprint's outcome, the known ones included)."""
        self.candidates += drawn
        self.outcomes.update(outcomes)

    def add_stored(self, drawn: Sequence[Candidate]) -> None:
        """A step read back from a checkpoint: its programs' outcomes are in their fields."""
        self.candidates += drawn
        for key, outcome in pool_outcomes(drawn).items():
            self.outcomes.setdefault(key, outcome)

    def resolved(self) -> list[Candidate]:
        """The pool deduplicated, each class with its outcome (`resolve`)."""
        return resolve(self.candidates, self.outcomes)

