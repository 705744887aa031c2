"""Run the pipeline over many problems, judge, score, and store every step so a run can always be resumed.

The solver and the judge are injected (`solve_fn`, `judge_fn`) so tests can drive the runner with
deterministic fakes; the CLI passes the real pipeline and `alphagen.judging.judge`.
"""

from __future__ import annotations

import logging
import random
import time
import traceback
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from alphagen import settle
from alphagen.draws import Budget
from alphagen.evaluation import metrics
from alphagen.evaluation.picks import compare_picks
from alphagen.evaluation.records import (
    VerdictRecord,
    pool_stage_from_dict,
    pool_stage_to_dict,
    solve_result_from_dict,
    solve_result_to_dict,
)
from alphagen.evaluation.store import RunStore
from alphagen.evaluation.verdicts import JudgeFn, judge_program
from alphagen.pipeline import SolveConfig, StageLog
from alphagen.problems.harness import examples_are_tests
from alphagen.problems.model import Problem
from alphagen.results import Candidate, PoolStage, SolveResult, lineage
from alphagen.statuses import RunStatus
from alphagen.testgen.config import TestGenConfig

if TYPE_CHECKING:
    from alphagen.evaluation.budget import SlicesFn

log = logging.getLogger("alphagen.bench")

# Standard pass@k points, reported whenever the budget allows (on top of the 1, 2, 4, ... curve).
STANDARD_KS = (1, 10, 100, 1000)


