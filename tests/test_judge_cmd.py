"""`alphagen judge`: picks on stdin, verdicts from the real sandbox on a real CodeContests problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alphagen.cli import main
from alphagen.commands.judge import parse_submissions
from alphagen.problems import load_problem

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "codecontests"
PROBLEM = DATA / "cc_1147_a_hide_and_seek_1786.json"
needs_data = pytest.mark.skipif(not PROBLEM.exists(), reason="shared CodeContests sample not present")


@needs_data
def test_solve_json_lines_are_judged_per_pick() -> None:
    problem = load_problem(PROBLEM)
    reference = problem.solutions[0].code
    picks = [
        {"rank": 1, "problem": problem.name, "language": "python", "code": "print(0)", "candidate": 4},
        {"rank": 2, "problem": problem.name, "language": "python", "code": reference, "candidate": 9},
    ]
    stdin = "\n".join(json.dumps(p) for p in picks) + "\n\n"
    res = CliRunner().invoke(main, ["judge", str(PROBLEM)], input=stdin)
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    total = len(problem.hidden_tests())
    # print(0) may match a test or two by luck, never all of them.
    expected = {"rank": 1, "candidate": 4, "passed": False, "status": "wrong_answer", "num_tests": total}
    assert lines[0] | {"num_passed": None} == expected | {"num_passed": None}
    assert 0 <= lines[0]["num_passed"] < total
    assert lines[1] == {"rank": 2, "candidate": 9, "passed": True, "status": "ok", "num_passed": total,
                        "num_tests": total}
    assert "solved: yes (first passing rank 2)" in res.stderr


@needs_data
def test_a_users_own_script_output_and_an_unsolved_problem() -> None:
    # A minimal judge script line: only the code. Rank defaults to the line order.
    res = CliRunner().invoke(main, ["judge", str(PROBLEM)], input='{"code": "import sys\\nsys.exit(3)"}\n')
    assert res.exit_code == 0, res.output
    (line,) = [json.loads(x) for x in res.stdout.splitlines()]
    assert line["rank"] == 1 and line["status"] == "runtime_error" and line["passed"] is False
    assert "solved: no" in res.stderr


@needs_data
def test_bad_input_names_the_line() -> None:
    res = CliRunner().invoke(main, ["judge", str(PROBLEM)], input='{"code": "print(1)"}\n\n{"code": 5}\n')
    assert res.exit_code != 0
    assert "stdin line 3: field 'code' must be a string, got int" in res.output
    res = CliRunner().invoke(main, ["judge", str(PROBLEM)], input='{"code": "x"\n')
    assert "stdin line 1: not valid JSON" in res.output
    other = json.dumps({"code": "print(1)", "problem": "someone-else"})
    res = CliRunner().invoke(main, ["judge", str(PROBLEM)], input=other + "\n")
    assert res.exit_code != 0 and "is for problem 'someone-else'" in res.output


def test_parse_submissions_validates_fields() -> None:
    lines = ['{"code": "a", "language": "cpp", "rank": 3, "candidate": 1}', "  ", '{"code": "b"}']
    subs = parse_submissions(lines)
    assert [(s.rank, s.language, s.candidate) for s in subs] == [(3, "cpp", 1), (2, "python", None)]
    with pytest.raises(ValueError, match="stdin line 1: language must be 'python' or 'cpp', got 'java'"):
        parse_submissions(['{"code": "a", "language": "java"}'])
    with pytest.raises(ValueError, match="stdin line 1: must be a JSON object"):
        parse_submissions(["[1, 2]"])
