"""Runs the draw steps into one problem's pool: the fresh samples and the repairs (`sample_and_repair`), read back
from a killed attempt's log where it stored them (`StageLog`), and the first or a later round's fresh samples of
several problems in one sampler call (`sample_together`, `sample_slices_together`), and their repair rounds
likewise (`repairs_together`).

`alphagen.draws` decides what each step draws; `alphagen.sample_filter` draws and filters it. The pipeline
(`alphagen.pipeline`) calls `sample_and_repair` first in every solve; bench calls the window functions before
its solves so that they replay the steps stored here.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from alphagen.config import Models, SolveConfig
from alphagen.draws import (
    Budget,
    DrawKind,
    DrawStep,
    SamplingPlan,
    next_step,
    plan_for,
    plan_sampling,
    plan_slice,
)
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem
from alphagen.repair import RepairPlan
from alphagen.results import Candidate, PoolStage, StageStat
from alphagen.sample_filter import ExampleOutcome, Pool, draw_and_filter, draw_and_filter_many
from alphagen.stages import Progress, Stage, noop_progress
from sandbox import BatchExecutor

__all__ = [
    "Slice",
    "StageLog",
    "StepRunner",
    "repairs_together",
    "sample_and_repair",
    "sample_slices_together",
    "sample_together",
]


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
class StepRunner:
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
            # slices (fresh, fresh-8, fresh-16, ...), and a replayed run may hold a larger slice than this step
            # (bench --replay of an all-at-once run into rounds): read back the part of the stored slices that lies
            # inside this step, each sample as it was drawn (its own index and random stream), draw the rest.
            while (kept := covering_slice(self.stored, step.start)) is not None:
                part = [c for c in kept.candidates if step.start <= c.index < step.start + step.count]
                if not part:
                    break
                self.pool.add_stored(part)
                # A part of a slice costs its share of the slice's sampling seconds (a whole one, exactly its own).
                whole = len(part) == len(kept.candidates)
                seconds += kept.seconds if whole else kept.seconds * len(part) / len(kept.candidates)
                if len(part) == step.count:
                    return seconds
                step = replace(step, start=step.start + len(part), count=step.count - len(part))
        elif step.name in self.stored:
            kept = self.stored[step.name]
            self.pool.add_stored(kept.candidates)
            return kept.seconds
        drawn, outcomes, drawn_s = draw_and_filter(self.harness, self.plan(step), self.models.sampler, self.executor,
                                                   progress, known=self.pool.outcomes)
        self._keep(step, drawn, outcomes, drawn_s)
        return seconds + drawn_s

    def plan(self, step: DrawStep) -> SamplingPlan | RepairPlan:
        """The sampler's requests for a step this runner has not drawn (`run` draws it; `repairs_together` draws
        several problems' steps in one call)."""
        return plan_for(step, self.harness, self.cfg, self.models.code.tokenizer)

    def take(self, step: DrawStep, drawn: Sequence[Candidate], outcomes: Mapping[str, ExampleOutcome],
             seconds: float) -> PoolStage:
        """A step drawn and filtered elsewhere (`repairs_together`), into the pool and the checkpoint, as `run`
        would have kept it."""
        self.done.append(step)
        return self._keep(step, drawn, outcomes, seconds)

    def _keep(self, step: DrawStep, drawn: Sequence[Candidate], outcomes: Mapping[str, ExampleOutcome],
              seconds: float) -> PoolStage:
        self.pool.add(drawn, outcomes)
        stage = PoolStage(step.name, tuple(drawn), round(seconds, 4))
        if self.checkpoint is not None:
            self.checkpoint.record(stage)
        return stage

    def next(self) -> DrawStep | None:
        return next_step(Budget.of(self.cfg), self.done, self.pool.resolved, self.harness.example_expected)


def fresh_step_name(start: int) -> str:
    """The checkpoint name of the fresh slice that starts at sample `start`."""
    return DrawStep(DrawKind.FRESH, start=start, count=1).name


def fresh_slice_start(name: str) -> int | None:
    """The first sample of the fresh slice a checkpoint name stands for (`fresh_step_name`); None for any other
    step."""
    if name == DrawKind.FRESH.value:
        return 0
    head, _, start = name.partition("-")
    return int(start) if head == DrawKind.FRESH.value and start.isdigit() else None