@dataclass(frozen=True)
class BenchConfig:
    """Everything that shapes a bench run's results (a resume must use the same): the solve settings of every
    problem plus the model and the estimator's draws."""

    solve: SolveConfig = field(default_factory=SolveConfig)
    """Settings of each problem's solve (`alphagen solve`'s options; the same defaults)."""
    model: str | None = None
    """Model spec (None: the embedded 0.5B, what `load_model(None)` loads; `solve` and `bench` always record a name)."""
    test_model: str | None = None
    """Model proposing test inputs (None: the same as `model`)."""
    draws: int = 100
    """Random subsets per budget for the n@k subsampling estimate."""
    quantize: str | None = None
    """'int8': dynamic int8 quantization of the model's linear layers (CPU); None: full precision."""
    dtype: str = "auto"
    """Weights' dtype as asked: auto, fp32 or bf16."""
    window_samples: int = 128
    """Consecutive problems draw their fresh samples together, as many problems as fit in this many samples (one
    continuous batch: the rows one problem's longest samples leave idle go to the next one's). At most one
    problem's worth (0, or any value below 2 x the fresh samples): each problem alone, as `alphagen solve`."""
    budget: int | None = None
    """Total samples over all problems, drawn in rounds of `solve.settle_min` where the answer is not settled yet,
    each problem up to `solve.n` (alphagen.evaluation.budget). None: every problem draws its own n."""

    def __post_init__(self) -> None:
        if self.budget is not None and (self.budget < 1 or self.solve.settle_min is None):
            raise ValueError(f"budget must be >= 1 samples and drawn in rounds (settle_min), got {self.budget} "
                             f"with settle_min {self.solve.settle_min}")
        if self.draws < 1:
            raise ValueError(f"draws must be >= 1, got {self.draws}")
        if self.window_samples < 0:
            raise ValueError(f"window samples must be >= 0, got {self.window_samples}")
        if self.quantize not in (None, "int8"):
            raise ValueError(f"quantize must be int8 or None, got {self.quantize!r}")
        if self.dtype not in ("auto", "fp32", "bf16"):
            raise ValueError(f"dtype must be auto, fp32 or bf16, got {self.dtype!r}")

    # The solve settings the runner and the estimators read.
    @property
    def n(self) -> int:
        return self.solve.n

    @property
    def seed(self) -> int:
        return self.solve.seed

    @property
    def num_picks(self) -> int:
        return self.solve.num_picks

    def to_dict(self) -> dict[str, Any]:
        """config.json: flat, one key per setting (the solve settings at the top level, as older runs wrote
        them, so their config.json still compares key by key)."""
        # The cache directory only says where converted weights are kept: a resume may use another.
        solve = {k: v for k, v in asdict(self.solve).items() if k not in ("testgen", "cache_dir")}
        sources = (self.solve.testgen or TestGenConfig()).sources
        return solve | {"test_sources": list(sources), "model": self.model, "test_model": self.test_model,
                        "draws": self.draws, "quantize": self.quantize, "dtype": self.dtype,
                        "window_samples": self.window_samples, "budget": self.budget}

    @property
    def window_problems(self) -> int:
        """Problems per sampling window (1: each problem alone)."""
        # A solve drawn in rounds draws its first round's samples first: those are what a window draws.
        fresh = self.solve.first_draw if self.solve.settle_min is not None else Budget.of(self.solve).fresh
        return max(1, self.window_samples // fresh)


# Settings that runs written before a key existed used implicitly: a resume of such a run compares against these
# (their dtype was fp32: bf16 became the CPU default later).
LEGACY_DEFAULTS: dict[str, Any] = {
    "top_p": 1.0, "samples_per_prompt": 8, "use_metadata": True, "time_limit_s": None, "memory_limit_mb": None,
    "test_sources": list(TestGenConfig().sources), "test_model": None, "dtype": "fp32",
    # Earlier prompts (pre-filled stub ending in a newline, one metadata draw per run) are not reproducible now.
    "prefill": "legacy",
    # Runs from before repairs existed repaired nothing.
    "repair_share": 0.0, "repair_rounds": SolveConfig().repair_rounds,
    # Runs from before the fallback pool picked nothing when no program passed every example.
    "fallback": False,
    # Runs from before sampling windows sampled each problem alone.
    "window_samples": 0,
    # Runs from before the limit probe (#29) neither probed nor sped anything up.
    "limit_probe": False, "speedup_share": 0.0,
    # Runs from before rounds (#29, item 4) drew every problem's n at once, with no total budget.
    "settle_min": None, "budget": None,
}

# The model of runs that recorded none (`model: null`): the default before it was resolved to a name (session 18).
LEGACY_MODEL = "qwen2.5-coder-0.5b"


def as_current(config: dict[str, Any]) -> dict[str, Any]:
    """A config in today's terms, for comparing settings: a key it lacks takes its LEGACY_DEFAULTS value, and a
    null model is the 0.5B it loads (`load_model(None)`; runs before session 18 recorded the default as null)."""
    current = LEGACY_DEFAULTS | config
    if current.get("model") is None:
        current["model"] = LEGACY_MODEL
    return current


# Every setting changes results, so a resume must match all of them.
COMPARE_KEYS = tuple(BenchConfig().to_dict())



class SolveFn(Protocol):
    """Solves one problem of a bench run; `checkpoint` keeps its finished sampling steps (resume mid-solve)."""

    def __call__(self, problem: Problem, cfg: BenchConfig, seed: int, /,
                 checkpoint: StageLog | None = None) -> SolveResult: ...


class EventCheckpoint:
    """A problem's event log as the pipeline's StageLog: each finished sampling step is a 'pool' event, and a
    resumed attempt replays the steps any earlier attempt stored (they are deterministic given the pool)."""

    def __init__(self, store: RunStore, name: str, events: list[dict[str, Any]]) -> None:
        self.store, self.name = store, name
        self._stored = [pool_stage_from_dict(ev["stage"]) for ev in events if ev.get("event") == "pool"]

    def stored(self) -> Sequence[PoolStage]:
        return list(self._stored)

    def record(self, stage: PoolStage) -> None:
        self.store.log(self.name, {"event": "pool", "stage": pool_stage_to_dict(stage)})


class WindowFn(Protocol):
    """Draws the fresh samples of several problems in one sampler call and keeps each one's finished step in its
    checkpoint, where its solve finds and replays it (BenchConfig.window_samples)."""

    def __call__(self, problems: Sequence[Problem], cfg: BenchConfig, checkpoints: Sequence[StageLog], /) -> None: ...


def needs_fresh(events: list[dict[str, Any]]) -> bool:
    """Whether a problem's event log holds neither its samples nor its fresh sampling step."""
    return not any(ev.get("event") == "samples"
                   or (ev.get("event") == "pool" and ev.get("stage", {}).get("name") == "fresh") for ev in events)


def draw_window(problems: Sequence[Problem], at: int, cfg: BenchConfig, store: RunStore, window_fn: WindowFn,
                done: Collection[str]) -> None:
    """Before problem `at` is solved: draw the fresh samples of its window's problems together, if it has none.

    Windows are fixed slices of the problem list (`cfg.window_problems` each), and a window draws every member that
    is not finished and has no fresh step yet. An attempt killed while a window sampled stored none of it, so the
    resumed attempt draws the same members in the same call: the same samples. When the window fails, its members
    are solved one by one as usual (and a problem's own error is recorded there)."""
    size = cfg.window_problems
    if size < 2:
        return
    # Most problems find their step already drawn by their window: one read of their own log settles it.
    if not needs_fresh(store.events(problems[at].name)):
        return
    first = at - at % size
    members = [p for p in problems[first:first + size]
               if p is problems[at] or (p.name not in done and needs_fresh(store.events(p.name)))]
    if len(members) < 2:
        return
    checkpoints = [EventCheckpoint(store, p.name, []) for p in members]
    try:
        window_fn(members, cfg, checkpoints)
    except Exception as e:  # noqa: BLE001 - each member then samples alone, and records its own failure
        log.warning("sampling %d problems together failed (%s: %s); each samples alone",
                    len(members), type(e).__name__, e)


# on_event(kind, name, detail): 'start' / 'done' / 'error' / 'skip' per problem, for progress display.
OnEvent = Callable[[str, str, dict[str, Any]], None]


def _default_select(candidates: Sequence[Any], num_picks: int) -> Sequence[Any]:
    # Imported lazily: the estimator uses the pipeline's own AlphaCode rule.
    from alphagen.clustering import select

    return select(candidates, num_picks)


def outcomes_of(result: SolveResult, verdicts: dict[int, VerdictRecord]) -> list[metrics.CandidateOutcome]:
    """Per-sample data for the estimators; a duplicate takes its original's behaviour and verdict."""
    by_index = {c.index: c for c in result.candidates}

    def root_of(i: int) -> int:
        # Follow duplicate links to the executed original (chains are short; guard against cycles anyway).
        seen = set()
        while by_index[i].duplicate_of is not None and i not in seen:
            seen.add(i)
            i = int(by_index[i].duplicate_of)  # type: ignore[arg-type]
        return i

    out = []
    for c in result.candidates:
        r = by_index[root_of(c.index)]
        v = verdicts.get(r.index)
        out.append(
            metrics.CandidateOutcome(
                index=c.index,
                root=r.index,
                passed_examples=r.passed_examples,
                signature=r.signature,
                cpu_s=r.cpu_s,
                correct=bool(v is not None and v.passed),
                examples_passed=r.examples_passed,
                example_status=r.example_status,
                language=c.language,
                code=c.code,
                parent=c.parent,
            )
        )
    return out


def to_judge(result: SolveResult, every: bool = False) -> list[int]:
    """Distinct programs to judge on hidden tests: every example-passing original (pass@k and the n@k estimate
    need them; with `every`, every original: a problem whose examples are not its tests) plus the actual picks'
    originals (whatever the pipeline picked is what gets submitted)."""
    by_index = {c.index: c for c in result.candidates}
    wanted = {c.index for c in result.candidates if (every or c.passed_examples) and c.duplicate_of is None}
    for p in result.picks:
        c = by_index.get(p.candidate)
        wanted.add(c.duplicate_of if c is not None and c.duplicate_of is not None else p.candidate)
    return sorted(wanted)


def failed_an_example(cand: Candidate) -> VerdictRecord:
    """The verdict of a program that failed an example of a problem whose examples are tests: rejected, unrun."""
    where = f"example {cand.failed_example + 1}" if cand.failed_example is not None else "an example"
    return VerdictRecord(passed=False, status=cand.example_status or "wrong_answer", num_passed=0, num_tests=0,
                         detail=f"failed {where}: not run on the hidden tests")


def score_problem(
    problem: Problem,
    cfg: BenchConfig,
    result: SolveResult,
    verdicts: dict[int, VerdictRecord],
    select: metrics.SelectFn = _default_select,
) -> dict[str, Any]:
    """The finished problem's record for results.jsonl: counts, picks with verdicts, metrics, timings."""
    by_index = {c.index: c for c in result.candidates}
    outcomes = outcomes_of(result, verdicts)
    total = len(outcomes)
    correct = sum(o.correct for o in outcomes)
    picks = []
    for p in result.picks:
        c = by_index.get(p.candidate)
        root = c.duplicate_of if c is not None and c.duplicate_of is not None else p.candidate
        v = verdicts[root]
        picks.append(
            {
                "rank": p.rank,
                "candidate": p.candidate,
                "cluster_id": p.cluster_id,
                "cluster_size": p.cluster_size,
                "score": p.score,
                # Where the pick came from: itself, then its parent, ... back to a fresh sample.
                "lineage": lineage(result.candidates, p.candidate),
                "repair_round": c.repair_round if c is not None else 0,
            }
            | {k: v.to_dict()[k] for k in ("passed", "status", "num_passed", "num_tests")}
        )
    first = next((p["rank"] for p in picks if p["passed"]), None)
    ks = sorted(set(metrics.budgets(total)) | {k for k in STANDARD_KS if k <= total}) if total else []
    # One generator per problem, seeded by the run seed and the name: estimates do not depend on the order.
    rng = random.Random(f"{cfg.seed}:{problem.name}")
    judge_s = sum(v.seconds for v in verdicts.values())
    return {
        "name": problem.name,
        "status": RunStatus.OK,
        "source": problem.source,
        "kind": problem.kind,
        "n": total,
        "repairs": sum(1 for c in result.candidates if c.parent is not None),
        "distinct": sum(1 for c in result.candidates if c.duplicate_of is None),
        "passed_examples": sum(o.passed_examples for o in outcomes),
        "correct": correct,
        "num_clusters": result.num_clusters,
        "num_hidden_tests": len(problem.hidden_tests()) or len(problem.public_tests),
        "picks": picks,
        "solved": first is not None,
        "top1": bool(picks and picks[0]["passed"]),
        "first_passing_rank": first,
        "pass_at_k": {str(k): metrics.pass_at_k(total, correct, k) for k in ks},
        "n_at_k": {str(k): metrics.n_at_k(outcomes, k, select, cfg.num_picks, cfg.draws, rng) for k in ks},
        # The real picks against random example-passing ones, for 1, 2, 5, ... picks (exact, no draws).
        "picks_vs_random": compare_picks(result, verdicts, cfg.num_picks),
        # A solve drawn in rounds: the samples after each round, and whether its answer was settled at the end.
        **({"rounds": list(result.rounds), "need": str(settle.assess(result))} if result.rounds else {}),
        "timing": {
            "stages": {s.name: round(s.seconds, 4) for s in result.stages},
            "judge": round(judge_s, 4),
            "judged": len(verdicts),
        },
    }


def error_record(name: str, kind: str, message: str, source: str = "") -> dict[str, Any]:
    """A problem that could not be loaded, solved or judged: recorded, then the run goes on."""
    return {"name": name, "status": RunStatus.ERROR, "error_kind": kind, "error": message, "source": source}


def stored_state(events: list[dict[str, Any]]) -> tuple[SolveResult | None, dict[int, VerdictRecord]]:
    """The latest stored samples of a problem's event log and the verdicts logged after them (an interrupted
    attempt resumes from them; `alphagen.evaluation.compare_runs` re-scores old runs from them)."""
    result: SolveResult | None = None
    verdicts: dict[int, VerdictRecord] = {}
    for ev in events:
        kind = ev.get("event")
        if kind == "samples":
            result, verdicts = solve_result_from_dict(ev["result"]), {}
        elif kind == "verdict" and result is not None:
            verdicts[int(ev["candidate"])] = VerdictRecord.from_dict(ev["verdict"])
    return result, verdicts


def run_problem(
    problem: Problem,
    cfg: BenchConfig,
    store: RunStore,
    solve_fn: SolveFn,
    judge_fn: JudgeFn,
    select: metrics.SelectFn = _default_select,
) -> dict[str, Any]:
    """Solve (or reuse stored samples), judge what is not judged yet, score, and commit one problem."""
    name = problem.name
    events = store.events(name)
    result, verdicts = stored_state(events)
    stage = "solve"
    try:
        # Samples are the expensive part: an attempt killed after storing them never samples again, and one
        # killed mid-solve replays the sampling steps (fresh samples, repair rounds) it had finished.
        if result is None:
            store.log(name, {"event": "start", "seed": cfg.seed, "time": time.time()})
            result = solve_fn(problem, cfg, cfg.seed, checkpoint=EventCheckpoint(store, name, events))
            store.log(name, {"event": "samples", "result": solve_result_to_dict(result)})
        stage = "judge"
        by_index = {c.index: c for c in result.candidates}
        binding = examples_are_tests(problem)
        for idx in to_judge(result, every=not binding):
            if idx in verdicts:
                continue
            cand = by_index[idx]
            if binding and not cand.passed_examples:
                # A fallback pick: a judge that runs the examples as tests (any stdio judge: they are its first
                # tests) has already rejected it, whatever the hidden tests say.
                verdicts[idx] = failed_an_example(cand)
            else:
                verdicts[idx] = judge_program(judge_fn, problem, cand.code, cand.language)
            store.log(name, {"event": "verdict", "candidate": idx, "verdict": verdicts[idx].to_dict()})
        stage = "score"
        record = score_problem(problem, cfg, result, verdicts, select)
    except Exception as e:  # noqa: BLE001 - one problem's failure must not stop the run
        message = f"{type(e).__name__}: {e}"
        tb = traceback.format_exc()
        store.log(name, {"event": "error", "stage": stage, "error": message, "traceback": tb})
        record = error_record(name, stage, message, problem.source)
    store.log(name, {"event": "done", "status": record["status"]})
    store.commit(record)
    return record


def finished_records(store: RunStore, load_errors: Sequence[tuple[str, str]], retry_errors: bool,
                     notify: OnEvent) -> dict[str, dict[str, Any]]:
    """The records a run starts from: those stored (less the errors, with `retry_errors`) and one error record per
    unreadable problem (recorded once, never retried unless `retry_errors`)."""
    done = store.finished()
    if retry_errors:
        done = {k: r for k, r in done.items() if r.get("status") != RunStatus.ERROR}
    for name, message in load_errors:
        if name not in done:
            done[name] = error_record(name, "load", message)
            store.commit(done[name])
            notify("error", name, done[name])
    return done


def run_bench(
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
    """Run every problem not finished yet (in order) and return all finished records by name.

    `load_errors` are (name, message) pairs for problems that could not be read: recorded once, never retried
    unless `retry_errors`. With `window_fn`, consecutive problems draw their fresh samples together
    (`cfg.window_samples`); without it, each problem samples alone.
    """
    if cfg.budget is not None:
        # One budget over all problems, drawn in rounds by need: its own loop (the same solve, judge and store).
        from alphagen.evaluation.budget import run_budgeted

        return run_budgeted(problems, load_errors, cfg, store, solve_fn, judge_fn, select, on_event, retry_errors,
                            window_fn, slices_fn)
    notify = on_event or (lambda kind, name, detail: None)
    done = finished_records(store, load_errors, retry_errors, notify)
    for at, problem in enumerate(problems):
        if problem.name in done:
            notify("skip", problem.name, done[problem.name])
            continue
        notify("start", problem.name, {})
        if window_fn is not None:
            draw_window(problems, at, cfg, store, window_fn, done)
        if slices_fn is not None:
            # A replay grown to a larger -n: the samples its problems still lack, drawn in windows too.
            from alphagen.evaluation.extend import draw_rest_window

            draw_rest_window(problems, at, cfg, store, slices_fn, done)
        record = run_problem(problem, cfg, store, solve_fn, judge_fn, select)
        done[problem.name] = record
        notify("error" if record["status"] == RunStatus.ERROR else "done", problem.name, record)
    return done
