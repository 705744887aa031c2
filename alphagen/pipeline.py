"""The solve pipeline: sample -> dedup -> filter on examples -> extra test inputs -> cluster -> pick.

Each stage is its own module; this one only chains them, times them and reports progress through a callback.
It prints nothing: the CLI renders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from alphagen import clustering, extract, prompting
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem
from alphagen.results import Candidate, SolveResult, StageStat
from alphagen.seams import BatchExecutor
from alphagen.statuses import TestStatus

if TYPE_CHECKING:
    from alphagen.models import LoadedModel
    from alphagen.sampling.factory import Sampler
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams
    from alphagen.testgen import TestGenConfig

log = logging.getLogger("alphagen.pipeline")
FILTER_BATCH = 8
"""While sampling, new distinct programs go to the sandbox in groups of this many: enough to keep the workers
busy, few enough that the filter keeps up with the sampler."""
TESTS_PER_CHILD = 8
"""Executors made for the pipeline run up to this many tests of one program in one isolated child (filter,
test-input checks, clustering: several times the executions per second on short tests); hidden-test judging
keeps one child per test (alphagen.judging)."""

# progress(stage, advance, total): `total` is given once when a stage starts (advance 0), then advances follow.
Progress = Callable[[str, int, "int | None"], None]


@dataclass(frozen=True)
class SolveConfig:
    """Everything that shapes one solve. Validated when built."""

    n: int = 32
    """Sample budget: programs drawn from the model."""
    temperature: float = 0.25
    """Sampling temperature (AlphaCode used 0.25)."""
    top_p: float = 1.0
    """Nucleus sampling mass."""
    max_new_tokens: int = 512
    """Longest program, in tokens."""
    seed: int = 0
    """Seeds prompt metadata, sampling and test generation: same seed, same result."""
    language: prompting.LanguageChoice = "python"
    """python, cpp, or mix (alternating prompt groups)."""
    samples_per_prompt: int = 8
    """Samples that share one metadata draw (and its encoded prompt prefix)."""
    use_metadata: bool = True
    """Show a random rating and tags in stdio problems' prompts (AlphaCode); function problems never show them."""
    prefill: prompting.Prefill = "fence"
    """Assistant pre-fill: the code fence only, or (function problems) the fence and the function stub."""
    num_picks: int = 10
    """How many submissions to pick."""
    ranking: clustering.Ranking = "alphacode"
    """alphacode: largest clusters first; codet: agreement x sqrt(size)."""
    testgen: TestGenConfig | None = None
    """Extra-input generation settings; None uses alphagen.testgen's defaults."""
    time_limit_s: float | None = None
    """Override the problem's time limit (seconds)."""
    memory_limit_mb: int | None = None
    """Override the problem's memory limit (MiB)."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")
        if not 0.0 <= self.temperature <= 5.0:
            raise ValueError(f"temperature must be in [0, 5], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.language not in ("python", "cpp", "mix"):
            raise ValueError(f"language must be python, cpp or mix, got {self.language!r}")
        if self.num_picks < 1:
            raise ValueError(f"num_picks must be >= 1, got {self.num_picks}")
        if self.ranking not in ("alphacode", "codet"):
            raise ValueError(f"ranking must be alphacode or codet, got {self.ranking!r}")
        if self.prefill not in prompting.PREFILLS:
            raise ValueError(f"prefill must be one of {', '.join(prompting.PREFILLS)}, got {self.prefill!r}")
        if self.samples_per_prompt < 1:
            raise ValueError(f"samples_per_prompt must be >= 1, got {self.samples_per_prompt}")


@dataclass
class Models:
    """The code model and its sampler, plus the test-input model (by default the same weights)."""

    code: LoadedModel
    sampler: Sampler
    test: LoadedModel | None = None
    test_sampler: Sampler | None = None
    backend: str = "hf"

    @classmethod
    def load(
        cls,
        model_spec: str | None = None,
        test_model_spec: str | None = None,
        backend: str = "hf",
        device: str | None = None,
        quantize: str | None = None,
        dtype: str | None = None,
    ) -> Models:
        # Heavy imports happen here, only when a model is really needed.
        from alphagen.models import load_model
        from alphagen.sampling import make_sampler

        code = load_model(model_spec, device=device, dtype=dtype, quantize=quantize)
        sampler = make_sampler(code, backend=backend)
        if test_model_spec is None or test_model_spec == model_spec:
            return cls(code=code, sampler=sampler, test=code, test_sampler=sampler, backend=backend)
        test = load_model(test_model_spec, device=device, dtype=dtype, quantize=quantize)
        return cls(code=code, sampler=sampler, test=test, test_sampler=make_sampler(test, backend=backend))


class _Timer:
    def __init__(self) -> None:
        self.stages: list[StageStat] = []

    @contextmanager
    def stage(self, name: str, count_in: int) -> Iterator[list[int]]:
        out = [count_in]
        t0 = time.perf_counter()
        try:
            yield out
        finally:
            self.stages.append(StageStat(name, time.perf_counter() - t0, count_in, out[0]))
            log.info("stage %s: %d -> %d in %.2fs", name, count_in, out[0], self.stages[-1].seconds)


def _noop(stage: str, advance: int, total: int | None) -> None:
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
    problem: Problem, cfg: SolveConfig, models: Models, progress: Progress = _noop
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
    progress: Progress = _noop,
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
    progress: Progress = _noop,
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
    progress: Progress = _noop,
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
            key = extract.fingerprint(cand.code, cand.language)
            if key not in seen:
                seen.add(key)
                pending.append((key, cand))
            if len(pending) >= batch:
                flush()
    sample_s = time.perf_counter() - started
    flush()
    candidates = dedup(sorted(sampled, key=lambda c: c.index))
    status = {c.index: by_key[extract.fingerprint(c.code, c.language)] for c in candidates if c.duplicate_of is None}
    return with_verdicts(candidates, status), sample_s


def cluster_survivors(
    harness: ProblemHarness,
    candidates: Sequence[Candidate],
    test_inputs: Sequence[str],
    executor: BatchExecutor,
    progress: Progress = _noop,
) -> tuple[list[Candidate], dict[int, float], int]:
    """Stage 5: run survivors on the extra inputs; signature = their normalized behaviour.

    Returns the candidates with signatures, the CodeT agreement per survivor, and how many inputs distinguish
    at least two survivors.
    """
    survivors = [c for c in candidates if c.passed_examples and c.duplicate_of is None]
    opts = harness.compare
    norm = clustering.norm_from_tolerance(opts.float_abs, opts.float_rel, opts.case_insensitive)
    keys: dict[int, list[str]] = {c.index: [""] * len(test_inputs) for c in survivors}
    cpu: dict[int, float] = {c.index: 0.0 for c in survivors}
    progress("cluster", 0, len(survivors) * len(test_inputs))
    if survivors and test_inputs:
        programs = [harness.program(c.code, c.language) for c in survivors]
        for r in executor.run_batch(programs, list(test_inputs), harness.limits):
            c = survivors[r.program_index]
            keys[c.index][r.input_index] = clustering.output_key(r.stdout, r.status.value, norm)
            cpu[c.index] += r.cpu_s
            progress("cluster", 1, None)
    distinguishing = sum(
        1 for j in range(len(test_inputs)) if len({keys[c.index][j] for c in survivors}) > 1
    )
    agreement = clustering.codet_scores(keys)
    sig = {i: clustering.signature(k) for i, k in keys.items()}
    out = [
        replace(c, signature=sig[c.index], cpu_s=cpu[c.index]) if c.index in sig else c for c in candidates
    ]
    return out, agreement, distinguishing


TESTGEN_MODEL_SHARE = 0.5
"""The model test-input sources may spend this share of the problem's sampling time (at least
TESTGEN_MODEL_MIN_S): until they earn their time, test generation must not dominate a short run."""
TESTGEN_MODEL_MIN_S = 5.0


def _testgen_budget(tg: TestGenConfig, sample_seconds: float) -> TestGenConfig:
    if tg.model_budget_s is not None:
        return tg
    return replace(tg, model_budget_s=max(TESTGEN_MODEL_MIN_S, TESTGEN_MODEL_SHARE * sample_seconds))


def solve(
    problem: Problem,
    cfg: SolveConfig,
    *,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = _noop,
) -> SolveResult:
    """Run the whole pipeline on one problem."""
    from alphagen.testgen import TestGenConfig, generate_test_inputs

    timer = _Timer()
    # Everything the stages need to run this problem's programs, derived once: limits (with the config's
    # overrides), compare options, the function driver wrapping, the examples.
    harness = ProblemHarness.of(problem, cfg.time_limit_s, cfg.memory_limit_mb)

    # Stages 1-3 overlap (the filter runs while the sampler draws); their timings are split where sampling ends.
    t0 = time.perf_counter()
    candidates, sample_s = sample_and_filter(harness, cfg, models, executor, progress)
    distinct = sum(1 for c in candidates if c.duplicate_of is None)
    survivors = [c for c in candidates if c.passed_examples and c.duplicate_of is None]
    timer.stages += [
        StageStat("sample", sample_s, cfg.n, len(candidates)),
        StageStat("dedup", 0.0, len(candidates), distinct),
        StageStat("filter", time.perf_counter() - t0 - sample_s, distinct, len(survivors)),
    ]
    for st in timer.stages:
        log.info("stage %s: %d -> %d in %.2fs", st.name, st.count_in, st.count_out, st.seconds)

    test_inputs: tuple[str, ...] = ()
    counts: dict[str, int] = {}
    with timer.stage("testgen", len(survivors)) as out:
        # With fewer than two distinct survivors there is nothing to tell apart: skip the expensive stage.
        if len(survivors) >= 2:
            ti = generate_test_inputs(
                problem.public_view(),
                [harness.program(c.code, c.language) for c in survivors],
                executor,
                harness.limits,
                _testgen_budget(cfg.testgen or TestGenConfig(), sample_s),
                cfg.seed,
                sampler=models.test_sampler,
                tokenizer=models.test.tokenizer if models.test else None,
                validator=problem.validator,
                # Per source ("testgen:model", ...), so a slow source shows by name instead of one frozen bar.
                progress=lambda source, k: progress(f"testgen:{source}", k, None),
            )
            test_inputs, counts = tuple(ti.inputs), dict(ti.counts)
        out[0] = len(test_inputs)

    with timer.stage("cluster", len(survivors)) as out:
        candidates, agreement, distinguishing = cluster_survivors(
            harness, candidates, test_inputs, executor, progress
        )
        clusters = clustering.cluster(candidates, cfg.ranking, agreement)
        picks = clustering.select(candidates, cfg.num_picks, cfg.ranking, agreement)
        out[0] = len(picks)
    counts["distinguishing"] = distinguishing

    return SolveResult(
        problem=problem.name,
        candidates=tuple(candidates),
        picks=tuple(picks),
        stages=tuple(timer.stages),
        test_inputs=test_inputs,
        testgen=counts,
        num_clusters=len(clusters),
        seed=cfg.seed,
    )

