"""Stages 1-3 of a solve: sample programs, drop duplicates, run the rest on the examples, overlapped.

`plan_sampling` is the one place stage-1 prompts and params are built (the pipeline, Ray prefetch and the quality
benchmark use it). `sample_and_filter` runs the example filter while the sampler goes on drawing; the staged
functions (`sample_candidates`, `dedup`, `filter_on_examples`) give the same result one stage after another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from alphagen import extract, prompting
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem
from alphagen.results import Candidate
from alphagen.statuses import TestStatus
from sandbox import BatchExecutor

if TYPE_CHECKING:
    from alphagen.pipeline import Models, SolveConfig
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
    """The prompts and sampling params of stage 1 for this problem and config (Ray prefetch plans the same)."""
    # Imported here: the sampling package pulls in torch, which commands that never sample should not pay for.
    from alphagen.sampling.params import PromptRequest, SamplingParams

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
    requests = tuple(PromptRequest(prompt=g.text, count=g.count) for g in groups)
    stub = None
    if problem.kind == "function" and problem.signature and problem.entry_point:
        stub = (problem.signature, problem.entry_point)
    return SamplingPlan(groups=tuple(groups), requests=requests, params=params, stub=stub)


def sample_candidates(
    problem: Problem, cfg: SolveConfig, models: Models, progress: Progress = noop_progress
) -> list[Candidate]:
    """Stage 1: draw cfg.n programs. Only the public view of the problem reaches the prompt."""
    plan = plan_sampling(problem, cfg, models.code.tokenizer)
    progress("sample", 0, cfg.n)
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


def example_verdicts(
    harness: ProblemHarness,
    distinct: Sequence[Candidate],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> dict[int, TestStatus]:
    """Each program's status on the public tests ('ok' when it passes all of them), stopping at its first failure."""
    status: dict[int, TestStatus] = {}
    runnable = []
    for c in distinct:
        # A Python program that does not even compile is rejected here, without a round trip to the sandbox.
        if c.language == "python" and not extract.python_syntax_ok(c.code):
            status[c.index] = TestStatus.COMPILE_ERROR
        else:
            runnable.append(c)
    progress("filter", len(distinct) - len(runnable), None)
    inputs, expected = list(harness.example_inputs), list(harness.example_expected)
    if not inputs:
        # No examples to filter on (some HumanEval docstrings have none): every program that compiles survives,
        # and clustering alone ranks them.
        status.update({c.index: TestStatus.OK for c in runnable})
        progress("filter", len(runnable), None)
        return status
    if not runnable:
        return status
    programs = [harness.program(c.code, c.language) for c in runnable]
    passed_count: dict[int, int] = {}
    for r in executor.run_batch(
        programs, inputs, harness.limits, expected=expected, compare=harness.compare, stop_on_first_failure=True
    ):
        c = runnable[r.program_index]
        ran = TestStatus(r.status.value)
        if ran is not TestStatus.OK or not r.passed:
            if c.index not in status:
                status[c.index] = ran if ran is not TestStatus.OK else TestStatus.WRONG_ANSWER
                progress("filter", 1, None)
        else:
            passed_count[c.index] = passed_count.get(c.index, 0) + 1
            if passed_count[c.index] == len(inputs):
                status[c.index] = TestStatus.OK
                progress("filter", 1, None)
    return status


def with_verdicts(candidates: Sequence[Candidate], status: dict[int, TestStatus]) -> list[Candidate]:
    """Set each candidate's example verdict; duplicates inherit the verdict of the program they duplicate."""
    out = []
    for c in candidates:
        s = status.get(c.duplicate_of if c.duplicate_of is not None else c.index, TestStatus.NOT_RUN)
        out.append(replace(c, passed_examples=(s == TestStatus.OK), example_status=s))
    return out


def filter_on_examples(
    harness: ProblemHarness,
    candidates: Sequence[Candidate],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> list[Candidate]:
    """Stage 3: run each distinct program on the public tests, stopping at its first failure."""
    distinct = [c for c in candidates if c.duplicate_of is None]
    progress("filter", 0, len(distinct))
    return with_verdicts(candidates, example_verdicts(harness, distinct, executor, progress))


def sample_and_filter(
    harness: ProblemHarness,
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    batch: int = FILTER_BATCH,
) -> tuple[list[Candidate], float]:
    """Stages 1-3 overlapped: programs are run on the examples while the sampler goes on drawing.

    The sampler runs in a background thread (a bounded queue between them); every ``batch`` new distinct programs
    go to the sandbox at once. The result equals the staged pipeline's: samples arrive out of order, so the first
    program of each dedup class to *arrive* is the one run, and its verdict is the class's (programs equal up to
    comments and layout behave alike); the final dedup then names the lowest sample index as the class's
    representative, as stage 2 does. Returns the candidates and the sampling seconds (the rest of the time is the
    filter's tail).
    """
    from alphagen.overlap import Background

    plan = plan_sampling(harness.problem, cfg, models.code.tokenizer)
    progress("sample", 0, cfg.n)
    progress("filter", 0, None)
    started = time.perf_counter()
    sampled: list[Candidate] = []
    by_key: dict[str, TestStatus] = {}  # fingerprint -> verdict of the class's executed program
    key_of: dict[int, str] = {}  # sample index -> fingerprint
    pending: list[tuple[str, Candidate]] = []

    def flush() -> None:
        status = example_verdicts(harness, [c for _, c in pending], executor, progress)
        by_key.update({key: status.get(c.index, TestStatus.NOT_RUN) for key, c in pending})
        pending.clear()

    stream = models.sampler.sample(list(plan.requests), plan.params, progress=lambda k: progress("sample", k, None))
    with Background(stream, maxsize=max(2 * batch, 16)) as completions:
        seen: set[str] = set()
        for comp in completions:
            cand = plan.candidate(comp)
            sampled.append(cand)
            key = key_of[cand.index] = extract.fingerprint(cand.code, cand.language)
            if key not in seen:
                seen.add(key)
                pending.append((key, cand))
            if len(pending) >= batch:
                flush()
    sample_s = time.perf_counter() - started
    flush()
    candidates = dedup(sorted(sampled, key=lambda c: c.index))
    status = {c.index: by_key[key_of[c.index]] for c in candidates if c.duplicate_of is None}
    return with_verdicts(candidates, status), sample_s
