"""The missing-imports rejudge: a stored sample that failed with a NameError passes once its import is added."""

import json
from pathlib import Path

from alphagen.benchmarks.missing_imports import rejudge
from alphagen.evaluation.records import solve_result_to_dict
from alphagen.results import Candidate, SolveResult
from sandbox import Executor

PROBLEM = "problems/sum-of-two.json"
NO_IMPORT = "a, b = map(int, sys.stdin.read().split())\nprint(a + b)\n"
WRONG = "a, b = map(int, sys.stdin.read().split())\nprint(a - b)\n"


def test_a_name_error_sample_is_judged_again_with_its_import(tmp_path: Path, executor: Executor) -> None:
    run = tmp_path / "run"
    (run / "problems").mkdir(parents=True)
    (run / "results.jsonl").write_text(json.dumps({"name": "sum-of-two", "correct": 0}) + "\n")
    failed = "Traceback (most recent call last):\nNameError: name 'sys' is not defined"
    candidates = (
        Candidate(index=0, language="python", code=NO_IMPORT, feedback=failed),
        Candidate(index=1, language="python", code=WRONG, feedback=failed),
        Candidate(index=2, language="python", code="print(1)\n", feedback="expected 3, got 1"),
    )
    # Stored as a bench run stores a problem's samples.
    result = SolveResult(problem="sum-of-two", candidates=candidates, picks=(), stages=())
    (run / "problems" / "sum-of-two.jsonl").write_text(
        json.dumps({"event": "samples", "result": solve_result_to_dict(result)}) + "\n")
    report = rejudge(run, [PROBLEM], executor)
    # Both NameError samples change; the right one passes examples and hidden tests, the wrong one neither; the
    # sample without a NameError is not touched.
    assert report["changed"] == 2 and report["pass_examples"] == 1 and report["pass_hidden"] == 1
    assert report["problems_newly_covered"] == ["sum-of-two"]
