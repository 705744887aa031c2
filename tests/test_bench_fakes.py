"""Deterministic stand-ins for the model and the judge, shared by the bench tests (no tests in this module).

The fake solver "samples" from a pool of programs whose fate is known (correct, passes the examples but
wrong on hidden tests, fails the examples), with duplicates, and picks with the real clustering rule, so
the runner, the store and the estimators see realistic data at no cost.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alphagen.clustering import select
from alphagen.evaluation.runner import BenchConfig, run_bench
from alphagen.evaluation.store import RunStore
from alphagen.pipeline import SolveConfig
from alphagen.problems.model import HiddenTests, Problem, Test
from alphagen.results import Candidate, SolveResult, StageStat

# Seconds each fake solve and judge call sleeps (the kill test needs time windows to land in).
SLEEP_S = float(os.environ.get("FAKE_BENCH_SLEEP", "0"))


def fake_problems(count: int = 6) -> list[Problem]:
    """Problems p0..p{count-1}; p3 makes the fake solver crash (a problem that errors mid-run)."""
    return [
        Problem(
            name=f"p{i}" if i != 3 else "p3-boom",
            description=f"Problem {i}",
            public_tests=(Test("1\n", "1\n"),),
            private_tests=HiddenTests((Test("2\n", "2\n"), Test("3\n", "3\n"))),
        )
        for i in range(count)
    ]


def fake_solve(problem: Problem, cfg: BenchConfig, seed: int, checkpoint: Any = None) -> SolveResult:
    """Draw cfg.n programs: correct with a per-problem probability, wrong-but-plausible, or broken."""
    if "boom" in problem.name:
        raise RuntimeError("the fake model crashed")
    time.sleep(SLEEP_S)
    rng = random.Random(f"{seed}:{problem.name}")
    p_correct = [0.0, 0.05, 0.2, 0.4, 0.6, 0.9][int(problem.name[1:].split("-")[0]) % 6]
    first: dict[str, int] = {}
    cands = []
    for i in range(cfg.n):
        u = rng.random()
        variant = rng.randrange(3)
        if u < p_correct:
            code, sig, passed = f"correct-{variant}", "right", True
        elif u < p_correct + (1 - p_correct) / 2:
            code, sig, passed = f"wrong-{variant}", f"wrong{variant % 2}", True
        else:
            code, sig, passed = f"broken-{variant}", None, False
        dup = first.setdefault(code, i)
        cands.append(
            Candidate(
                index=i, language="python", code=code, duplicate_of=None if dup == i else dup,
                passed_examples=passed, example_status="ok" if passed else "wrong_answer",
                signature=sig if dup == i else None, cpu_s=round(rng.random(), 3),
            )
        )
    picks = select(cands, cfg.num_picks)
    distinct = sum(1 for c in cands if c.duplicate_of is None)
    survivors = sum(1 for c in cands if c.passed_examples and c.duplicate_of is None)
    return SolveResult(
        problem=problem.name,
        candidates=tuple(cands),
        picks=tuple(picks),
        stages=(
            StageStat("sample", 0.5, cfg.n, cfg.n),
            StageStat("dedup", 0.01, cfg.n, distinct),
            StageStat("filter", 0.2, distinct, survivors),
            StageStat("cluster", 0.1, survivors, len(picks)),
        ),
        num_clusters=len({c.signature for c in cands if c.signature}),
        seed=seed,
    )


@dataclass(frozen=True)
class FakeVerdict:
    passed: bool
    num_tests: int
    num_passed: int
    status: str
    detail: str = ""


def fake_judge(problem: Problem, code: str, language: str) -> FakeVerdict:
    """Correct programs pass both hidden tests; the rest fail the first one."""
    time.sleep(SLEEP_S / 4)
    ok = code.startswith("correct")
    return FakeVerdict(ok, 2, 2 if ok else 0, "ok" if ok else "wrong_answer")


def run_fake_bench(run_dir: Path, resume: bool, n: int = 12, count: int = 6) -> dict[str, dict[str, Any]]:
    """A whole bench over the fake problems, with one unreadable 'file' among them."""
    cfg = BenchConfig(SolveConfig(n=n, seed=7), draws=50)
    load_errors = [("problems/bad.json", "problems/bad.json: invalid JSON at line 1 column 2")]
    with RunStore(run_dir, cfg.to_dict(), resume, ("n", "seed", "draws")) as store:
        return run_bench(fake_problems(count), load_errors, cfg, store, fake_solve, fake_judge, select)


def comparable(records: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records without wall-clock timings (which differ between any two runs)."""
    return {k: {f: v for f, v in r.items() if f != "timing"} for k, r in records.items()}


if __name__ == "__main__":
    # Used by the kill test: run (or resume) the fake bench in a subprocess.
    import sys

    run_fake_bench(Path(sys.argv[1]), resume=sys.argv[2] == "resume")
