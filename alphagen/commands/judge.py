"""`alphagen judge PROBLEM`: verdicts on the hidden tests for picks read as JSON lines on stdin.

`alphagen solve p.json --json | alphagen judge p.json` works, and so does any script printing
`{"code": ..., "language": ...}` lines. Judging is the same code path `alphagen bench` uses.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from alphagen.console import console
from alphagen.options import json_option

if TYPE_CHECKING:
    from alphagen.judging import Verdict
    from alphagen.problems import Problem


@dataclass(frozen=True)
class Submission:
    """One program to judge, as read from one stdin line."""

    rank: int
    """The pick's rank (its line number among the picks when the line gives none)."""
    code: str
    """Program source."""
    language: str
    """'python' or 'cpp'."""
    candidate: int | None
    """Sample index from `alphagen solve`, when given."""
    problem: str | None
    """Problem name from `alphagen solve`, when given."""

    def __post_init__(self) -> None:
        if self.language not in ("python", "cpp"):
            raise ValueError(f"language must be 'python' or 'cpp', got {self.language!r}")
        if self.rank < 1:
            raise ValueError(f"rank must be >= 1, got {self.rank}")


def parse_submissions(lines: Iterable[str]) -> list[Submission]:
    """Every non-blank line as a Submission; the first bad line raises ValueError naming its line number."""
    out: list[Submission] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"stdin line {lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{where}: must be a JSON object with a 'code' field, got {type(obj).__name__}")
        if "code" not in obj:
            raise ValueError(f"{where}: field 'code' is missing (each line needs the program as a string)")
        if not isinstance(obj["code"], str):
            raise ValueError(f"{where}: field 'code' must be a string, got {type(obj['code']).__name__}")
        rank, candidate = obj.get("rank", len(out) + 1), obj.get("candidate")
        if not isinstance(rank, int) or (candidate is not None and not isinstance(candidate, int)):
            raise ValueError(f"{where}: 'rank' and 'candidate' must be integers, got {rank!r}, {candidate!r}")
        problem = obj.get("problem")
        try:
            out.append(Submission(rank=rank, code=obj["code"], language=str(obj.get("language", "python")),
                                  candidate=candidate, problem=str(problem) if problem is not None else None))
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None
    return out


def verdict_line(sub: Submission, verdict: Any) -> dict[str, Any]:
    """The JSON line printed per pick."""
    return {
        "rank": sub.rank,
        "candidate": sub.candidate,
        "passed": verdict.passed,
        "status": verdict.status,
        "num_passed": verdict.num_passed,
        "num_tests": verdict.num_tests,
    }


def first_solved(rows: list[dict[str, Any]]) -> int | None:
    return next((r["rank"] for r in sorted(rows, key=lambda r: r["rank"]) if r["passed"]), None)


def solved_line(rows: list[dict[str, Any]], on_examples: bool = False) -> str:
    first = first_solved(rows)
    if first is None:
        return "solved: no"
    if on_examples:
        # Passing the examples is what the pipeline already filters on: weak evidence of a correct program.
        return (f"solved: yes on the examples only (first passing rank {first}); the problem has no hidden "
                "tests, so this verdict is weak")
    return f"solved: yes (first passing rank {first})"


@click.command()
@click.argument("problem_path", metavar="PROBLEM", type=click.Path(exists=True, path_type=Path))
@json_option
@click.option("--all-tests", is_flag=True, help="Run every hidden test (default: stop at the first failure).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Sandbox slots (default: one per core).")
def command(problem_path: Path, as_json: bool | None, all_tests: bool, workers: int | None) -> None:
    """Judge picks (JSON lines on stdin, as `alphagen solve --json` prints them) on PROBLEM's hidden tests.

    A problem without hidden tests is judged on its examples (said so, as a weak verdict). Exit status: 0 when
    some pick solves it, 1 when none does (as examples/judge.py), 2 on bad input, 130 when interrupted.
    """
    from rich.table import Table

    from alphagen.evaluation.verdicts import judge_program
    from alphagen.judging import judge
    from alphagen.problems import ProblemError, load_problems
    from sandbox import Executor

    try:
        problems = load_problems(problem_path)
    except ProblemError as e:
        raise click.ClickException(str(e)) from None
    if not problems:
        raise click.ClickException(f"{problem_path}: holds no problem")
    if sys.stdin.isatty():
        # Otherwise a person running `alphagen judge p.json` alone sees a command that seems to hang.
        console.print("reading picks from stdin, one JSON line each ({\"code\": ...}); end with Ctrl-D",
                      highlight=False)
    try:
        subs = parse_submissions(sys.stdin)
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    if not subs:
        console.print("[yellow]no picks on stdin[/]: nothing to judge")
    by_name = {p.name: p for p in problems}

    def problem_for(sub: Submission) -> Problem:
        # A file with several problems needs the pick's problem name; a single problem must match it if given.
        if sub.problem is None and len(problems) == 1:
            return problems[0]
        if sub.problem in by_name:
            return by_name[sub.problem]
        raise click.ClickException(
            f"pick rank {sub.rank} is for problem {sub.problem!r}, which {problem_path} does not hold "
            f"(it holds {', '.join(sorted(by_name)[:5])}{'...' if len(by_name) > 5 else ''})"
        )

    targets = [problem_for(s) for s in subs]
    rows: list[dict[str, Any]] = []
    details: list[str] = []
    with Executor(workers=workers) as executor:

        def judge_fn(problem: Problem, code: str, language: str) -> Verdict:
            return judge(executor, problem, code, language, stop_on_first_failure=not all_tests)

        for sub, problem in zip(subs, targets, strict=True):
            v = judge_program(judge_fn, problem, sub.code, sub.language)
            rows.append(verdict_line(sub, v))
            details.append(v.detail)

    if as_json is None:
        as_json = not sys.stdout.isatty()
    if as_json:
        for row in rows:
            sys.stdout.write(json.dumps(row) + "\n")
        sys.stdout.flush()
    # Problems without hidden tests are judged on their examples: say so wherever it matters.
    on_examples = bool(targets) and all(not p.hidden_tests() for p in targets)
    tests_label = "examples" if on_examples else "hidden tests"
    table = Table("rank", "sample", "verdict", tests_label, "detail", title=f"judge: {problem_path}")
    for row, detail in zip(rows, details, strict=True):
        verdict = "[green]passed[/]" if row["passed"] else f"[red]{row['status']}[/]"
        sample = str(row["candidate"]) if row["candidate"] is not None else "-"
        tests = f"{row['num_passed']}/{row['num_tests']}"
        table.add_row(str(row["rank"]), sample, verdict, tests, escape(detail[:160]))
    if rows:
        console.print(table)
    console.print(solved_line(rows, on_examples), highlight=False)
    if first_solved(rows) is None:
        sys.exit(1)
