"""The solve pipeline: draw steps (sample -> dedup -> filter on examples, then repairs) -> extra test inputs ->
cluster -> pick.

Each stage is its own module: `alphagen.draws` decides the draw steps and their prompts, `alphagen.sample_filter`
filters what they draw (overlapped with the sampler), `alphagen.testgen` writes the extra inputs,
`alphagen.clustering` groups and picks. This one runs them in order on one problem's `ProblemHarness`, times them
and reports progress through a callback. It prints nothing: the CLI renders.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from alphagen import clustering, limits, settle
from alphagen.config import Models, SolveConfig
from alphagen.draws import Budget, DrawKind, DrawStep, next_step, plan_for, plan_sampling, plan_slice, speedup_step
from alphagen.problems.harness import ProblemHarness, examples_are_tests
from alphagen.problems.model import Problem
from alphagen.results import Candidate, InputSplit, PoolStage, SolveResult, StageStat
from alphagen.run_memo import RunMemo
from alphagen.sample_filter import ExampleOutcome, Pool, draw_and_filter, draw_and_filter_many
from alphagen.stages import Progress, Stage, noop_progress
from sandbox import BatchExecutor

if TYPE_CHECKING:
    from alphagen.testgen import TestGenConfig

__all__ = ["TESTS_PER_CHILD", "Models", "SolveConfig", "StageLog", "cluster_survivors", "sample_and_repair",
           "sample_together", "solve"]

log = logging.getLogger("alphagen.pipeline")
TESTS_PER_CHILD = 8
"""Executors made for the pipeline run up to this many tests of one program in one isolated child (filter,
test-input checks, clustering: several times the executions per second on short tests); hidden-test judging
keeps one child per test (alphagen.judging)."""

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
    progress(Stage.CLUSTER, 0, len(survivors) * len(test_inputs))
    if survivors and test_inputs:
        programs = [harness.program(c.code, c.language) for c in survivors]
        for r in executor.run_batch(programs, list(test_inputs), harness.limits):
            c = survivors[r.program_index]
            keys[c.index][r.input_index] = clustering.output_key(r.stdout, r.status.value, norm)
            cpu[c.index] += r.cpu_s
            progress(Stage.CLUSTER, 1, None)
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


@dataclass
class _StepRunner:
    """Runs one solve's draw steps into one pool: each step's plan drawn and filtered, or, when a killed attempt
    stored it (`checkpoint`), read back: same samples, same verdicts, nothing drawn or counted twice."""

    harness: ProblemHarness
    cfg: SolveConfig
    models: Models
    executor: BatchExecutor
    checkpoint: StageLog | None
    pool: Pool = field(default_factory=Pool)
    done: list[DrawStep] = field(default_factory=list)
    stored: dict[str, PoolStage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stored = {st.name: st for st in (self.checkpoint.stored() if self.checkpoint is not None else ())}

    def run(self, step: DrawStep, progress: Progress) -> float:
        """Draw (or read back) one step into the pool; its sampling seconds."""
        self.done.append(step)
        seconds = 0.0
        if step.kind is DrawKind.FRESH:
            # A solve that grows its n in rounds (settle_min, bench --budget) stored its earlier fresh samples as
            # slices (fresh, fresh-8, fresh-16, ...): read back those that lie inside this step, draw the rest.
            while (kept := self.stored.get(_fresh_name(step.start))) is not None \
                    and 0 < len(kept.candidates) <= step.count:
                self.pool.add_stored(kept.candidates)
                seconds += kept.seconds
                if len(kept.candidates) == step.count:
                    return seconds
                step = replace(step, start=step.start + len(kept.candidates), count=step.count - len(kept.candidates))
        elif step.name in self.stored:
            kept = self.stored[step.name]
            self.pool.add_stored(kept.candidates)
            return kept.seconds
        plan = plan_for(step, self.harness, self.cfg, self.models.code.tokenizer)
        drawn, outcomes, drawn_s = draw_and_filter(self.harness, plan, self.models.sampler, self.executor, progress,
                                                   known=self.pool.outcomes)
        self.pool.add(drawn, outcomes)
        if self.checkpoint is not None:
            self.checkpoint.record(PoolStage(step.name, tuple(drawn), round(drawn_s, 4)))
        return seconds + drawn_s

    def next(self) -> DrawStep | None:
        return next_step(Budget.of(self.cfg), self.done, self.pool.resolved, self.harness.example_expected)


def _fresh_name(start: int) -> str:
    """The checkpoint name of the fresh slice that starts at sample `start`."""
    return DrawStep(DrawKind.FRESH, start=start, count=1).name


def sample_and_repair(
    harness: ProblemHarness,
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
    runner: _StepRunner | None = None,
) -> tuple[list[Candidate], list[StageStat]]:
    """Stages 1-3 and the repair rounds, as draw steps (`alphagen.draws`): the fresh samples, filtered while drawn;
    then, while the repair budget lasts, fixes of the most promising failures, filtered the same way; then, if
    nothing is left to repair, the rest of the budget as the fresh samples a run without repairs would have drawn.
    Every step is decided by the pool before it, so a step stored in `checkpoint` is replayed instead of drawn.
    Returns the deduplicated, filtered pool and the stage statistics (sample, dedup, filter, and repair when the
    share is not 0)."""
    runner = runner or _StepRunner(harness, cfg, models, executor, checkpoint)
    budget = Budget.of(cfg)
    # Stages 1-3: the fresh samples, exactly the first ones a run without repairs draws.
    t0 = time.perf_counter()
    progress(Stage.SAMPLE, 0, budget.fresh)
    progress(Stage.FILTER, 0, None)
    first = runner.next()
    assert first is not None and first.kind is DrawKind.FRESH  # the first step of every solve
    sample_s = runner.run(first, progress)
    fresh = runner.pool.resolved()
    distinct = sum(1 for c in fresh if c.duplicate_of is None)
    survivors = sum(1 for c in fresh if c.passed_examples and c.duplicate_of is None)
    stats = [
        StageStat(Stage.SAMPLE, sample_s, budget.fresh, len(fresh)),
        StageStat(Stage.DEDUP, 0.0, len(fresh), distinct),
        StageStat(Stage.FILTER, max(0.0, time.perf_counter() - t0 - sample_s), distinct, survivors),
    ]
    if not budget.repair:
        return fresh, stats

    # The repair rounds, then the top-up: each step's draws count on the repair bar.
    t1 = time.perf_counter()
    stored_s = sum(st.seconds for name, st in runner.stored.items() if name != DrawKind.FRESH)
    progress(Stage.REPAIR, 0, budget.repair)
    report: Progress = lambda stage, k, total: progress(Stage.REPAIR, k, None) if stage == Stage.SAMPLE else None  # noqa: E731
    while (step := runner.next()) is not None:
        runner.run(step, report)
    final = runner.pool.resolved()
    parents = sum(len(st.parents) for st in runner.done)
    fixed = sum(1 for c in final if c.parent is not None and c.passed_examples and c.duplicate_of is None)
    stats.append(StageStat(Stage.REPAIR, time.perf_counter() - t1 + stored_s, parents, fixed))
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
    # A solve that settles in rounds draws its first round first: that is the step its solve replays.
    cfg = cfg.round_config(cfg.first_draw)
    items = [(ProblemHarness.of(p, cfg.time_limit_s, cfg.memory_limit_mb), plan_sampling(p, cfg, models.code.tokenizer))
             for p in problems]
    progress(Stage.SAMPLE, 0, sum(r.count for _, plan in items for r in plan.requests))
    progress(Stage.FILTER, 0, None)
    drawn = draw_and_filter_many(items, models.sampler, executor, progress)
    return [PoolStage(DrawKind.FRESH, tuple(d.candidates), round(d.seconds, 4)) for d in drawn]


@dataclass(frozen=True)
class Slice:
    """More fresh samples for one problem of a budgeted run's round: samples start..stop-1 (its round config has n =
    stop), and the example outcomes its earlier samples already have (not run again)."""

    problem: Problem
    start: int
    stop: int
    known: Mapping[str, ExampleOutcome] | None = None


def sample_slices_together(
    slices: Sequence[Slice],
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> list[PoolStage]:
    """A round of `bench --budget`: several problems' next fresh samples in one sampler call (as
    `sample_together` draws the first round), each returned as the step its solve in rounds stores and replays
    (`fresh-<start>`). Without it, each problem's 8 new samples would decode alone, a batch of 8 rows where a
    window fills 128 (on the shipped problems that doubled the sampling seconds of a budgeted run)."""
    items = [(ProblemHarness.of(sl.problem, cfg.time_limit_s, cfg.memory_limit_mb),
              plan_slice(sl.problem, cfg.round_config(sl.stop), models.code.tokenizer, sl.start, sl.stop))
             for sl in slices]
    progress(Stage.SAMPLE, 0, sum(sl.stop - sl.start for sl in slices))
    progress(Stage.FILTER, 0, None)
    drawn = draw_and_filter_many(items, models.sampler, executor, progress, known=[sl.known for sl in slices])
    return [PoolStage(DrawStep(DrawKind.FRESH, start=sl.start, count=sl.stop - sl.start).name, tuple(d.candidates),
                      round(d.seconds, 4)) for sl, d in zip(slices, drawn, strict=True)]


TESTGEN_MODEL_SHARE = 0.2
"""The model test-input sources may start while they have spent less than this share of the problem's sampling
time (at least TESTGEN_MODEL_MIN_S). The direct inputs start first and always run (about 5 s on 2 CPU cores);
the generators (about 7 s) start only when sampling took long enough. At 0.5 the stage took 34-45% of a -n 32
solve of a shipped problem whose programs are short (14-21 s of sampling); the target is at most 25%."""
TESTGEN_MODEL_MIN_S = 2.0
TESTGEN_STAGE_SHARE = 0.3
"""The whole test-input stage (model sources and checks) may take this share of the problem's sampling time (at
least TESTGEN_STAGE_MIN_S), then no further chunk of checks starts: 0.3 of sampling is 23% of sampling plus the
stage, under the 25% target with room for the last chunk. Without it, survivors that are right but slow (1068B,
1076B with the 1.5B model: loops to n <= 10^10) made the checks take 33-44 s against 14-18 s of sampling."""
TESTGEN_STAGE_MIN_S = 3.0


def _testgen_budget(tg: TestGenConfig, sample_seconds: float) -> TestGenConfig:
    # Each budget a caller set is kept; the ones left unset become shares of this problem's sampling time.
    if tg.model_budget_s is None:
        tg = replace(tg, model_budget_s=max(TESTGEN_MODEL_MIN_S, TESTGEN_MODEL_SHARE * sample_seconds))
    if tg.stage_budget_s is None:
        tg = replace(tg, stage_budget_s=max(TESTGEN_STAGE_MIN_S, TESTGEN_STAGE_SHARE * sample_seconds))
    return tg


def solve(
    problem: Problem,
    cfg: SolveConfig,
    *,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
) -> SolveResult:
    """Run the whole pipeline on one problem. `checkpoint` keeps each finished sampling step (bench: resumable).

    With `cfg.settle_min`, the samples are drawn in rounds of that many, each round clustering everything drawn so
    far, until the answer is settled (`alphagen.settle.assess`) or n are drawn: the first k samples are those an
    all-at-once solve draws first, so a settled problem costs only its rounds."""
    if cfg.settle_min is None or cfg.settle_min >= cfg.n:
        return _solve_at_once(problem, cfg, models=models, executor=executor, progress=progress,
                              checkpoint=checkpoint)
    rounds = settle.round_sizes(cfg.n, cfg.settle_min)
    # Each round replays the samples of the rounds before it from this log instead of drawing them again.
    steps = _RoundLog(checkpoint)
    for done, k in enumerate(rounds, 1):
        result = _solve_at_once(problem, cfg.round_config(k), models=models, executor=executor, progress=progress,
                                checkpoint=steps)
        need = settle.assess(result)
        log.info("round %d: %d samples, %s", done, k, need)
        if need is settle.Need.SETTLED:
            break
    return replace(result, rounds=tuple(rounds[:done]))


class _RoundLog:
    """The sampling steps of a solve drawn in rounds: those stored before (a resumed bench problem) and those
    drawn by earlier rounds, kept here and passed on to the caller's log."""

    def __init__(self, outer: StageLog | None) -> None:
        self.outer = outer
        self.steps = list(outer.stored()) if outer is not None else []

    def stored(self) -> Sequence[PoolStage]:
        return list(self.steps)

    def record(self, stage: PoolStage) -> None:
        self.steps.append(stage)
        if self.outer is not None:
            self.outer.record(stage)


