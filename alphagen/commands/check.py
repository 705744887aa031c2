"""`alphagen check PATH...`: validate problem files, show them in a table, run their reference solutions."""

from __future__ import annotations

import json
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from alphagen.console import console, plural
from alphagen.options import select_since, since_option
from alphagen.problems import Problem, ProblemError, load_problems
from alphagen.statuses import ReferenceStatus

_ROW_SUFFIX = re.compile(r"(:\d+|\[\d+\])$")
_STYLE: dict[str, str] = {
    ReferenceStatus.PASS: "green",
    ReferenceStatus.SLOW: "yellow",
    ReferenceStatus.MISMATCH: "red",
    ReferenceStatus.MULTIPLE_ANSWERS: "yellow",
}


def _file_of(error: ProblemError) -> str:
    """The file an error belongs to: 'x.jsonl:17' and 'x.json[3]' count as x.jsonl / x.json."""
    return _ROW_SUFFIX.sub("", error.path)


def _source(problem: Problem) -> str:
    """'ours: problems/x.json' from 'problems/x.json (ours)'."""
    where, _, fmt = problem.source.rpartition(" (")
    return f"{fmt.rstrip(')')}: {where}" if where else problem.source


def _tests(problem: Problem) -> str:
    return f"{len(problem.public_tests)}+{len(problem.private_tests)}+{len(problem.generated_tests)}"


def _limits(problem: Problem) -> str:
    return f"{problem.time_limit_s:g}s {problem.memory_limit_mb}MB"


def _json_row(problem: Problem, report: Any) -> dict[str, Any]:
    return {
        "name": problem.name,
        "kind": problem.kind,
        "source": problem.source,
        "tests": {
            "public": len(problem.public_tests),
            "private": len(problem.private_tests),
            "generated": len(problem.generated_tests),
        },
        "time_limit": problem.time_limit_s,
        "memory_limit": problem.memory_limit_mb,
        "multiple_answers": problem.multiple_answers,
        "released": problem.released.isoformat() if problem.released is not None else None,
        "reference": report.status if report is not None else "not run",
        "failures": list(report.failures) if report is not None else [],
    }


def _run_references(problems: list[Problem], workers: int | None) -> dict[str, Any]:
    """Reports by problem name, with a progress bar over every (reference, test) execution."""
    # Imported here: the sandbox is only needed when references actually run.
    from alphagen.references import check_references, count_runs
    from sandbox import Executor

    total = count_runs(problems)
    if total == 0:
        return {}
    columns = (TextColumn("references"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        Executor(workers=workers) as executor,
        Progress(*columns, console=console, transient=True) as progress,
    ):
        task = progress.add_task("references", total=total)
        reports = check_references(executor, problems, on_result=lambda: progress.advance(task))
    return {r.problem: r for r in reports}


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--no-run", is_flag=True, help="Validate only; do not run reference solutions.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Sandbox worker slots (default: one per core).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per problem (and per error) on stdout.")
@since_option
def command(paths: tuple[Path, ...], no_run: bool, workers: int | None, as_json: bool, since: date | None) -> None:
    """Validate problem files and directories; run reference solutions on every test and report mismatches."""
    problems, errors = load_problems(paths, errors="collect")
    problems = select_since(problems, since)
    # Errors first, one line each (soft_wrap: never split a message over lines).
    for error in errors:
        console.print(f"[red]invalid[/red] {escape(str(error))}", soft_wrap=True, highlight=False)
    reports = {} if no_run else _run_references(problems, workers)
    # The table: one row per problem.
    table = Table(title=plural(len(problems), "problem"), title_justify="left")
    for column in ("name", "kind", "tests", "limits", "source", "reference"):
        table.add_column(column, overflow="fold")
    for problem in problems:
        report = reports.get(problem.name)
        status = report.status if report is not None else ("not run" if no_run or problem.solutions else "none")
        style = _STYLE.get(status, "dim")
        table.add_row(
            escape(problem.name),
            problem.kind,
            _tests(problem),
            _limits(problem),
            escape(_source(problem)),
            f"[{style}]{status}[/{style}]",
        )
    if problems:
        console.print(table)
    # Failure details, one line each, after the table where they are easy to find.
    for report in reports.values():
        for line in report.failures:
            label = report.status if report.status in (ReferenceStatus.MULTIPLE_ANSWERS, ReferenceStatus.SLOW) \
                else ReferenceStatus.MISMATCH
            console.print(f"[yellow]{label}[/yellow] {escape(report.problem)}: {escape(line)}", soft_wrap=True)
    if as_json:
        for problem in problems:
            sys.stdout.write(json.dumps(_json_row(problem, reports.get(problem.name))) + "\n")
        for error in errors:
            sys.stdout.write(json.dumps({"error": str(error), "path": error.path, "field": error.field}) + "\n")
    # Summary and exit status: invalid files and real mismatches fail the command; multiple answers do not.
    passing = sum(r.references - len(r.failures) for r in reports.values() if r.status != ReferenceStatus.SLOW)
    mismatches = sum(1 for r in reports.values() if r.status == ReferenceStatus.MISMATCH)
    several = sum(1 for r in reports.values() if r.status == ReferenceStatus.MULTIPLE_ANSWERS)
    slow = sum(1 for r in reports.values() if r.status == ReferenceStatus.SLOW)
    invalid = len({_file_of(e) for e in errors})
    summary = f"{plural(len(problems), 'problem')}, {plural(passing, 'reference')} pass{'es' if passing == 1 else ''}, "
    summary += f"{plural(mismatches, 'mismatch')}, {plural(invalid, 'invalid file')}"
    if several:
        summary += f", {several} with multiple valid answers (not counted as mismatches)"
    if slow:
        summary += f", {slow} pass only above the default time limit (the data states none)"
    if no_run:
        summary += " (references not run)"
    console.print(summary, soft_wrap=True, highlight=False)
    if mismatches or invalid:
        raise SystemExit(1)
