"""The solve pipeline: sample -> dedup -> filter on examples -> extra test inputs -> cluster -> pick.

Each stage is its own module (stages 1-3, overlapped, in `alphagen.sample_filter`); this one chains them, times them
and reports progress through a callback. It prints nothing: the CLI renders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from alphagen import clustering, prompting, repair
from alphagen.problems.harness import ProblemHarness, examples_are_tests
from alphagen.problems.model import Problem
from alphagen.results import Candidate, InputSplit, PoolStage, SolveResult, StageStat
from alphagen.run_memo import RunMemo
from alphagen.sample_filter import (
    DrawPlan,
    ExampleOutcome,
    Progress,
    draw_and_filter,
    draw_and_filter_many,
    noop_progress,
    plan_sampling,
    plan_slice,
    pool_outcomes,
    resolve,
)
from sandbox import BatchExecutor

if TYPE_CHECKING:
    from alphagen.models import LoadedModel
    from alphagen.sampling.factory import Sampler
    from alphagen.testgen import TestGenConfig

log = logging.getLogger("alphagen.pipeline")
TESTS_PER_CHILD = 8
"""Executors made for the pipeline run up to this many tests of one program in one isolated child (filter,
test-input checks, clustering: several times the executions per second on short tests); hidden-test judging
keeps one child per test (alphagen.judging)."""

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
    repair_share: float = 0.0
    """Share of the n model samples spent repairing programs that failed an example (0: none, as AlphaCode)."""
    repair_rounds: int = 2
    """At most this many repair rounds; a round's fixes that still fail may be repaired in the next one."""
    fallback: bool = True
    """When no program passes every example of a problem whose examples are not its tests (a function problem
    with its own test harness, as HumanEval), cluster and pick among those that passed the most (picks marked
    `passed_examples=False`) rather than submit nothing. Never on a stdio problem: a judge runs its examples as
    tests, so such a pick is rejected for sure. False: AlphaCode's strict filter everywhere."""
    cache_dir: str | None = None
    """Where GGUF weights converted once are kept (None: $XDG_CACHE_HOME/alphagen); never changes results."""

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
        if not 0.0 <= self.repair_share < 1.0:
            raise ValueError(f"repair share must be in [0, 1), got {self.repair_share}")
        if self.repair_rounds < 1:
            raise ValueError(f"repair rounds must be >= 1, got {self.repair_rounds}")
        if self.cache_dir is not None and not self.cache_dir.strip():
            raise ValueError(f"cache dir must be a non-empty path, got {self.cache_dir!r}")


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
        cache_dir: str | None = None,
    ) -> Models:
        # Heavy imports happen here, only when a model is really needed.
        from alphagen.models import load_model
        from alphagen.sampling import make_sampler

        code = load_model(model_spec, device=device, dtype=dtype, quantize=quantize, cache_dir=cache_dir)
        sampler = make_sampler(code, backend=backend)
        if test_model_spec is None or test_model_spec == model_spec:
            return cls(code=code, sampler=sampler, test=code, test_sampler=sampler, backend=backend)
        test = load_model(test_model_spec, device=device, dtype=dtype, quantize=quantize, cache_dir=cache_dir)
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


def cluster_survivors(
    harness: ProblemHarness,
    candidates: Sequence[Candidate],
    test_inputs: Sequence[str],
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    fallback: bool = True,
) -> tuple[list[Candidate], dict[int, float], int, tuple[InputSplit, ...]]:
    """Stage 5: run the picking pool (survivors, or the fallback pool when there are none: see
    `clustering.picking_pool`) on the extra inputs; signature = their normalized behaviour.

    Returns the candidates with signatures, the CodeT agreement per survivor, how many inputs distinguish at
    least two survivors, and the first inputs that split the clusters (what a report shows to explain them).
    """
    pool = clustering.picking_pool(candidates, fallback)
    survivors = [c for c in candidates if c.index in pool]
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
    return out, agreement, distinguishing, input_splits(keys, sig)


SPLITS_KEPT = 10
"""Splitting inputs kept per problem: enough to explain the clusters, few enough for the stored results."""
OUTPUT_CHARS = 200
"""Each cluster's output on a splitting input is cut to this many characters in the stored results."""


def input_splits(keys: dict[int, list[str]], sig: dict[int, str]) -> tuple[InputSplit, ...]:
    """The first SPLITS_KEPT inputs on which the clusters' representatives (lowest sample of each signature)
    disagree, with each representative's output."""
    first: dict[str, int] = {}
    for i in sorted(sig):
        first.setdefault(sig[i], i)
    reps = sorted(first.values())
    if len(reps) < 2:
        return ()
    splits = []
    for j in range(len(keys[reps[0]])):
        outputs = tuple((r, keys[r][j][:OUTPUT_CHARS]) for r in reps)
        if len({keys[r][j] for r in reps}) > 1:
            splits.append(InputSplit(j, outputs))
            if len(splits) == SPLITS_KEPT:
                break
    return tuple(splits)


