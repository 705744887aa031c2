"""What `extract.with_missing_imports` changes in a finished run: its samples that failed with a NameError, judged
again with the imports added.

    python -m alphagen.benchmarks.missing_imports RUN_DIR PROBLEM_FILES...

Each stored sample (a problem's stored result's candidates) whose examples failed with a NameError and that the
function changes is run on the examples and, if it passes them, on the hidden tests (our judge; HumanEval's `check`
runs out of process, as everywhere). Prints one JSON line: samples changed, passing the examples, passing the
hidden tests, and the problems that had no right sample before and have one now.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from alphagen.evaluation.runner import stored_state
from alphagen.evaluation.store import read_jsonl, safe_name
from alphagen.extract import with_missing_imports
from alphagen.judging import judge
from alphagen.problems.loader import load_problem
from sandbox import BatchExecutor, Executor


def rejudge(run_dir: Path, files: list[str], executor: BatchExecutor) -> dict[str, Any]:
    problems = {p.name: p for p in map(load_problem, files)}
    changed = on_examples = on_hidden = 0
    newly: list[str] = []
    for record in read_jsonl(run_dir / "results.jsonl"):
        name = str(record.get("name", ""))
        path = run_dir / "problems" / f"{safe_name(name)}.jsonl"
        if name not in problems or not path.exists():
            continue
        result, _ = stored_state(read_jsonl(path))
        right = 0
        for c in result.candidates if result is not None else ():
            if c.language != "python" or "NameError" not in c.feedback:
                continue
            code = with_missing_imports(c.code)
            if code == c.code:
                continue
            changed += 1
            problem = problems[name]
            if judge(executor, problem, code, "python", tests=problem.public_tests).passed:
                on_examples += 1
                if judge(executor, problem, code, "python").passed:
                    on_hidden += 1
                    right += 1
        if right and not record.get("correct"):
            newly.append(name)
    return {"run": str(run_dir), "changed": changed, "pass_examples": on_examples, "pass_hidden": on_hidden,
            "problems_newly_covered": newly}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("files", nargs="+", help="the run's problem files")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    if not (args.run_dir / "results.jsonl").is_file():
        ap.error(f"run_dir must hold a finished bench run (results.jsonl), got {args.run_dir}")
    with Executor(workers=args.workers) as executor:
        print(json.dumps(rejudge(args.run_dir, args.files, executor)))


if __name__ == "__main__":
    main()
