"""`alphagen solve`: one problem in, ranked picks out (JSON lines on stdout when piped)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from alphagen.console import console
from alphagen.distributed.cli import ray_option
from alphagen.results import SolveResult


def pick_records(result: SolveResult) -> list[dict[str, Any]]:
    """The JSON-lines records a judge script reads: one per pick, in rank order."""
    stats = result.stats | {f"testgen_{k}": v for k, v in result.testgen.items()}
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
            "seed": result.seed,
            "stats": stats,
        }
        for p in result.picks
    ]


def render_summary(result: SolveResult) -> None:
    """Readable ranked summary for a person at a terminal (stdout)."""
    from rich.console import Console
    from rich.syntax import Syntax
    from rich.table import Table

    out = Console()
    s = result.stats
    out.print(
        f"[bold]{result.problem}[/]: {s['sampled']} sampled, {s['distinct']} distinct, "
        f"{s['passed_examples']} passed the examples, {s['clusters']} clusters, {s['picked']} picked"
    )
    table = Table("stage", "in", "out", "seconds")
    for st in result.stages:
        table.add_row(st.name, str(st.count_in), str(st.count_out), f"{st.seconds:.2f}")
    out.print(table)
    if not result.picks:
        out.print("[yellow]No program passed the examples: nothing to submit. Try a larger -n.[/]")
    for p in result.picks:
        out.rule(f"#{p.rank}  cluster {p.cluster_id} (size {p.cluster_size})  sample {p.candidate}  {p.language}")
        out.print(Syntax(p.code, "python" if p.language == "python" else "cpp", line_numbers=False))


@click.command()
@click.argument("problem_path", metavar="PROBLEM", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-n", "--samples", "n", type=click.IntRange(min=1), default=32, show_default=True,
              help="Sample budget (programs drawn).")
@click.option("--model", default=None, help="Model: registry name, local dir, .gguf file or hub id.")
@click.option("--test-model", default=None, help="Model proposing test inputs (default: --model).")
@click.option("--backend", type=click.Choice(["hf", "generate", "vllm"]), default="hf", show_default=True,
              help="Sampler: ours (hf), plain generate(), or vLLM.")
@click.option("--device", default=None, help="torch device (default: cuda if available, else cpu).")
@click.option("--temperature", type=click.FloatRange(0, 5), default=0.25, show_default=True)
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True)
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=512, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same picks.")
@click.option("--language", type=click.Choice(["python", "cpp", "mix"]), default="python", show_default=True)
@click.option("--ranking", type=click.Choice(["alphacode", "codet"]), default="alphacode", show_default=True,
              help="Cluster order: largest first, or CodeT dual agreement.")
@click.option("--picks", "num_picks", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Sandbox slots (default: one per core).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per test (default: the problem's).")
@click.option("--memory-limit", type=click.IntRange(min=16), default=None, help="MiB (default: the problem's).")
@click.option("--quantize", type=click.Choice(["int8"]), default=None,
              help="CPU only: int8 dynamic quantization of the linear layers (~1.8x faster sampling here).")
@click.option("--test-sources", default="mutation,random,model,generator", show_default=True,
              help="Where extra clustering inputs come from (comma list of mutation, random, model, generator).")
@click.option("--json/--no-json", "as_json", default=None,
              help="JSON lines on stdout (default when stdout is not a terminal).")
@ray_option
def command(problem_path: Path, n: int, model: str | None, test_model: str | None, backend: str,
            device: str | None, temperature: float, top_p: float, max_new_tokens: int, seed: int, language: str,
            ranking: str, num_picks: int, workers: int | None, time_limit: float | None,
            memory_limit: int | None, quantize: str | None, test_sources: str, as_json: bool | None,
            ray_address: str | None) -> None:
    """Solve PROBLEM: sample programs, keep those passing the examples, cluster, print the picks."""
    from alphagen.models import ModelError
    from alphagen.pipeline import TESTS_PER_CHILD, Models, SolveConfig, solve
    from alphagen.problems import ProblemError, load_problem
    from alphagen.progress import stage_bars
    from sandbox import Executor

    try:
        problem = load_problem(problem_path)
    except ProblemError as e:
        raise click.ClickException(str(e)) from None
    from alphagen.testgen import SOURCES, TestGenConfig

    sources = tuple(s.strip() for s in test_sources.split(",") if s.strip())
    if not sources or any(s not in SOURCES for s in sources):
        raise click.BadParameter(
            f"must be a comma list of {', '.join(SOURCES)}, got {test_sources!r}", param_hint="--test-sources"
        )
    try:
        cfg = SolveConfig(n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_new_tokens, seed=seed,
                          language=language, ranking=ranking, num_picks=num_picks,  # type: ignore[arg-type]
                          time_limit_s=time_limit, memory_limit_mb=memory_limit,
                          testgen=TestGenConfig(sources=sources))
    except ValueError as e:
        raise click.BadParameter(str(e)) from None

    # With --ray: sampler actors hold the model and execution runs as Ray tasks; the pipeline is unchanged.
    executor_cm: Any
    if ray_address is not None:
        from alphagen.distributed.cli import ray_setup

        if test_model not in (None, model):
            raise click.BadParameter("--ray uses one model for programs and tests", param_hint="--test-model")
        executor_cm, load_models = ray_setup(ray_address, model, backend, device)
    with console.status("loading model…"):
        try:
            models = load_models() if ray_address is not None else Models.load(
                model, test_model, backend=backend, device=device, quantize=quantize)
        except ModelError as e:
            raise click.ClickException(str(e)) from None
    console.print(f"model: [bold]{models.code.name}[/] on {models.code.device}", highlight=False)
    if ray_address is None:
        executor_cm = Executor(workers=workers, tests_per_child=TESTS_PER_CHILD)

    with executor_cm as executor, stage_bars(enabled=console.is_terminal) as bars:
        result = solve(problem, cfg, models=models, executor=executor, progress=bars)

    if as_json is None:
        as_json = not sys.stdout.isatty()
    if as_json:
        for rec in pick_records(result):
            sys.stdout.write(json.dumps(rec) + "\n")
        sys.stdout.flush()
    else:
        render_summary(result)
    s = result.stats
    console.print(
        f"{s['sampled']} sampled · {s['distinct']} distinct · {s['passed_examples']} passed examples · "
        f"{s['clusters']} clusters · {s['picked']} picked",
        highlight=False,
    )