class StageLog(Protocol):
    """Where a solve keeps its finished sampling steps (a bench run's event log), so a killed solve resumes after
    the last one: its samples are read back, never drawn or counted twice."""

    def stored(self) -> Sequence[PoolStage]:
        """The steps a previous attempt finished (any order; a name seen twice keeps its last)."""
        ...

    def record(self, stage: PoolStage) -> None:
        """Keep a step just finished."""
        ...


def sample_and_repair(
    harness: ProblemHarness,
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
) -> tuple[list[Candidate], list[StageStat]]:
    """Stages 1-3 and the repair rounds: the fresh samples, filtered while drawn; then, while the repair budget
    lasts, fixes of the most promising failures, filtered the same way; then, if nothing is left to repair, the
    rest of the budget as the fresh samples a run without repairs would have drawn. Every step is deterministic
    given the pool before it, so a step stored in `checkpoint` is replayed instead of drawn. Returns the deduplicated,
    filtered pool and the stage statistics (sample, dedup, filter, and repair when the share is not 0)."""
    stored = {st.name: st for st in (checkpoint.stored() if checkpoint is not None else ())}
    by_key: dict[str, ExampleOutcome] = {}
    tok = models.code.tokenizer

    def step(name: str, plan: DrawPlan, report: Progress) -> tuple[list[Candidate], float]:
        # A step a killed attempt finished is read back: same samples, same verdicts, nothing drawn again.
        if name in stored:
            drawn, seconds = list(stored[name].candidates), stored[name].seconds
            for key, outcome in pool_outcomes(drawn).items():
                by_key.setdefault(key, outcome)
            return drawn, seconds
        drawn, outcomes, seconds = draw_and_filter(harness, plan, models.sampler, executor, report, known=by_key)
        by_key.update(outcomes)
        if checkpoint is not None:
            checkpoint.record(PoolStage(name, tuple(drawn), round(seconds, 4)))
        return drawn, seconds

    # Stage 1-3: the fresh samples, exactly the first ones a run without repairs draws.
    fresh_n, repair_n = repair.split_budget(cfg.n, cfg.repair_share)
    t0 = time.perf_counter()
    progress("sample", 0, fresh_n)
    progress("filter", 0, None)
    plan = plan_sampling(harness.problem, cfg, tok)
    pool, sample_s = step("fresh", plan, progress)
    fresh = resolve(pool, by_key)
    distinct = sum(1 for c in fresh if c.duplicate_of is None)
    survivors = sum(1 for c in fresh if c.passed_examples and c.duplicate_of is None)
    stats = [
        StageStat("sample", sample_s, fresh_n, len(fresh)),
        StageStat("dedup", 0.0, len(fresh), distinct),
        StageStat("filter", max(0.0, time.perf_counter() - t0 - sample_s), distinct, survivors),
    ]
    if not repair_n:
        return fresh, stats

    # The repair rounds: each spends its share of what is left on the most promising failures not repaired yet.
    t1 = time.perf_counter()
    stored_s = sum(st.seconds for name, st in stored.items() if name != "fresh")
    progress("repair", 0, repair_n)
    report: Progress = lambda stage, k, total: progress("repair", k, None) if stage == "sample" else None  # noqa: E731
    remaining, used, next_index, parents_total = repair_n, set[int](), cfg.n, 0
    view = harness.problem.public_view()
    for round_no in range(1, cfg.repair_rounds + 1):
        if remaining == 0:
            break
        chosen = repair.choose_parents(resolve(pool, by_key), used, repair.round_budget(remaining, round_no,
                                       cfg.repair_rounds), harness.example_expected)
        if not chosen:
            break
        # Fixes are numbered after every sample a run without repairs could draw: their own random streams.
        rplan = repair.plan_round(tok, view, chosen, round_no, next_index, plan.params, harness.limits.time_s,
                                  plan.stub)
        drawn, _ = step(f"repair-{round_no}", rplan, report)
        pool += drawn
        used |= {p.index for p, _ in chosen}
        parents_total += len(chosen)
        remaining -= rplan.size
        next_index += rplan.size
    if remaining:
        # Nothing (left) to repair: the rest of the budget goes to the fresh samples a run without repairs draws.
        drawn, _ = step("topup", plan_slice(harness.problem, cfg, tok, fresh_n, fresh_n + remaining), report)
        pool += drawn
    final = resolve(pool, by_key)
    fixed = sum(1 for c in final if c.parent is not None and c.passed_examples and c.duplicate_of is None)
    stats.append(StageStat("repair", time.perf_counter() - t1 + stored_s, parents_total, fixed))
    return final, stats


