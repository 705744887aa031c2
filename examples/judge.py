#!/usr/bin/env python3
"""An example judge script: the kind a contest-tool author writes around `alphagen solve --json`.

    alphagen solve problems/sum-of-two.json -n 16 --json | python examples/judge.py problems/sum-of-two.json

It reads our problem JSON by itself (no alphagen import), runs each pick on the hidden tests through the standalone
`sandbox` executor, compares tokens, and prints one verdict line per pick plus a final line. Exit 0 when some pick
solves the problem, 1 otherwise (the same convention as `alphagen judge`), 2 on a usage error.
"""

from __future__ import annotations

import json
import sys

from sandbox import CompareOptions, Executor, Language, Limits, Program


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: judge.py PROBLEM.json < picks.jsonl", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        problem = json.load(f)
    tests = problem.get("private_tests") or problem["public_tests"]
    inputs = [t["input"] for t in tests]
    expected = [t["output"] for t in tests]
    limits = Limits(time_s=float(problem.get("time_limit") or 2.0), memory_mb=int(problem.get("memory_limit") or 256))
    picks = [json.loads(line) for line in sys.stdin if line.strip()]
    solved_by = None
    with Executor() as ex:
        for number, pick in enumerate(picks, 1):
            # `alphagen judge` accepts picks without a language (Python); so does this script.
            program = Program(pick["code"], Language(pick.get("language", "python")))
            results = list(ex.run_batch([program], inputs, limits, expected=expected, compare=CompareOptions(),
                                        stop_on_first_failure=True))
            ok = len(results) == len(inputs) and all(r.passed for r in results)
            bad = next((r for r in results if not r.passed), None)
            why = "" if ok or bad is None else f" ({bad.status.value} on test {bad.input_index})"
            rank = pick.get("rank", number)
            print(f"rank {rank}: {'ACCEPTED' if ok else 'REJECTED'}{why}")
            if ok and solved_by is None:
                solved_by = rank
    verdict = f"yes (rank {solved_by})" if solved_by else "no"
    print(f"solved: {verdict} ({len(picks)} picks)")
    return 0 if solved_by else 1


if __name__ == "__main__":
    sys.exit(main())
