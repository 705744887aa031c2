"""Clustering with slow survivors, before and after their later runs got the tighter limits: the same stored pool,
both ways, side by side.

    python -m alphagen.benchmarks.cluster_slow RUN_DIR PROBLEM_FILES... [--out FILE]

For each problem of a finished run, the stored samples and test inputs are clustered twice in the sandbox, each
time from an empty RunMemo (no test-input runs to read back, so "after" pays for runs the pipeline would reuse):
at the full limit for every run (`slow_share` 1.0, the baseline) and with the test-input checks' share for a slow
survivor's later runs (the default). Writes one JSON object: per problem each way's wall seconds, the pool's
CPU-seconds, runs, presumed time-outs and whether the signatures, CodeT agreement and clusters are the same; and the
ratio of the wall-second totals.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from alphagen import clustering
from alphagen.atomic import write_atomic
from alphagen.cluster_runs import cluster_survivors
from alphagen.config import SolveConfig
from alphagen.evaluation.runner import stored_state
from alphagen.evaluation.store import read_jsonl, safe_name
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.loader import load_problem
from alphagen.run_memo import RunMemo
from alphagen.testgen import TestGenConfig
from sandbox import BatchExecutor, Executor


def compare(run_dir: Path, files: list[str], executor: BatchExecutor) -> dict[str, Any]:
    """Both ways on every problem of `files` that `run_dir` has stored samples and test inputs for."""
    share = TestGenConfig().slow_check_time_share
    # The pool the pipeline clusters: with fewer survivors than picks, the spare programs too.
    picks = SolveConfig().num_picks
    rows: list[dict[str, Any]] = []
    for problem in map(load_problem, files):
        path = run_dir / "problems" / f"{safe_name(problem.name)}.jsonl"
        result, _ = stored_state(read_jsonl(path)) if path.exists() else (None, {})
        if result is None or not result.test_inputs:
            continue
        harness = ProblemHarness.of(problem)
        # The stored candidates carry the run's signatures: cleared, so each way computes its own.
        pool = [replace(c, signature=None) for c in result.candidates]
        ways: dict[str, Any] = {}
        for name, slow_share in (("full_limit", 1.0), ("slow_share", share)):
            memo = RunMemo(executor)
            t0 = time.perf_counter()
            got = cluster_survivors(harness, pool, result.test_inputs, memo, slow_share=slow_share, fill=picks)
            ways[name] = {"seconds": round(time.perf_counter() - t0, 3), "runs": memo.runs,
                          "cpu_s": round(sum(c.cpu_s for c in got.candidates if c.signature is not None), 3),
                          "presumed": got.presumed, "clustered": got,
                          "clusters": len(clustering.cluster(got.candidates, "alphacode", got.agreement, True, picks))}
        base, ours = ways["full_limit"].pop("clustered"), ways["slow_share"].pop("clustered")
        same = [c.signature for c in base.candidates] == [c.signature for c in ours.candidates]
        rows.append({"problem": problem.name, **ways, "same_signatures": same,
                     "same_agreement": base.agreement == ours.agreement})
    before = sum(r["full_limit"]["seconds"] for r in rows)
    after = sum(r["slow_share"]["seconds"] for r in rows)
    return {"run": str(run_dir), "slow_share": share, "problems": rows, "seconds_full_limit": round(before, 3),
            "seconds_slow_share": round(after, 3), "ratio": round(before / after, 2) if after else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("files", nargs="+", help="the problem files to cluster again")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args()
    with Executor() as executor:
        out = compare(args.run_dir, args.files, executor)
    text = json.dumps(out, indent=1)
    if args.out is not None:
        write_atomic(args.out, text + "\n")
    print(text)


if __name__ == "__main__":
    main()