def _solve_at_once(
    problem: Problem,
    cfg: SolveConfig,
    *,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
) -> SolveResult:
    """One solve of all cfg.n samples (see `solve`)."""
    timer = _Timer()
    # Everything the stages need to run this problem's programs, derived once: limits (with the config's
    # overrides), compare options, the function driver wrapping, the examples. From here on the harness carries
    # the problem down through the stages.
    harness = ProblemHarness.of(problem, cfg.time_limit_s, cfg.memory_limit_mb)

    # Stages 1-3 overlap (the filter runs while the sampler draws); their timings are split where sampling ends.
    # Then the repair rounds (when the config gives them a share of the budget) add their fixes to the pool.
    runner = _StepRunner(harness, cfg, models, executor, checkpoint)
    candidates, stats = sample_and_repair(harness, cfg, models, executor, progress, checkpoint, runner)
    timer.stages += stats
    for st in timer.stages:
        log.info("stage %s: %d -> %d in %.2fs", st.name, st.count_in, st.count_out, st.seconds)
    sample_s = sum(st.seconds for st in stats if st.name in (Stage.SAMPLE, Stage.REPAIR))
    fallback = cfg.fallback and not examples_are_tests(harness.problem)
    survivors = _picking_pool(harness, candidates, fallback)

    # The test-input check and the clustering run the same survivors on the same inputs: each pair runs once.
    runs = RunMemo(executor)
    with timer.stage(Stage.TESTGEN, len(survivors)) as out:
        test_inputs, counts = _test_inputs(harness, survivors, runs, cfg, models, sample_s, progress)
        out[0] = len(test_inputs)

    with timer.stage(Stage.CLUSTER, len(survivors)) as out:
        candidates, agreement, distinguishing, splits = cluster_survivors(
            harness, candidates, test_inputs, runs, progress, fallback
        )
        clusters = clustering.cluster(candidates, cfg.ranking, agreement, fallback)
        picks = clustering.select(candidates, cfg.num_picks, cfg.ranking, agreement, fallback)
        out[0] = len(picks)
    if cfg.limit_probe:
        # Right but too slow at the stated limits: marked (picked after the rest), then, with a speed-up share,
        # asked to be made faster; the fixes are filtered and clustered with everything drawn before.
        candidates, agreement, distinguishing, splits = _at_the_limits(
            harness, cfg, runner, candidates, test_inputs, runs, timer, progress, fallback
        )
        clusters = clustering.cluster(candidates, cfg.ranking, agreement, fallback)
        picks = clustering.select(candidates, cfg.num_picks, cfg.ranking, agreement, fallback)
    counts["distinguishing"] = distinguishing
    counts["runs_reused"] = runs.hits

    return SolveResult(
        problem=harness.problem.name,
        candidates=tuple(candidates),
        picks=tuple(picks),
        stages=tuple(timer.stages),
        test_inputs=test_inputs,
        testgen=counts,
        num_clusters=len(clusters),
        seed=cfg.seed,
        splits=splits,
    )


