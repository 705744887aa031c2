"""`alphagen solve`: one problem in, ranked picks out (JSON lines on stdout when piped)."""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from alphagen.console import console, plural, stdout_console
from alphagen.options import PipelineOptions, json_option, pipeline_options
from alphagen.pipeline import SolveConfig
from alphagen.problems.model import Problem
from alphagen.results import SolveResult, lineage
from sandbox import BatchExecutor


def pick_records(result: SolveResult) -> list[dict[str, Any]]:
    """The JSON-lines records a judge script reads: one per pick, in rank order. `lineage` is the pick's sample,
    its parent, ... back to a fresh sample ([candidate] when it is one); `repair_round` 0 for a fresh sample."""
    stats = result.stats | {f"testgen_{k}": v for k, v in result.testgen.items()}
    by_index = {c.index: c for c in result.candidates}
    return [
        {
            "rank": p.rank,
            "problem": result.problem,
            "language": p.language,
            "code": p.code,
            "cluster_size": p.cluster_size,
            "cluster_id": p.cluster_id,
            "candidate": p.candidate,
            "score": p.score,
            # False for a fallback pick: nothing passed every example and this one passed the most.
            "passed_examples": p.passed_examples,
            "seed": result.seed,
            "lineage": lineage(result.candidates, p.candidate),
            "repair_round": by_index[p.candidate].repair_round if p.candidate in by_index else 0,
            "stats": stats,
        }
        for p in result.picks
    ]


# What the stage table's in/out columns count, per stage.
STAGE_UNITS = {
    "sample": ("asked", "programs"),
    "dedup": ("programs", "distinct"),
    "filter": ("distinct", "passed examples"),
    "testgen": ("survivors", "test inputs"),
    "cluster": ("survivors", "picks"),
    "repair": ("parents", "fixes passed examples"),
}


def summary_line(result: SolveResult) -> str:
    s = result.stats
    return (f"{result.problem}: {s['sampled']} sampled · {s['distinct']} distinct · "
            f"{s['passed_examples']} passed the examples · {plural(s['clusters'], 'cluster')} · "
            f"{s['picked']} picked")


def render_summary(result: SolveResult) -> None:
    """Readable ranked summary for a person at a terminal (stdout)."""
    from rich.markup import escape
    from rich.syntax import Syntax
    from rich.table import Table

    out = stdout_console()
    out.print(escape(summary_line(result)), highlight=False)
    table = Table("stage", "in", "out", "seconds", caption="in/out: what entered and left each stage")
    for st in result.stages:
        unit_in, unit_out = STAGE_UNITS.get(st.name, ("", ""))
        table.add_row(st.name, f"{st.count_in} {unit_in}", f"{st.count_out} {unit_out}", f"{st.seconds:.2f}")
    out.print(table)
    for p in result.picks:
        chain = lineage(result.candidates, p.candidate)
        origin = f"  repair of {' <- '.join(map(str, chain[1:]))}" if len(chain) > 1 else ""
        failed = "" if p.passed_examples else "  fails an example (fallback)"
        out.rule(f"#{p.rank}  cluster {p.cluster_id} (size {p.cluster_size})  sample {p.candidate}{origin}  "
                 f"{p.language}{failed}")
        out.print(Syntax(p.code, "python" if p.language == "python" else "cpp", line_numbers=False))


