"""Stages 1-3 of a solve: sample programs, drop duplicates, run the rest on the examples, overlapped.

`plan_sampling` is the one place stage-1 prompts and params are built (the pipeline, Ray prefetch and the quality
benchmark use it). `sample_and_filter` runs the example filter while the sampler goes on drawing; the staged
functions (`sample_candidates`, `dedup`, `filter_on_examples`) give the same result one stage after another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from alphagen import extract, prompting, repair
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem
from alphagen.results import Candidate
from alphagen.statuses import TestStatus
from sandbox import BatchExecutor, Result

if TYPE_CHECKING:
    from alphagen.pipeline import Models, SolveConfig
    from alphagen.sampling.factory import Sampler
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams

# progress(stage, advance, total): `total` is given once when a stage starts (advance 0), then advances follow.
Progress = Callable[[str, int, "int | None"], None]

FILTER_BATCH = 8
"""While sampling, new distinct programs go to the sandbox in groups of this many: enough to keep the workers
busy, few enough that the filter keeps up with the sampler."""


def noop_progress(stage: str, advance: int, total: int | None) -> None:
    return None


@dataclass(frozen=True)
class SamplingPlan:
    """What stage 1 asks the sampler for on one problem: the prompt groups, their requests and the params."""

    groups: tuple[prompting.PromptGroup, ...]
    requests: tuple[PromptRequest, ...]
    params: SamplingParams
    stub: tuple[str, str] | None = None
    """(stub, entry point) of a function problem: its imports and helpers complete programs that omit them."""

    def candidate(self, comp: Completion) -> Candidate:
        """The pipeline's record of one finished sample of this plan."""
        g = self.groups[comp.request_index]
        meta = g.meta.as_dict() | {"num_tokens": comp.num_tokens, "finish_reason": comp.finish_reason}
        code = extract.extract_code(comp.text, g.code_prefix)
        if self.stub is not None and not g.code_prefix:
            code = extract.with_stub_context(code, *self.stub)
        return Candidate(index=comp.sample_index, language=g.meta.language, code=code, meta=meta)


def plan_sampling(problem: Problem, cfg: SolveConfig, tokenizer: Any) -> SamplingPlan:
    """The prompts and sampling params of stage 1 for this problem and config (Ray prefetch plans the same): the
    fresh samples, cfg.n less the repair share. They are exactly the first samples of a run without repairs."""
    fresh, _ = repair.split_budget(cfg.n, cfg.repair_share)
    return plan_slice(problem, cfg, tokenizer, 0, fresh)


def plan_slice(problem: Problem, cfg: SolveConfig, tokenizer: Any, start: int, stop: int) -> SamplingPlan:
    """The fresh samples start..stop-1 of the cfg.n a run without repairs would draw: the same prompt groups
    (metadata draws) and the same sample indices, hence the same programs. From 0 it is stage 1's plan; later
    slices top a repair run's budget up when nothing is left to repair."""
    # Imported here: the sampling package pulls in torch, which commands that never sample should not pay for.
    from alphagen.sampling.params import PromptRequest, SamplingParams

    if not 0 <= start < stop <= cfg.n:
        raise ValueError(f"need 0 <= start < stop <= n={cfg.n}, got {start}..{stop}")
    groups = prompting.build_prompts(
        tokenizer,
        problem.public_view(),
        cfg.n,
        seed=cfg.seed,
        language=cfg.language,
        samples_per_prompt=cfg.samples_per_prompt,
        use_metadata=cfg.use_metadata,
        prefill=cfg.prefill,
    )
    params = SamplingParams(
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        max_new_tokens=cfg.max_new_tokens,
        seed=cfg.seed,
        stop=("```",),
    )
    kept: list[prompting.PromptGroup] = []
    requests: list[PromptRequest] = []
    at = 0
    for g in groups:
        lo, hi = max(at, start), min(at + g.count, stop)
        if lo < hi:
            kept.append(replace(g, count=hi - lo))
            # From sample 0 the requests number themselves (as they always did); a later slice says where it starts.
            requests.append(PromptRequest(prompt=g.text, count=hi - lo, first_index=None if start == 0 else lo))
        at += g.count
    stub = None
    if problem.kind == "function" and problem.signature and problem.entry_point:
        stub = (problem.signature, problem.entry_point)
    return SamplingPlan(groups=tuple(kept), requests=tuple(requests), params=params, stub=stub)