def _at_the_limits(
    harness: ProblemHarness,
    cfg: SolveConfig,
    runner: _StepRunner,
    candidates: list[Candidate],
    test_inputs: Sequence[str],
    runs: RunMemo,
    timer: _Timer,
    progress: Progress,
    fallback: bool,
) -> tuple[list[Candidate], dict[int, float], int, tuple[InputSplit, ...]]:
    """The limit probe and the speed-up step (`alphagen.limits`, `draws.speedup_step`); what clustering returns."""
    limit_in = limits.limit_inputs(harness.problem.public_view(), cfg.seed)
    pool = [c for c in candidates if c.passed_examples and c.duplicate_of is None]
    with timer.stage(Stage.LIMITS, len(pool)) as out:
        candidates = limits.marked(candidates, limits.probe(harness, pool, limit_in, runs))
        out[0] = sum(1 for c in candidates if c.limit_status)
    ranked = {m: r for r, cl in enumerate(clustering.cluster(candidates, cfg.ranking, None, fallback))
              for m in cl.members}
    step = speedup_step(Budget.of(cfg), sorted(candidates, key=lambda c: ranked.get(c.index, len(ranked))))
    if step is None:
        # Signatures are as clustered; only the marks are new. The runs come from `runs`, not the sandbox.
        return cluster_survivors(harness, candidates, test_inputs, runs, progress, fallback)
    with timer.stage(Stage.SPEEDUP, step.count) as out:
        known = {c.index for c in candidates}
        before = {c.index: c for c in candidates}
        runner.run(step, lambda stage, k, total: progress(Stage.SPEEDUP, k, total) if stage == Stage.SAMPLE else None)
        new = [c for c in runner.pool.resolved() if c.index not in known]
        fresh = [c for c in new if c.passed_examples and c.duplicate_of is None]
        new = limits.marked(new, limits.probe(harness, fresh, limit_in, runs))
        out[0] = sum(1 for c in new if c.passed_examples and c.duplicate_of is None and not c.limit_status)
    # The pool keeps every candidate's example outcome; each keeps its marks (the earlier ones their signatures).
    drawn = {c.index: c for c in new}
    merged = [before.get(c.index) or drawn.get(c.index) or c for c in runner.pool.resolved()]
    # Clustering over everything again: the earlier programs' runs come from `runs` (a RunMemo), not the sandbox.
    return cluster_survivors(harness, merged, test_inputs, runs, progress, fallback)