def explain_no_pick(problem: Problem, result: SolveResult, executor: BatchExecutor, cfg: SolveConfig) -> list[str]:
    """Lines for stderr when no sample passed the examples: the likely causes, and whether the problem's own
    reference solutions pass its examples (if they do not, the examples or the limits are wrong)."""
    from collections import Counter

    from alphagen.judging import judge
    from alphagen.references import runnable

    statuses = Counter(c.example_status for c in result.candidates if c.duplicate_of is None)
    seen = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in statuses.most_common())
    fallback = ("the picks are the programs that passed the most examples (passed_examples false)"
                if result.picks else "nothing to submit")
    lines = [f"no sample passed the examples ({seen or 'nothing sampled'}): {fallback}."]
    failing = []
    for i, ref in enumerate(runnable(problem), 1):
        v = judge(executor, problem, ref.code, ref.language, tests=problem.public_tests,
                  time_limit_s=cfg.time_limit_s, memory_limit_mb=cfg.memory_limit_mb)
        if not v.passed:
            failing.append(f"reference solution {i} fails the problem's own examples: {v.detail}")
    if failing:
        lines += failing + ["the examples' expected outputs (or the limits) are likely wrong: "
                            "check them with `alphagen check`."]
    else:
        lines.append("likely causes: the model cannot solve it at this budget (try a larger -n or another "
                     "--model), --max-new-tokens cuts programs short, the limits are too tight, or the "
                     "examples' expected outputs are wrong (`alphagen check` runs reference solutions).")
    return lines


@click.command()
@click.argument("problem_path", metavar="PROBLEM", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pipeline_options
@json_option
def command(problem_path: Path, pipeline: PipelineOptions, as_json: bool | None) -> None:
    """Solve PROBLEM: sample programs, keep those passing the examples, cluster, print the picks.

    Exit status: 0 with picks that passed the examples; 1 when no sample passed them (the reason goes to stderr;
    the fallback picks, if any, are still printed); 2 on a usage, problem-file or model error; 130 when
    interrupted.
    """
    from alphagen.models import ModelError
    from alphagen.pipeline import TESTS_PER_CHILD, Models, solve
    from alphagen.problems import ProblemError, load_problem
    from alphagen.progress import stage_progress
    from sandbox import Executor

    try:
        problem = load_problem(problem_path)
    except ProblemError as e:
        raise click.ClickException(str(e)) from None
    cfg = pipeline.solve
    click.get_current_context().meta["interrupted"] = "interrupted: nothing kept (solve prints its picks at the end)"

    # With --ray: sampler actors hold the model and execution runs as Ray tasks; the pipeline is unchanged.
    executor_cm: AbstractContextManager[BatchExecutor]
    if pipeline.ray_address is not None:
        from alphagen.distributed.cli import ray_setup

        executor_cm, load_models = ray_setup(pipeline.ray_address, pipeline.model, pipeline.backend,
                                             pipeline.device)
    with console.status("loading model…"):
        try:
            models = load_models() if pipeline.ray_address is not None else Models.load(
                pipeline.model, pipeline.test_model, backend=pipeline.backend, device=pipeline.device,
                quantize=pipeline.quantize, dtype=pipeline.dtype, cache_dir=cfg.cache_dir)
        except ModelError as e:
            raise click.ClickException(str(e)) from None
    dtype = str(getattr(models.code, "dtype", "")).replace("torch.", "")
    console.print(f"model: [bold]{escape(models.code.name)}[/] on {models.code.device}"
                  + (f" ({dtype})" if dtype else ""), highlight=False)
    if pipeline.ray_address is None:
        executor_cm = Executor(workers=pipeline.workers, tests_per_child=TESTS_PER_CHILD)

    with executor_cm as executor:
        with stage_progress() as bars:
            result = solve(problem, cfg, models=models, executor=executor, progress=bars)
        passed = any(p.passed_examples for p in result.picks)
        no_pick = [] if passed else explain_no_pick(problem, result, executor, cfg)

    if as_json is None:
        as_json = not sys.stdout.isatty()
    if as_json:
        for rec in pick_records(result):
            sys.stdout.write(json.dumps(rec) + "\n")
        sys.stdout.flush()
        console.print(escape(summary_line(result)), highlight=False)
    else:
        render_summary(result)
    for line in no_pick:
        console.print(f"[yellow]{escape(line)}[/]", highlight=False)
    if no_pick:
        sys.exit(1)