def sample_candidates(
    problem: Problem, cfg: SolveConfig, models: Models, progress: Progress = noop_progress
) -> list[Candidate]:
    """Stage 1: draw the fresh programs (cfg.n without repairs). Only the public view of the problem reaches the
    prompt."""
    plan = plan_sampling(problem, cfg, models.code.tokenizer)
    progress("sample", 0, sum(r.count for r in plan.requests))
    candidates = [
        plan.candidate(comp)
        for comp in models.sampler.sample(
            list(plan.requests), plan.params, progress=lambda k: progress("sample", k, None)
        )
    ]
    # The sampler may finish samples out of order; the index is the stable identity.
    candidates.sort(key=lambda c: c.index)
    return candidates


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
    """Its output there (wrong answer), its stderr tail (crash), the compiler's message; see repair.feedback_text."""


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
            out[c.index] = ExampleOutcome(TestStatus.COMPILE_ERROR, feedback=repair.syntax_feedback(c.code))
        else:
            runnable.append(c)
    progress("filter", len(distinct) - len(runnable), None)
    inputs, expected = list(harness.example_inputs), list(harness.example_expected)
    if not inputs:
        # No examples to filter on (some HumanEval docstrings have none): every program that compiles survives,
        # and clustering alone ranks them.
        out.update({c.index: ExampleOutcome(TestStatus.OK) for c in runnable})
        progress("filter", len(runnable), None)
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
        ran = TestStatus(r.status.value)
        if ran is not TestStatus.OK or not r.passed:
            if c.index not in failures:
                progress("filter", 1, None)
            if c.index not in failures or r.input_index < failures[c.index].input_index:
                failures[c.index] = r
        else:
            passed_count[c.index] = passed_count.get(c.index, 0) + 1
            if passed_count[c.index] == len(inputs):
                out[c.index] = ExampleOutcome(TestStatus.OK, passed=len(inputs))
                progress("filter", 1, None)
    for index, r in failures.items():
        ran = TestStatus(r.status.value)
        status = ran if ran is not TestStatus.OK else TestStatus.WRONG_ANSWER
        out[index] = ExampleOutcome(status, passed=passed_count.get(index, 0), failed_example=r.input_index,
                                    feedback=repair.feedback_text(status, r.stdout, r.stderr, r.detail))
    return out


def example_verdicts(
    harness: ProblemHarness,
    distinct: Sequence[Candidate],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> dict[int, TestStatus]:
    """Each program's status on the public tests ('ok' when it passes all of them), stopping at its first failure."""
    return {i: o.status for i, o in example_outcomes(harness, distinct, executor, progress).items()}


def with_verdicts(candidates: Sequence[Candidate], status: dict[int, TestStatus]) -> list[Candidate]:
    """Set each candidate's example verdict; duplicates inherit the verdict of the program they duplicate."""
    return with_outcomes(candidates, {i: ExampleOutcome(s) for i, s in status.items()})


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


def filter_on_examples(
    harness: ProblemHarness,
    candidates: Sequence[Candidate],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> list[Candidate]:
    """Stage 3: run each distinct program on the public tests, stopping at its first failure."""
    distinct = [c for c in candidates if c.duplicate_of is None]
    progress("filter", 0, len(distinct))
    return with_outcomes(candidates, example_outcomes(harness, distinct, executor, progress))


class DrawPlan(Protocol):
    """What `draw_and_filter` needs of a plan: the requests, the params, and how a completion becomes a candidate
    (SamplingPlan for fresh samples, repair.RepairPlan for fixes)."""

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
    stream = sampler.sample(requests, params, progress=lambda k: progress("sample", k, None))
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


def sample_and_filter(
    harness: ProblemHarness,
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    batch: int = FILTER_BATCH,
) -> tuple[list[Candidate], float]:
    """Stages 1-3 overlapped: the fresh samples are run on the examples while the sampler goes on drawing.

    The result equals the staged pipeline's (`sample_candidates`, `dedup`, `filter_on_examples`). Returns the
    candidates and the sampling seconds.
    """
    plan = plan_sampling(harness.problem, cfg, models.code.tokenizer)
    progress("sample", 0, sum(r.count for r in plan.requests))
    progress("filter", 0, None)
    drawn, by_key, sample_s = draw_and_filter(harness, plan, models.sampler, executor, progress, batch=batch)
    return resolve(drawn, by_key), sample_s
