"""The slow-clustering comparison: the same stored pool clustered at the full limit and with the tighter limits for
a slow survivor's later runs gives the same signatures, for fewer seconds of time-outs."""

import json
from pathlib import Path

from alphagen.benchmarks.cluster_slow import compare
from alphagen.evaluation.records import solve_result_to_dict
from alphagen.results import Candidate, SolveResult
from sandbox import Executor

RIGHT = "a, b = map(int, input().split())\nprint(a + b)\n"
# Right, but never ends when b is negative (no input orders the others by size: each would cost a whole limit).
NEG = "a, b = map(int, input().split())\nwhile b < 0:\n    pass\nprint(a + b)\n"
WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
# Eight short inputs first (the first round), then four longer ones with a negative b and a smaller a each time.
INPUTS = ("1 1\n", "2 2\n", "3 3\n", "4 4\n", "5 5\n", "6 6\n", "7 7\n", "9 -1\n", "8 -20\n", "7 -300\n",
          "6 -4000\n", "5 -50000\n")


def test_the_tighter_limits_keep_the_signatures(tmp_path: Path, executor: Executor) -> None:
    problem = json.loads(Path("problems/sum-of-two.json").read_text())
    problem["time_limit"] = 0.4
    (tmp_path / "sum-of-two.json").write_text(json.dumps(problem))
    run = tmp_path / "run"
    (run / "problems").mkdir(parents=True)
    candidates = tuple(Candidate(index=i, language="python", code=code, passed_examples=True)
                       for i, code in enumerate((RIGHT, NEG, WRONG)))
    result = SolveResult(problem="sum-of-two", candidates=candidates, picks=(), stages=(), test_inputs=INPUTS)
    (run / "problems" / "sum-of-two.jsonl").write_text(
        json.dumps({"event": "samples", "result": solve_result_to_dict(result)}) + "\n")
    report = compare(run, [str(tmp_path / "sum-of-two.json")], executor)
    (row,) = report["problems"]
    assert row["same_signatures"] and row["same_agreement"]
    assert row["full_limit"]["clusters"] == row["slow_share"]["clusters"] == 3
    # Every pair ran both ways (nothing is presumed: each later input has a smaller a, so none is at least as large).
    assert row["full_limit"]["runs"] == row["slow_share"]["runs"] == 3 * len(INPUTS)
    assert row["full_limit"]["presumed"] == row["slow_share"]["presumed"] == 0
    # NEG's five time-outs: all at the 0.4 s limit, against one at 0.4 s and four at a quarter of it.
    assert row["full_limit"]["cpu_s"] > 1.8 and row["slow_share"]["cpu_s"] < 1.2
    # Under the clustering budget (nothing left: the stored result has no sampling seconds) NEG, slow since its
    # first round, runs no more inputs; its first time-out already keeps it apart: the same clusters and picks.
    assert row["bounded"]["unrun"] == len(INPUTS) - 8 and row["bounded"]["runs"] == 3 * len(INPUTS) - 4
    assert row["bounded_same_clusters"] and row["bounded_same_picks"]
    assert report["bounded_same_clusters"] == report["bounded_same_picks"] == 1
