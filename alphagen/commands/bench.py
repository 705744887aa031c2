"""`alphagen bench`: the pipeline over a whole benchmark, judged on hidden tests, resumable, scored."""

from __future__ import annotations

import fnmatch
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from alphagen.console import console
from alphagen.distributed.cli import ray_option

if TYPE_CHECKING:
    from alphagen.bench.runner import BenchConfig, SolveFn
    from alphagen.problems.model import Problem
    from alphagen.results import SolveResult


def select_problems(
    problems: list[Problem], errors: list[Any], pattern: str | None, limit: int | None
) -> tuple[list[Problem], list[tuple[str, str]]]:
    """Apply --problems GLOB (to names; to file names for load errors) and --limit (first K problems)."""
    if pattern:
        problems = [p for p in problems if fnmatch.fnmatchcase(p.name, pattern)]
        errors = [e for e in errors if fnmatch.fnmatchcase(Path(str(e.path).split(":")[0]).stem, pattern)]
    if limit is not None:
        problems = problems[:limit]
    return problems, [(str(e.path), str(e)) for e in errors]


def lazy_pipeline(executor: Any, backend: str, device: str | None, progress: Any,
                  load_models: Any = None, next_problem: Any = None) -> SolveFn:
    """The real solver, loading the model on first use: a resume with nothing to sample never loads it.

    `load_models` replaces `Models.load` (with --ray: sampler actors on the cluster); with it, `next_problem`
    (problem -> the one after it, or None) lets the actors sample ahead while this problem executes."""
    state: dict[str, Any] = {}

    def solve_fn(problem: Problem, bcfg: BenchConfig, seed: int) -> SolveResult:
        from alphagen.pipeline import Models, SolveConfig, solve

        if "models" not in state:
            with console.status("loading model…"):
                state["models"] = (load_models() if load_models is not None
                                   else Models.load(bcfg.model, backend=backend, device=device,
                                                    quantize=bcfg.quantize))
            console.print(f"model: [bold]{state['models'].code.name}[/] on {state['models'].code.device}",
                          highlight=False)
        scfg = SolveConfig(n=bcfg.n, temperature=bcfg.temperature, seed=seed, language=bcfg.language,  # type: ignore[arg-type]
                           max_new_tokens=bcfg.max_new_tokens, num_picks=bcfg.num_picks,
                           ranking=bcfg.ranking)  # type: ignore[arg-type]
        if next_problem is not None:
            from alphagen.distributed.prefetch import plan_next

            plan_next(state["models"], next_problem(problem), scfg)
        return solve(problem, scfg, models=state["models"], executor=executor, progress=progress)

    return solve_fn


