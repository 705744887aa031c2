"""A bench run with one sample budget for the whole directory (`alphagen bench --budget`), drawn in rounds by need.

Every problem first draws one round (`settle_min` samples, its first samples as any run draws them); then, round
after round, the samples left go to the problems whose answer is not settled (`alphagen.settle`: no survivor,
fewer than three survivors, disagreeing clusters, or survivors too slow at the stated limits), fewest samples
first, each up to `-n`. A problem is judged and committed as soon as it is settled or at its cap, the rest when
the budget is spent or nothing needs more.

Resumable after kill -9: each round's result is an event in the problem's log ('round', with its sample count),
and each round's sampling steps are stored as any solve stores them, so a resumed run replays its rounds, makes
the same allocation, and draws only what was not drawn yet.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from alphagen import settle
from alphagen.draw_runner import Slice, StageLog, covering_slice
from alphagen.evaluation import metrics
from alphagen.evaluation.records import solve_result_from_dict, solve_result_to_dict
from alphagen.evaluation.runner import (
    BenchConfig,
    EventCheckpoint,
    OnEvent,
    SolveFn,
    WindowFn,
    _default_select,
    draw_window,
    error_record,
    finished_records,
    run_problem,
)
from alphagen.evaluation.store import RunStore
from alphagen.evaluation.verdicts import JudgeFn
from alphagen.problems.model import Problem
from alphagen.results import SolveResult
from alphagen.sample_filter import pool_outcomes
from alphagen.statuses import RunStatus

log = logging.getLogger("alphagen.bench")


class SlicesFn(Protocol):
    """Draws several problems' next fresh samples in one sampler call (`draw_runner.sample_slices_together`) and keeps
    each one's slice in its checkpoint, where its solve in rounds finds and replays it."""

    def __call__(self, slices: Sequence[Slice], cfg: BenchConfig, checkpoints: Sequence[StageLog], /) -> None: ...


def first_round_cost(problems: int, cfg: BenchConfig) -> int:
    """Samples the first round takes: every problem draws settle_min (or n) before any is looked at."""
    return problems * cfg.solve.first_draw


class _Stored:
    """A SolveFn that returns a result already drawn: how a budgeted problem's last round reaches the judge."""

    def __init__(self, result: SolveResult) -> None:
        self.result = result

    def __call__(self, problem: Problem, cfg: BenchConfig, seed: int, /,
                 checkpoint: StageLog | None = None) -> SolveResult:
        return self.result


def _one_round(cfg: BenchConfig, k: int) -> BenchConfig:
    """The bench config of one round's solve: k samples drawn at once (the runner does the rounds)."""
    return replace(cfg, solve=cfg.solve.round_config(k), budget=None)


def _has_step(store: RunStore, name: str, start: int) -> bool:
    """Whether a problem's log holds a fresh slice with sample `start` in it (a window of this round drew it, or a
    replayed run's larger draw holds it)."""
    stored = EventCheckpoint(store, name, store.events(name)).stored()
    return covering_slice({st.name: st for st in stored}, start) is not None


def _stored_rounds(events: list[dict[str, Any]]) -> dict[int, SolveResult]:
    return {int(ev["k"]): solve_result_from_dict(ev["result"]) for ev in events if ev.get("event") == "round"}


