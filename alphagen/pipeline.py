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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from alphagen import clustering, limits, settle
from alphagen.cluster_runs import ClusterClock, Clustered, cluster_survivors
from alphagen.config import Models, SolveConfig
from alphagen.draw_runner import StageLog, StepRunner, sample_and_repair
from alphagen.draws import Budget, speedup_step
from alphagen.problems.harness import ProblemHarness, examples_are_tests
from alphagen.problems.model import Problem
from alphagen.results import Candidate, PoolStage, SolveResult, StageStat
from alphagen.run_memo import RunMemo
from alphagen.stages import Progress, Stage, noop_progress
from sandbox import BatchExecutor

if TYPE_CHECKING:
    from alphagen.testgen import ModelMemo, TestGenConfig

__all__ = ["TESTS_PER_CHILD", "Models", "SolveConfig", "SolveMemo", "StageLog", "solve"]

log = logging.getLogger("alphagen.pipeline")
TESTS_PER_CHILD = 8
"""Executors made for the pipeline run up to this many tests of one program in one isolated child (filter,
test-input checks, clustering: several times the executions per second on short tests); hidden-test judging
keeps one child per test (alphagen.judging)."""


def _model_memo() -> ModelMemo:
    # testgen is imported when a solve first needs it, as elsewhere in this module.
    from alphagen.testgen import ModelMemo

    return ModelMemo()


@dataclass
class SolveMemo:
    """What one solve learns that its rounds reuse (`solve` with settle_min draws in rounds, each clustering all it
    has drawn): every plain run (`RunMemo`: the test-input checks', clustering's, the generator programs'), the
    limit probe's verdicts and the model test-input sources' proposals. Before, each round did them all again:
    shipped at -n 16 in rounds by need, test inputs 305 s and the probe 89 s against 105 s and 33 s for the same
    number of samples drawn at once. A solve in one go makes one and uses it once; `bench --budget`, which solves
    a problem again each round it grows, keeps one per problem (`commands.bench.LazyPipeline`)."""

    runs: RunMemo
    probed: limits.Probed = field(default_factory=dict)
    model_inputs: ModelMemo = field(default_factory=_model_memo)
    spent: dict[str, float] = field(default_factory=dict)
    """Seconds each budgeted stage (test inputs, clustering, the limit probe) spent in the solve's earlier rounds.
    A round's budget for a stage is its share of all the sampling so far less this, so the rounds together keep to
    the share one solve of all their samples gets: shipped at -n 8 in rounds of 4 (session 20), each round
    granted its whole share again and test inputs took 26.6-29.0% of two problems' solves."""

    def left(self, stage: str, budget_s: float) -> float:
        """What is left of a stage's budget for this solve, after its earlier rounds (never below 0)."""
        return max(0.0, budget_s - self.spent.get(stage, 0.0))

    def spend(self, stage: str, seconds: float) -> None:
        self.spent[stage] = self.spent.get(stage, 0.0) + seconds


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



TESTGEN_MODEL_SHARE = 0.2
"""The model test-input sources may spend this share of the problem's sampling time, and start only when it covers
one prompt as long as their last one (`testgen.model_budget.PROMPT_COSTS`). At 0.5 the stage took 34-45% of a -n 32
solve of a shipped problem whose programs are short (14-21 s of sampling); the target is at most 25%. There is no
floor: a 2 s one let the model sources take 14.7% of HumanEval's first 40 problems' time on average and 30% at
most (3.6-8.6 s of sampling at -n 16), for 8 of their 475 kept inputs."""
TESTGEN_STAGE_SHARE = 0.3
"""The whole test-input stage (model sources and checks) may take this share of the problem's sampling time (at
least TESTGEN_STAGE_MIN_S), then no further chunk of checks starts: 0.3 of sampling is 23% of sampling plus the
stage, under the 25% target with room for the last chunk. Without it, survivors that are right but slow (1068B,
1076B with the 1.5B model: loops to n <= 10^10) made the checks take 33-44 s against 14-18 s of sampling."""
TESTGEN_STAGE_MIN_S = 3.0
CLUSTER_SHARE = 0.3
"""Clustering may take this share of the problem's sampling time; past it a program with a slow run (over
`cluster_runs.SLOW_RUN_SHARE` of the limit) runs no more inputs and is clustered with the programs it agreed with
on every input it ran (`cluster_runs.bounded_signatures`). Fast programs always run every input. On count-at-most
at -n 8 (session 19), survivors that scan the array per query ran each large input in 0.1-1 s without timing out:
clustering took 31.8% of the solve."""