def _picking_pool(harness: ProblemHarness, candidates: Sequence[Candidate], fallback: bool) -> list[Candidate]:
    """The programs to tell apart and pick from: the survivors or, when none passed every example of a problem
    whose examples are not its tests (its own harness judges it: HumanEval), the fallback pool (those that passed
    the most), so a run still submits its best guesses. A stdio judge runs the examples: no fallback there."""
    pool = clustering.picking_pool(candidates, fallback)
    survivors = [c for c in candidates if c.index in pool]
    if survivors and not any(c.passed_examples for c in survivors):
        log.info("no program passed every example: picking among the %d that passed the most (%d of %d)",
                 len(survivors), survivors[0].examples_passed, len(harness.problem.public_tests))
    return survivors


def _test_inputs(
    harness: ProblemHarness,
    survivors: Sequence[Candidate],
    runs: BatchExecutor,
    cfg: SolveConfig,
    models: Models,
    sample_s: float,
    progress: Progress,
) -> tuple[tuple[str, ...], dict[str, int]]:
    """Stage 4: the extra inputs that tell the survivors apart, and the test-input counts."""
    from alphagen.testgen import TestGenConfig, generate_test_inputs

    # With fewer than two distinct survivors there is nothing to tell apart: skip the expensive stage.
    if len(survivors) < 2:
        return (), {}
    ti = generate_test_inputs(
        harness.problem.public_view(),
        [harness.program(c.code, c.language) for c in survivors],
        runs,
        harness.limits,
        _testgen_budget(cfg.testgen or TestGenConfig(), sample_s),
        cfg.seed,
        sampler=models.test_sampler,
        tokenizer=models.test.tokenizer if models.test else None,
        validator=harness.problem.validator,
        # Per source ("testgen:model", ...), so a slow source shows by name instead of one frozen bar.
        progress=lambda source, k, total: progress(Stage.TESTGEN.sub(source), k, total),
    )
    return tuple(ti.inputs), dict(ti.counts)
