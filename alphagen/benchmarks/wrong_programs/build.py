"""Build the stored set of wrong and correct programs for the discrimination benchmark.

For each problem: every single-edit AST mutant of the Python reference (see `mutants.py`) is run on the public
examples; those that pass are run on the hidden tests. A mutant that fails a hidden test is a *wrong program*
(it would survive example filtering, so clustering must separate it); one that passes every hidden test is
*hidden-equivalent* (kept apart: it may be truly equivalent or wrong on cases the hidden tests miss). The
renamed
reference is kept as a correct variant once it passes every hidden test. The set stores only (operator, site)
descriptors and the reference's hash, so it is small to review and regenerated exactly from the reference.

    python -m alphagen.benchmarks.wrong_programs.build [--limit K] [--per-problem M]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alphagen.benchmarks.wrong_programs import mutants as mu
from alphagen.problems import Problem, load_problems
from alphagen.problems.harness import compare_options, io_for_tests, limits_for, program_for
from sandbox import BatchExecutor, Executor

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SHIPPED = REPO / "problems"
CODECONTESTS = REPO.parent / "shared" / "data" / "codecontests"
STORE = HERE / "set.json"
MAX_SITES = 120
"""Mutants tried per problem (a seeded sample when the reference offers more)."""


def reference(problem: Problem) -> str | None:
    return next((s.code for s in problem.solutions if s.language == "python"), None)


def sha(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def candidate_problems(limit: int | None) -> list[tuple[str, Problem]]:
    """Shipped problems first, then CodeContests rows with a single valid answer (exact comparison is sound),
    shortest references first (cheap to run, and closer to what a small model writes)."""
    out: list[tuple[str, Problem]] = []
    if SHIPPED.is_dir():
        for p in load_problems(sorted(SHIPPED.glob("*.json"))):
            if p.kind == "stdio" and reference(p) and not p.multiple_answers:
                out.append((f"problems/{p.name}.json", p))
    if CODECONTESTS.is_dir():
        index = json.loads((CODECONTESTS / "index.json").read_text())
        single = [e["file"] for e in index if not e["likely_multiple_valid_answers"]]
        rows = []
        for f in single:
            p = load_problems([CODECONTESTS / f])[0]
            code = reference(p)
            if code and not p.multiple_answers and p.checker.mode == "tokens":
                rows.append((len(code), f"codecontests/{f}", p))
        rows.sort(key=lambda r: (r[0], r[1]))
        out += [(name, p) for _, name, p in rows[: limit if limit is not None else len(rows)]]
    return out


def _passing(executor: BatchExecutor, problem: Problem, codes: Sequence[str], tests: Sequence[Any]) -> list[bool]:
    """Per program: does it pass every test (stopping at its first failure)?"""
    inputs, expected = io_for_tests(problem, tests)
    ok = [True] * len(codes)
    if not codes or not inputs:
        return ok
    programs = [program_for(problem, c, "python") for c in codes]
    for r in executor.run_batch(
        programs,
        inputs,
        limits_for(problem),
        expected=expected,
        compare=compare_options(problem),
        stop_on_first_failure=True,
    ):
        if r.status.value != "ok" or not r.passed:
            ok[r.program_index] = False
    return ok


def build_one(executor: BatchExecutor, name: str, problem: Problem, per_problem: int) -> dict[str, Any] | None:
    code = reference(problem)
    if code is None:
        return None
    hidden = problem.hidden_tests()
    # The reference itself must pass everything under our sandbox's limits, or the problem says nothing.
    if not hidden or not _passing(executor, problem, [code], problem.public_tests + hidden)[0]:
        return None
    found = list(mu.all_mutants(code))
    rng = random.Random(sha(code))
    if len(found) > MAX_SITES:
        found = rng.sample(found, MAX_SITES)
    pub = _passing(executor, problem, [src for _, src in found], problem.public_tests)
    survivors = [f for f, ok in zip(found, pub, strict=True) if ok]
    hid = _passing(executor, problem, [src for _, src in survivors], hidden)
    wrong = [s for (s, _), ok in zip(survivors, hid, strict=True) if not ok]
    equivalent = [s for (s, _), ok in zip(survivors, hid, strict=True) if ok]
    # Round-robin over operators so that one prolific operator does not fill the quota.
    by_op: dict[str, list[mu.Site]] = {}
    for s in wrong:
        by_op.setdefault(s.op, []).append(s)
    chosen: list[mu.Site] = []
    while len(chosen) < per_problem and any(by_op.values()):
        for op in sorted(by_op):
            if by_op[op] and len(chosen) < per_problem:
                chosen.append(by_op[op].pop(0))
    renamed = mu.renamed(code)
    correct = ["renamed"] if _passing(executor, problem, [renamed], problem.public_tests + hidden)[0] else []
    return {
        "problem": name,
        "reference_sha": sha(code),
        "mutants_tried": len(found),
        "passed_examples": len(survivors),
        "wrong": [{"op": s.op, "index": s.index, "where": mu.describe(code, s)} for s in chosen],
        "equivalent": [{"op": s.op, "index": s.index, "where": mu.describe(code, s)} for s in equivalent[:3]],
        "correct": correct,
    }


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument(
        "--limit", type=int, default=40, help="CodeContests rows to try (shortest references first)"
    )
    ap.add_argument("--per-problem", type=int, default=6, help="wrong programs kept per problem")
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args(argv)
    entries = []
    with Executor(workers=args.workers) as ex:
        for name, problem in candidate_problems(args.limit):
            entry = build_one(ex, name, problem, args.per_problem)
            if entry is None:
                print(f"skip {name}: reference fails under our limits or no hidden tests")
                continue
            print(
                f"{name}: {len(entry['wrong'])} wrong of {entry['passed_examples']} example-passing mutants "
                f"({entry['mutants_tried']} tried), correct variants {entry['correct']}",
                flush=True,
            )
            if entry["wrong"]:
                entries.append(entry)
    STORE.write_text(json.dumps({"version": 1, "problems": entries}, indent=1) + "\n")
    print(f"wrote {STORE} ({len(entries)} problems, {sum(len(e['wrong']) for e in entries)} wrong programs)")


if __name__ == "__main__":
    main()