def _testgen_budget(tg: TestGenConfig, sample_seconds: float, spent: float = 0.0) -> TestGenConfig:
    # Each budget a caller set is kept; the ones left unset become shares of this problem's sampling time, the
    # stage's less what the solve's earlier rounds spent on it (`SolveMemo.spent`).
    if tg.model_budget_s is None:
        tg = replace(tg, model_budget_s=TESTGEN_MODEL_SHARE * sample_seconds)
    if tg.stage_budget_s is None:
        share = max(TESTGEN_STAGE_MIN_S, TESTGEN_STAGE_SHARE * sample_seconds)
        tg = replace(tg, stage_budget_s=max(0.0, share - spent))
    return tg


def solve(
    problem: Problem,
    cfg: SolveConfig,
    *,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
    memo: SolveMemo | None = None,
) -> SolveResult:
    """Run the whole pipeline on one problem. `checkpoint` keeps each finished sampling step (bench: resumable);
    `memo`, what earlier solves of the same problem with more or fewer samples learned (`bench --budget` solves a
    problem once a round; its memo must wrap `executor`).

    With `cfg.settle_min`, the samples are drawn in rounds of that many, each round clustering everything drawn so
    far, until the answer is settled (`alphagen.settle.assess`) or n are drawn: the first k samples are those an
    all-at-once solve draws first, so a settled problem costs only its rounds."""
    if cfg.settle_min is None or cfg.settle_min >= cfg.n:
        return _solve_at_once(problem, cfg, models=models, executor=executor, progress=progress,
                              checkpoint=checkpoint, memo=memo)
    rounds = settle.round_sizes(cfg.n, cfg.settle_min)
    # Each round replays the samples of the rounds before it from this log instead of drawing them again, and
    # reads back the runs, probe verdicts and model test inputs of the rounds before it from the memo.
    steps = _RoundLog(checkpoint)
    memo = memo or SolveMemo(RunMemo(executor))
    results: list[SolveResult] = []
    for done, k in enumerate(rounds, 1):
        results.append(_solve_at_once(problem, cfg.round_config(k), models=models, executor=executor,
                                      progress=progress, checkpoint=steps, memo=memo))
        need = settle.assess(results[-1])
        log.info("round %d: %d samples, %s", done, k, need)
        if need is settle.Need.SETTLED:
            break
    # The stages' seconds are what all the rounds spent (each clustered and made test inputs again).
    return replace(settle.over_rounds(results), rounds=tuple(rounds[:done]))


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
    memo: SolveMemo | None = None,
) -> SolveResult:
    """One solve of all cfg.n samples (see `solve`); `memo`: what earlier rounds of the solve learned."""
    timer = _Timer()
    # Everything the stages need to run this problem's programs, derived once: limits (with the config's
    # overrides), compare options, the function driver wrapping, the examples. From here on the harness carries
    # the problem down through the stages.
    harness = ProblemHarness.of(problem, cfg.time_limit_s, cfg.memory_limit_mb)

    # Stages 1-3 overlap (the filter runs while the sampler draws); their timings are split where sampling ends.
    # Then the repair rounds (when the config gives them a share of the budget) add their fixes to the pool.
    runner = StepRunner(harness, cfg, models, executor, checkpoint)
    candidates, stats = sample_and_repair(harness, cfg, models, executor, progress, checkpoint, runner)
    timer.stages += stats
    for st in timer.stages:
        log.info("stage %s: %d -> %d in %.2fs", st.name, st.count_in, st.count_out, st.seconds)
    sample_s = sum(st.seconds for st in stats if st.name in (Stage.SAMPLE, Stage.REPAIR))
    fallback = cfg.fallback and not examples_are_tests(harness.problem)
    survivors = _picking_pool(harness, candidates, fallback)
    if len(survivors) < 2:
        # One survivor is nothing to tell apart, but the programs its spare picks go to (`clustering.picking_pool`'s
        # fill) are: with two or more survivors the inputs stay theirs alone, so their ranking is unchanged.
        survivors = _picking_pool(harness, candidates, fallback, cfg.num_picks)

    # The test-input check and the clustering run the same survivors on the same inputs: each pair runs once.
    memo = memo or SolveMemo(RunMemo(executor))
    runs = memo.runs
    with timer.stage(Stage.TESTGEN, len(survivors)) as out:
        test_inputs, counts = _test_inputs(harness, survivors, memo, cfg, models, sample_s, progress)
        out[0] = len(test_inputs)
    memo.spend(Stage.TESTGEN, timer.stages[-1].seconds)

    # Every clustering of this solve runs the same inputs under the same limits: a later one (after the limit
    # probe) reads the first one's runs back from `runs`. All of them share one time budget (`ClusterClock`).
    clock = ClusterClock(memo.left(Stage.CLUSTER, CLUSTER_SHARE * sample_s))

    def recluster(pool: Sequence[Candidate]) -> Clustered:
        return cluster_survivors(harness, pool, test_inputs, runs, progress, fallback, slow_share=_slow_share(cfg),
                                 fill=cfg.num_picks, clock=clock)

    with timer.stage(Stage.CLUSTER, len(survivors)) as out:
        got = recluster(candidates)
        clusters = clustering.cluster(got.candidates, cfg.ranking, got.agreement, fallback, cfg.num_picks)
        picks = clustering.select(got.candidates, cfg.num_picks, cfg.ranking, got.agreement, fallback)
        out[0] = len(picks)
    if cfg.limit_probe:
        # Right but too slow at the stated limits: marked (picked after the rest), then, with a speed-up share,
        # asked to be made faster; the fixes are filtered and clustered with everything drawn before.
        got = _at_the_limits(harness, cfg, runner, got.candidates, recluster, memo, timer, progress, fallback,
                             sample_s)
        clusters = clustering.cluster(got.candidates, cfg.ranking, got.agreement, fallback, cfg.num_picks)
        picks = clustering.select(got.candidates, cfg.num_picks, cfg.ranking, got.agreement, fallback)
    memo.spend(Stage.CLUSTER, clock.spent)
    candidates, splits = got.candidates, got.splits
    counts["distinguishing"] = got.distinguishing
    # Clustering runs not made (the final clustering's): time-outs presumed (see _cluster_runs), and slow
    # programs' runs left out once the clustering budget was spent.
    counts["cluster_presumed_timeouts"] = got.presumed
    counts["cluster_unrun"] = got.unrun
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
    runner: StepRunner,
    candidates: list[Candidate],
    recluster: Callable[[Sequence[Candidate]], Clustered],
    memo: SolveMemo,
    timer: _Timer,
    progress: Progress,
    fallback: bool,
    sample_s: float,
) -> Clustered:
    """The limit probe and the speed-up step (`alphagen.limits`, `draws.speedup_step`); what clustering returns
    (`recluster`: the solve's clustering of a pool, on its inputs and under its deadline)."""
    limit_in = limits.limit_inputs(harness.problem.public_view(), cfg.seed)
    # Whole clusters in rank order (each's members in representative order): under the probe's budget the
    # clusters the picks put first are probed whole. A cluster goes last only when every member is marked, so one
    # the budget cut short keeps its rank, as without the probe: the budget can only leave an order unimproved.
    ranking = clustering.cluster(candidates, cfg.ranking, None, fallback, cfg.num_picks)
    order = {m: k for k, m in enumerate(m for cl in ranking for m in cl.members)}
    pool = sorted((c for c in candidates if c.passed_examples and c.duplicate_of is None),
                  key=lambda c: order.get(c.index, len(order)))
    with timer.stage(Stage.LIMITS, len(pool)) as out:
        marks = limits.probe(harness, pool, limit_in, memo.runs,
                             budget_s=memo.left(Stage.LIMITS, limits.PROBE_SHARE * sample_s), known=memo.probed)
        candidates = limits.marked(candidates, marks)
        out[0] = sum(1 for c in candidates if c.limit_status)
    memo.spend(Stage.LIMITS, timer.stages[-1].seconds)
    ranked = {m: r for r, cl in enumerate(clustering.cluster(candidates, cfg.ranking, None, fallback, cfg.num_picks))
              for m in cl.members}
    step = speedup_step(Budget.of(cfg), sorted(candidates, key=lambda c: ranked.get(c.index, len(ranked))))
    if step is None:
        # Signatures are as clustered; only the marks are new. The runs come from `runs`, not the sandbox.
        return recluster(candidates)
    with timer.stage(Stage.SPEEDUP, step.count) as out:
        known = {c.index for c in candidates}
        before = {c.index: c for c in candidates}
        runner.run(step, lambda stage, k, total: progress(Stage.SPEEDUP, k, total) if stage == Stage.SAMPLE else None)
        new = [c for c in runner.pool.resolved() if c.index not in known]
        fresh = [c for c in new if c.passed_examples and c.duplicate_of is None]
        new = limits.marked(new, limits.probe(harness, fresh, limit_in, memo.runs, known=memo.probed))
        out[0] = sum(1 for c in new if c.passed_examples and c.duplicate_of is None and not c.limit_status)
    # The pool keeps every candidate's example outcome; each keeps its marks (the earlier ones their signatures).
    drawn = {c.index: c for c in new}
    merged = [before.get(c.index) or drawn.get(c.index) or c for c in runner.pool.resolved()]
    # Clustering over everything again: the earlier programs' runs come from `runs` (a RunMemo), not the sandbox.
    return recluster(merged)


