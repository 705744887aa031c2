"""Clustering with slow survivors three ways on the same stored pool, side by side: every run at the full limit
(the baseline), a slow survivor's later runs at the tighter limits (`slow_share`), and those under the clustering's
time budget as well (`bounded`: the pipeline's default, `pipeline.CLUSTER_SHARE` of the problem's stored sampling
seconds, past which slow programs run no more inputs).

    python -m alphagen.benchmarks.cluster_slow RUN_DIR PROBLEM_FILES... [--out FILE]

For each problem of a finished run, the stored samples and test inputs are clustered in the sandbox each way, each
time from an empty RunMemo (no test-input runs to read back, so every way pays for runs the pipeline would reuse).
Writes one JSON object: per problem each way's wall seconds, the pool's CPU-seconds, runs, presumed time-outs and
pairs not run; whether the slow share keeps the baseline's signatures and CodeT agreement; whether the budget keeps
the slow share's clusters (the same groups of programs) and picks; and the ratios of the wall-second totals.
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
from alphagen.cluster_runs import ClusterClock, Clustered, cluster_survivors
from alphagen.config import SolveConfig
from alphagen.evaluation.runner import stored_state
from alphagen.evaluation.store import read_jsonl, safe_name
from alphagen.pipeline import CLUSTER_SHARE
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.loader import load_problem
from alphagen.run_memo import RunMemo
from alphagen.stages import Stage
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
        sample_s = sum(st.seconds for st in result.stages if st.name in (Stage.SAMPLE, Stage.REPAIR))
        ways: dict[str, Any] = {}
        for name, slow_share, budget in (("full_limit", 1.0, None), ("slow_share", share, None),
                                         ("bounded", share, CLUSTER_SHARE * sample_s)):
            memo = RunMemo(executor)
            t0 = time.perf_counter()
            got = cluster_survivors(harness, pool, result.test_inputs, memo, slow_share=slow_share, fill=picks,
                                    clock=None if budget is None else ClusterClock(budget))
            ways[name] = {"seconds": round(time.perf_counter() - t0, 3), "runs": memo.runs,
                          "cpu_s": round(sum(c.cpu_s for c in got.candidates if c.signature is not None), 3),
                          "presumed": got.presumed, "unrun": got.unrun, "clustered": got,
                          "clusters": len(clustering.cluster(got.candidates, "alphacode", got.agreement, True, picks))}
        base, ours, bounded = (ways[w].pop("clustered") for w in ("full_limit", "slow_share", "bounded"))
        same = [c.signature for c in base.candidates] == [c.signature for c in ours.candidates]
        rows.append({"problem": problem.name, "sample_seconds": round(sample_s, 3), **ways, "same_signatures": same,
                     "same_agreement": base.agreement == ours.agreement,
                     "bounded_same_clusters": _groups(ours) == _groups(bounded),
                     "bounded_same_picks": _picks(ours, picks) == _picks(bounded, picks)})
    total = {w: sum(r[w]["seconds"] for r in rows) for w in ("full_limit", "slow_share", "bounded")}
    return {"run": str(run_dir), "slow_share": share, "cluster_share": CLUSTER_SHARE, "problems": rows,
            **{f"seconds_{w}": round(t, 3) for w, t in total.items()},
            "ratio": round(total["full_limit"] / total["slow_share"], 2) if total["slow_share"] else None,
            "ratio_bounded": round(total["slow_share"] / total["bounded"], 2) if total["bounded"] else None,
            "bounded_same_clusters": sum(r["bounded_same_clusters"] for r in rows),
            "bounded_same_picks": sum(r["bounded_same_picks"] for r in rows)}


def _groups(got: Clustered) -> set[frozenset[int]]:
    """The clusters as groups of programs (a partial program's signature differs from a complete one's hash)."""
    by_sig: dict[str, set[int]] = {}
    for c in got.candidates:
        if c.signature is not None:
            by_sig.setdefault(c.signature, set()).add(c.index)
    return {frozenset(g) for g in by_sig.values()}


def _picks(got: Clustered, picks: int) -> list[int]:
    return [p.candidate for p in clustering.select(got.candidates, picks, "alphacode", got.agreement, True)]


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