def covering_slice(stored: Mapping[str, PoolStage], start: int) -> PoolStage | None:
    """The stored fresh slice that holds sample `start` (None: no stored slice does)."""
    for name, stage in stored.items():
        first = fresh_slice_start(name)
        if first is not None and first <= start < first + len(stage.candidates):
            return stage
    return None


def sample_and_repair(
    harness: ProblemHarness,
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
    checkpoint: StageLog | None = None,
    runner: StepRunner | None = None,
) -> tuple[list[Candidate], list[StageStat]]:
    """Stages 1-3 and the repair rounds, as draw steps (`alphagen.draws`): the fresh samples, filtered while drawn;
    then, while the repair budget lasts, fixes of the most promising failures, filtered the same way; then, if
    nothing is left to repair, the rest of the budget as the fresh samples a run without repairs would have drawn.
    Every step is decided by the pool before it, so a step stored in `checkpoint` is replayed instead of drawn.
    Returns the deduplicated, filtered pool and the stage statistics (sample, dedup, filter, and repair when the
    share is not 0)."""
    runner = runner or StepRunner(harness, cfg, models, executor, checkpoint)
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
    report = _on_repair_bar(progress)
    while (step := runner.next()) is not None:
        runner.run(step, report)
    final = runner.pool.resolved()
    parents = sum(len(st.parents) for st in runner.done)
    fixed = sum(1 for c in final if c.parent is not None and c.passed_examples and c.duplicate_of is None)
    stats.append(StageStat(Stage.REPAIR, time.perf_counter() - t1 + stored_s, parents, fixed))
    return final, stats


def _on_repair_bar(progress: Progress) -> Progress:
    """A repair step's sampler progress, shown on the repair bar (the filter's own counts are not)."""
    return lambda stage, k, total: progress(Stage.REPAIR, k, None) if stage == Stage.SAMPLE else None


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


def repairs_together(
    problems: Sequence[Problem],
    fresh: Sequence[PoolStage],
    cfg: SolveConfig,
    models: Models,
    executor: BatchExecutor,
    progress: Progress = noop_progress,
) -> list[list[PoolStage]]:
    """After `sample_together`: the same problems' repair rounds and top-ups, each round of all of them in one
    sampler call; each problem's steps as its solve would store them (`sample_and_repair` replays them).

    A step depends only on the pool the steps before it drew (`next_step`), so these are the steps each solve would
    draw itself, round k of every problem in call k. Drawn in their solves, each problem's few fixes decode alone,
    a batch of a few rows where a window fills 128: HumanEval's first 16 with a quarter of -n 16 spent on repairs
    took 2.9 times the wall time of fresh samples alone (session 15). `fresh` is each problem's fresh step, in
    order; nothing to repair (no repair share, or a solve that settles in rounds) returns no steps."""
    if len(fresh) != len(problems):
        raise ValueError(f"fresh must give one step per problem ({len(problems)}), got {len(fresh)}")
    if cfg.settle_min is not None or not Budget.of(cfg).repair:
        return [[] for _ in problems]
    logs = [_StepList(st) for st in fresh]
    runners = [StepRunner(ProblemHarness.of(p, cfg.time_limit_s, cfg.memory_limit_mb), cfg, models, executor, log)
               for p, log in zip(problems, logs, strict=True)]
    for runner in runners:
        # The fresh step is stored: this reads it back into the runner's pool.
        first = runner.next()
        assert first is not None and first.kind is DrawKind.FRESH
        runner.run(first, noop_progress)
    report = _on_repair_bar(progress)
    while True:
        todo = [(runner, step) for runner in runners if (step := runner.next()) is not None]
        if not todo:
            return [log.recorded for log in logs]
        progress(Stage.REPAIR, 0, sum(step.count for _, step in todo))
        drawn = draw_and_filter_many([(runner.harness, runner.plan(step)) for runner, step in todo], models.sampler,
                                     executor, report, known=[runner.pool.outcomes for runner, _ in todo])
        for (runner, step), d in zip(todo, drawn, strict=True):
            runner.take(step, d.candidates, d.outcomes, d.seconds)


class _StepList:
    """A StageLog in memory: one stored step, and the steps recorded after it (`repairs_together`)."""

    def __init__(self, first: PoolStage) -> None:
        self.first = first
        self.recorded: list[PoolStage] = []

    def stored(self) -> Sequence[PoolStage]:
        return [self.first, *self.recorded]

    def record(self, stage: PoolStage) -> None:
        self.recorded.append(stage)


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