@click.command()
@click.argument("paths", metavar="DIR_OR_FILE...", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("-n", "--samples", "n", type=click.IntRange(min=1), default=16, show_default=True,
              help="Samples per problem (K).")
@click.option("--model", default=None, help="Model: registry name, local dir, .gguf file or hub id.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run directory (default: runs/bench-<time>).")
@click.option("--resume", is_flag=True, help="Continue the run in --out where it stopped.")
@click.option("--problems", "pattern", default=None, metavar="GLOB", help="Only problems whose name matches.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Only the first K problems.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same run.")
@click.option("--temperature", type=click.FloatRange(0, 5), default=0.25, show_default=True)
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--language", type=click.Choice(["python", "cpp", "mix"]), default="python", show_default=True)
@click.option("--ranking", type=click.Choice(["alphacode", "codet"]), default="alphacode", show_default=True)
@click.option("--picks", "num_picks", type=click.IntRange(min=1), default=10, show_default=True,
              help="Submissions per problem (the n of n@k).")
@click.option("--draws", type=click.IntRange(min=1), default=100, show_default=True,
              help="Random subsets per budget for the n@k estimate.")
@click.option("--backend", type=click.Choice(["hf", "generate", "vllm"]), default="hf", show_default=True)
@click.option("--device", default=None, help="torch device (default: cuda if available, else cpu).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Sandbox slots (default: one per core).")
@click.option("--quantize", type=click.Choice(["int8"]), default=None,
              help="CPU only: int8 dynamic quantization of the linear layers (~2.4x faster sampling here).")
@click.option("--retry-errors", is_flag=True, help="With --resume: run problems that errored again.")
@click.option("--json", "as_json", is_flag=True, help="Also print summary.json on stdout.")
@ray_option
def command(paths: tuple[Path, ...], n: int, model: str | None, out: Path | None, resume: bool,
            pattern: str | None, limit: int | None, seed: int, temperature: float, max_new_tokens: int,
            language: str, ranking: str, num_picks: int, draws: int, backend: str, device: str | None,
            workers: int | None, quantize: str | None, retry_errors: bool, as_json: bool,
            ray_address: str | None) -> None:
    """Run the pipeline on every problem under DIR_OR_FILE..., judge the picks on hidden tests, and score.

    Everything is written to the run directory as it completes; after Ctrl-C or a crash, run the same command
    with --resume --out RUN_DIR to continue.
    """
    from alphagen.bench.report import print_report, write_report
    from alphagen.bench.runner import COMPARE_KEYS, BenchConfig
    from alphagen.bench.store import RunDirError, RunStore
    from alphagen.problems import load_problems

    try:
        cfg = BenchConfig(n=n, seed=seed, temperature=temperature, language=language,
                          max_new_tokens=max_new_tokens, num_picks=num_picks, ranking=ranking, model=model,
                          draws=draws, quantize=quantize)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    if resume and out is None:
        raise click.UsageError("--resume needs --out RUN_DIR (the run to continue)")
    if retry_errors and not resume:
        raise click.UsageError("--retry-errors only makes sense with --resume")
    if ray_address is not None and quantize is not None:
        raise click.BadParameter("int8 is not available on Ray sampler actors yet", param_hint="--quantize")
    if ray_address is not None:
        # Fail before a run directory is created when the optional extra is missing.
        from alphagen.distributed import require_ray

        require_ray()
    run_dir = out or Path("runs") / f"bench-{datetime.now().strftime('%Y%m%d-%H%M%S')}"

    # Problems first: a typo in a path should fail before anything is created.
    loaded, load_errors = load_problems(list(paths), errors="collect")
    problems, errors = select_problems(loaded, load_errors, pattern, limit)
    if not problems and not errors:
        raise click.ClickException(f"no problems selected under {', '.join(map(str, paths))}")
    config = cfg.to_dict() | {"backend": backend}
    try:
        store = RunStore(run_dir, config, resume, COMPARE_KEYS + ("backend",))
    except RunDirError as e:
        raise click.ClickException(str(e)) from None
    console.print(f"run directory: [bold]{run_dir}[/] · {len(problems)} problems"
                  + (f" · {len(errors)} unreadable" if errors else ""), highlight=False)
    with store:
        records, interrupted = _run(problems, errors, cfg, store, backend, device, workers, retry_errors,
                                    ray_address)
        summary = _finish(store, records, problems, errors, config, interrupted)
    print_report(summary, console)
    report = write_report(run_dir, summary, records)
    console.print(f"summary: {run_dir / 'summary.json'} · report: {report}", highlight=False)
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    if interrupted:
        again = f"alphagen bench {' '.join(map(str, paths))} --resume --out {run_dir}"
        console.print(f"[yellow]interrupted[/]: continue with [bold]{again}[/] (same options)",
                      highlight=False)
        sys.exit(130)


class _ProblemBars:
    """Pipeline stage bars for the current problem only (the previous problem's bars are removed)."""

    def __init__(self, progress: Any) -> None:
        self._progress = progress
        self._tasks: dict[str, Any] = {}

    def reset(self) -> None:
        for task_id in self._tasks.values():
            self._progress.remove_task(task_id)
        self._tasks = {}

    def __call__(self, stage: str, advance: int, total: int | None) -> None:
        from alphagen.progress import STAGE_LABEL

        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task(f"  {STAGE_LABEL.get(stage, stage)}", total=total)
        if total is not None:
            self._progress.update(self._tasks[stage], total=total)
        if advance:
            self._progress.advance(self._tasks[stage], advance)


def _run(
    problems: list[Problem], errors: list[tuple[str, str]], cfg: BenchConfig, store: Any, backend: str,
    device: str | None, workers: int | None, retry_errors: bool, ray_address: str | None = None,
) -> tuple[dict[str, dict[str, Any]], bool]:
    """Run the loop with progress bars; Ctrl-C stops it cleanly (everything finished is already stored)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from alphagen.bench.runner import run_bench
    from alphagen.bench.verdicts import executor_judge
    from alphagen.pipeline import TESTS_PER_CHILD
    from sandbox import Executor

    progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, disable=not console.is_terminal)
    task = progress.add_task("problems", total=len(problems) + len(errors))
    bars = _ProblemBars(progress)
    solved = [0, 0]

    def on_event(kind: str, name: str, rec: dict[str, Any]) -> None:
        if kind == "start":
            bars.reset()
            progress.update(task, description=f"problems · {name}")
            return
        if rec.get("status") == "ok":
            solved[0] += bool(rec["solved"])
            solved[1] += 1
        elif kind == "error":
            console.print(f"[red]error[/] {name}: {rec.get('error')}", highlight=False)
        progress.update(task, advance=1, description=f"problems · solved {solved[0]}/{solved[1]}")

    # Finished records as they come, so summary.json can be rewritten after every problem.
    records: dict[str, dict[str, Any]] = {}
    config = json.loads((store.root / "config.json").read_text(encoding="utf-8"))

    def on_event_and_summary(kind: str, name: str, rec: dict[str, Any]) -> None:
        on_event(kind, name, rec)
        if kind == "start":
            return
        records[name] = rec
        if kind != "skip":
            _finish(store, records, problems, errors, config, interrupted=True)

    try:
        # With --ray, execution is Ray tasks and sampling Ray actors; everything else is the same code path.
        load_models = next_problem = None
        if ray_address is not None:
            from alphagen.distributed.cli import ray_setup, upcoming

            executor_cm, load_models = ray_setup(ray_address, cfg.model, backend, device)
            next_problem = upcoming(problems, store.finished(), retry_errors)
        else:
            executor_cm = Executor(workers=workers, tests_per_child=TESTS_PER_CHILD)
        with progress, executor_cm as executor:
            solve_fn = lazy_pipeline(executor, backend, device, bars, load_models, next_problem)
            records = run_bench(problems, errors, cfg, store, solve_fn, executor_judge(executor),
                                on_event=on_event_and_summary, retry_errors=retry_errors)
    except KeyboardInterrupt:
        return store.finished(), True
    return records, False


def _finish(
    store: Any, records: dict[str, dict[str, Any]], problems: list[Problem], errors: list[tuple[str, str]],
    config: dict[str, Any], interrupted: bool,
) -> dict[str, Any]:
    """Summary over the selected problems (in their order) and write it."""
    from alphagen.bench.summary import build_summary

    order = [name for name, _ in errors] + [p.name for p in problems]
    ordered = [records[name] for name in order if name in records]
    summary = build_summary(ordered, len(order), config, interrupted=interrupted)
    store.write_summary(summary)
    return summary