def _slow_share(cfg: SolveConfig) -> float:
    """The share of the time limit a slow survivor's later clustering runs get: the test-input checks' own, so
    that clustering reads their runs back (`cluster_runs._cluster_runs`)."""
    from alphagen.testgen import TestGenConfig

    return (cfg.testgen or TestGenConfig()).slow_check_time_share


def _picking_pool(harness: ProblemHarness, candidates: Sequence[Candidate], fallback: bool, fill: int = 0
                  ) -> list[Candidate]:
    """The programs to tell apart and pick from: the survivors or, when none passed every example of a problem
    whose examples are not its tests (its own harness judges it: HumanEval), the fallback pool (those that passed
    the most), so a run still submits its best guesses; with `fill`, the fallback pool joins fewer survivors than
    that. A stdio judge runs the examples: no fallback there."""
    pool = clustering.picking_pool(candidates, fallback, fill)
    survivors = [c for c in candidates if c.index in pool]
    if survivors and not any(c.passed_examples for c in survivors):
        log.info("no program passed every example: picking among the %d that passed the most (%d of %d)",
                 len(survivors), survivors[0].examples_passed, len(harness.problem.public_tests))
    return survivors


def _test_inputs(
    harness: ProblemHarness,
    survivors: Sequence[Candidate],
    memo: SolveMemo,
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
        memo.runs,
        harness.generated_limits,
        _testgen_budget(cfg.testgen or TestGenConfig(), sample_s, memo.spent.get(Stage.TESTGEN, 0.0)),
        cfg.seed,
        sampler=models.test_sampler,
        tokenizer=models.test.tokenizer if models.test else None,
        validator=harness.problem.validator,
        model_memo=memo.model_inputs,
        # Per source ("testgen:model", ...), so a slow source shows by name instead of one frozen bar.
        progress=lambda source, k, total: progress(Stage.TESTGEN.sub(source), k, total),
    )
    return tuple(ti.inputs), dict(ti.counts)