def sample_together(
    problems: Sequence[Problem],
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> list[PoolStage]:
    """The fresh sampling step of several problems in one sampler call, each filtered on its own examples while
    the sampler goes on: each problem's step as its solve would store it (`sample_and_repair` replays it).

    One continuous batch over all of them: when one problem's last, longest samples would decode nearly alone
    (a step at 1 row costs about what one at 8 rows does on a CPU), the next problem's samples fill the rows.
    Each sample keeps its index and random stream; a problem's seconds are its share of the call by tokens."""
    items = [(ProblemHarness.of(p, cfg.time_limit_s, cfg.memory_limit_mb), plan_sampling(p, cfg, models.code.tokenizer))
             for p in problems]
    progress("sample", 0, sum(r.count for _, plan in items for r in plan.requests))
    progress("filter", 0, None)
    drawn = draw_and_filter_many(items, models.sampler, executor, progress)
    return [PoolStage("fresh", tuple(d.candidates), round(d.seconds, 4)) for d in drawn]


TESTGEN_MODEL_SHARE = 0.2
"""The model test-input sources may start while they have spent less than this share of the problem's sampling
time (at least TESTGEN_MODEL_MIN_S). The direct inputs start first and always run (about 5 s on 2 CPU cores);
the generators (about 7 s) start only when sampling took long enough. At 0.5 the stage took 34-45% of a -n 32
solve of a shipped problem whose programs are short (14-21 s of sampling); the target is at most 25%."""
TESTGEN_MODEL_MIN_S = 2.0


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
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
) -> SolveResult:
    """Run the whole pipeline on one problem. `checkpoint` keeps each finished sampling step (bench: resumable)."""
    from alphagen.testgen import TestGenConfig, generate_test_inputs

    timer = _Timer()
    # Everything the stages need to run this problem's programs, derived once: limits (with the config's
    # overrides), compare options, the function driver wrapping, the examples.
    harness = ProblemHarness.of(problem, cfg.time_limit_s, cfg.memory_limit_mb)

    # Stages 1-3 overlap (the filter runs while the sampler draws); their timings are split where sampling ends.
    # Then the repair rounds (when the config gives them a share of the budget) add their fixes to the pool.
    candidates, stats = sample_and_repair(harness, cfg, models, executor, progress, checkpoint)
    sample_s = sum(st.seconds for st in stats if st.name in ("sample", "repair"))
    # The programs to tell apart and pick from: the survivors or, when none passed every example of a problem whose
    # examples are not its tests (its own harness judges it: HumanEval), the fallback pool (those that passed the
    # most), so a run still submits its best guesses. A stdio judge runs the examples: no fallback there.
    fallback = cfg.fallback and not examples_are_tests(problem)
    pool = clustering.picking_pool(candidates, fallback)
    survivors = [c for c in candidates if c.index in pool]
    if survivors and not any(c.passed_examples for c in survivors):
        log.info("no program passed every example: picking among the %d that passed the most (%d of %d)",
                 len(survivors), survivors[0].examples_passed, len(harness.problem.public_tests))
    timer.stages += stats
    for st in timer.stages:
        log.info("stage %s: %d -> %d in %.2fs", st.name, st.count_in, st.count_out, st.seconds)

    test_inputs: tuple[str, ...] = ()
    counts: dict[str, int] = {}
    # The test-input check and the clustering run the same survivors on the same inputs: each pair runs once.
    runs = RunMemo(executor)
    with timer.stage("testgen", len(survivors)) as out:
        # With fewer than two distinct survivors there is nothing to tell apart: skip the expensive stage.
        if len(survivors) >= 2:
            ti = generate_test_inputs(
                problem.public_view(),
                [harness.program(c.code, c.language) for c in survivors],
                runs,
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
        candidates, agreement, distinguishing, splits = cluster_survivors(
            harness, candidates, test_inputs, runs, progress, fallback
        )
        clusters = clustering.cluster(candidates, cfg.ranking, agreement, fallback)
        picks = clustering.select(candidates, cfg.num_picks, cfg.ranking, agreement, fallback)
        out[0] = len(picks)
    counts["distinguishing"] = distinguishing
    counts["runs_reused"] = runs.hits

    return SolveResult(
        problem=problem.name,
        candidates=tuple(candidates),
        picks=tuple(picks),
        stages=tuple(timer.stages),
        test_inputs=test_inputs,
        testgen=counts,
        num_clusters=len(clusters),
        seed=cfg.seed,
        splits=splits,
    )