class _BudgetedRun:
    """One budgeted run's state: the samples each open problem has drawn, its latest round, what is spent."""

    def __init__(self, problems: Sequence[Problem], cfg: BenchConfig, store: RunStore, solve_fn: SolveFn,
                 judge_fn: JudgeFn, select: metrics.SelectFn, notify: OnEvent, window_fn: WindowFn | None,
                 slices_fn: SlicesFn | None, done: dict[str, dict[str, Any]]) -> None:
        self.problems, self.cfg, self.store, self.done = problems, cfg, store, done
        self.solve_fn, self.judge_fn, self.select, self.notify, self.window_fn, self.slices_fn = (
            solve_fn, judge_fn, select, notify, window_fn, slices_fn)
        self.order = [p.name for p in problems]
        self.by_name = {p.name: p for p in problems}
        # Finished problems are never reopened; their samples count against the budget all the same.
        self.spent = sum(int(done[n].get("n") or done[n].get("drawn") or 0) for n in self.order if n in done)
        self.drawn: dict[str, tuple[int, ...]] = {}
        self.latest: dict[str, SolveResult] = {}

    def grow(self, name: str, k: int) -> None:
        """Draw (or replay) problem `name` up to k samples; a problem that errors is committed as such."""
        problem, first = self.by_name[name], name not in self.drawn
        self.notify("start" if first else "round", name, {"k": k})
        if first and self.window_fn is not None:
            draw_window(self.problems, self.order.index(name), _one_round(self.cfg, k), self.store, self.window_fn,
                        self.done)
        events = self.store.events(name)
        result = _stored_rounds(events).get(k)
        self.spent += k - (self.drawn[name][-1] if name in self.drawn else 0)
        self.drawn[name] = (*self.drawn.get(name, ()), k)
        if result is None:
            try:
                result = self.solve_fn(problem, _one_round(self.cfg, k), self.cfg.seed,
                                       checkpoint=EventCheckpoint(self.store, name, events))
            except Exception as e:  # noqa: BLE001 - one problem's failure must not stop the run
                log.warning("problem %s failed at %d samples: %s: %s", name, k, type(e).__name__, e)
                self.done[name] = error_record(name, "solve", f"{type(e).__name__}: {e}", problem.source) | {
                    "drawn": k}
                self.store.commit(self.done[name])
                self.notify("error", name, self.done[name])
                return
            self.store.log(name, {"event": "round", "k": k, "result": solve_result_to_dict(result)})
        # Judged on the last round, timed with what every round spent (each clustered and made test inputs again):
        # the problem's latest result already holds the rounds before this one.
        before = self.latest.get(name)
        timed = result if before is None else settle.over_rounds([before, result])
        self.latest[name] = replace(timed, rounds=self.drawn[name])
        if settle.assess(result) is settle.Need.SETTLED or k >= self.cfg.n:
            self.finish(name)

    def finish(self, name: str) -> None:
        """Judge, score and commit a problem on its last round."""
        record = run_problem(self.by_name[name], self.cfg, self.store, _Stored(self.latest.pop(name)),
                             self.judge_fn, self.select)
        self.done[name] = record
        self.notify("error" if record["status"] == RunStatus.ERROR else "done", name, record)

    def draw_round(self, wanted: dict[str, int]) -> None:
        """Before a round's solves: draw its problems' new samples together, in fixed windows of the round's
        order (as many problems as fit in window_samples), each member's slice stored only when its whole window
        is drawn, so a resumed run draws the same windows. A window that fails leaves its members to draw alone."""
        if self.slices_fn is None:
            return
        open_slices = [Slice(self.by_name[name], self.drawn[name][-1], k, pool_outcomes(self.latest[name].candidates))
                       for name, k in wanted.items()
                       if name in self.latest and not _has_step(self.store, name, self.drawn[name][-1])]
        size = max(1, self.cfg.window_samples // self.cfg.solve.first_draw)
        for at in range(0, len(open_slices), size):
            window = open_slices[at:at + size]
            if len(window) < 2:
                continue
            try:
                self.slices_fn(window, self.cfg, [EventCheckpoint(self.store, sl.problem.name, []) for sl in window])
            except Exception as e:  # noqa: BLE001 - each member then samples alone, as draw_window's do
                log.warning("sampling a round of %d problems together failed (%s: %s); each samples alone",
                            len(window), type(e).__name__, e)

    def next_round(self) -> dict[str, int]:
        """The problems that grow next and to how many samples (empty: the budget is spent or all settled)."""
        assert self.cfg.budget is not None
        states = {name: settle.Share(self.drawn[name][-1], settle.assess(r)) for name, r in self.latest.items()}
        return settle.next_round(states, self.order, max(0, self.cfg.budget - self.spent),
                                 self.cfg.solve.first_draw, self.cfg.n)


def run_budgeted(
    problems: Sequence[Problem],
    load_errors: Sequence[tuple[str, str]],
    cfg: BenchConfig,
    store: RunStore,
    solve_fn: SolveFn,
    judge_fn: JudgeFn,
    select: metrics.SelectFn = _default_select,
    on_event: OnEvent | None = None,
    retry_errors: bool = False,
    window_fn: WindowFn | None = None,
    slices_fn: SlicesFn | None = None,
) -> dict[str, dict[str, Any]]:
    """`run_bench` with `cfg.budget` samples over all `problems` (see the module doc); all finished records by
    name."""
    assert cfg.budget is not None and cfg.solve.settle_min is not None  # BenchConfig checks both
    notify = on_event or (lambda kind, name, detail: None)
    done = finished_records(store, load_errors, retry_errors, notify)
    run = _BudgetedRun(problems, cfg, store, solve_fn, judge_fn, select, notify, window_fn, slices_fn, done)
    for name in run.order:
        if name in done:
            notify("skip", name, done[name])
    # Round 1: every open problem draws its first samples, in order (with sampling windows where offered).
    for name in run.order:
        if name not in done:
            run.grow(name, cfg.solve.first_draw)
    # Then the samples left go where the answer is not settled yet, fewest samples first.
    while run.latest and (wanted := run.next_round()):
        log.info("round: %d problems grow (%d of %d samples spent)", len(wanted), run.spent, cfg.budget)
        run.draw_round(wanted)
        for name, k in wanted.items():
            run.grow(name, k)
    # The budget is spent (or nothing needs more): the rest are judged on what they drew.
    for name in [n for n in run.order if n in run.latest]:
        run.finish(name)
    return done


def allocation(records: Sequence[dict[str, Any]], budget: int) -> dict[str, Any]:
    """Where the budget went (summary.json's 'budget'): samples per problem and, per final state (settled,
    no-survivor, ...), how many problems ended there, the samples they drew and how many were solved."""
    by_need: dict[str, dict[str, int]] = {}
    per_problem: dict[str, int] = {}
    for rec in records:
        samples = int(rec.get("n") or rec.get("drawn") or 0)
        per_problem[rec["name"]] = samples
        need = str(rec.get("need") or rec.get("status"))
        row = by_need.setdefault(need, {"problems": 0, "samples": 0, "solved": 0})
        row["problems"] += 1
        row["samples"] += samples
        row["solved"] += bool(rec.get("solved"))
    return {"total": budget, "spent": sum(per_problem.values()), "by_need": by_need, "samples": per_problem}
