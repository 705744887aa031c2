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
    # Nothing solved: exit 1, the same convention as examples/judge.py.
    assert res.exit_code == 1, res.output
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


ROOT = Path(__file__).resolve().parents[1]
SUM = ROOT / "problems" / "sum-of-two.json"


def _problem(tmp_path: Path, hidden: int | None) -> Path:
    """sum-of-two with `hidden` generated hidden tests (None: none at all)."""
    data = json.loads(SUM.read_text())
    data["private_tests"] = [{"input": f"{i} {i}\n", "output": f"{2 * i}\n"} for i in range(hidden or 0)]
    if hidden is None:
        del data["private_tests"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    return path


def test_first_failing_test_is_reported_in_test_order_every_time(tmp_path: Path) -> None:
    # Wrong from test 3 on: parallel judging used to report whichever failure arrived first.
    path = _problem(tmp_path, 12)
    pick = json.dumps({"code": "a, b = map(int, input().split())\nprint(a + b if a < 2 else 0)\n"}) + "\n"
    seen = set()
    for _ in range(3):
        res = CliRunner().invoke(main, ["judge", str(path), "--workers", "2"], input=pick)
        assert res.exit_code == 1, res.output
        (line,) = [json.loads(x) for x in res.stdout.splitlines()]
        seen.add((line["num_passed"], line["status"]))
        assert "test 3/12: wrong answer" in " ".join(res.stderr.split())
    assert seen == {(2, "wrong_answer")}


def test_no_hidden_tests_is_judged_on_examples_and_called_weak(tmp_path: Path) -> None:
    path = _problem(tmp_path, None)
    pick = json.dumps({"code": "a, b = map(int, input().split())\nprint(a + b)\n"}) + "\n"
    res = CliRunner().invoke(main, ["judge", str(path)], input=pick)
    assert res.exit_code == 0, res.output
    err = " ".join(res.stderr.split())
    assert "examples" in err and "hidden tests" not in err.replace("no hidden tests", "")
    assert "solved: yes on the examples only (first passing rank 1)" in err and "weak" in err


def test_missing_code_and_compile_errors_are_named(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["judge", str(SUM)], input='{"language": "python"}\n')
    assert res.exit_code == 2 and "stdin line 1: field 'code' is missing" in res.output
    import shutil

    if shutil.which("g++") is None:
        pytest.skip("no g++")
    pick = json.dumps({"code": "int main() {\n  return undeclared_name;\n}\n", "language": "cpp"}) + "\n"
    res = CliRunner().invoke(main, ["judge", str(SUM)], input=pick)
    assert res.exit_code == 1
    err = " ".join(res.stderr.split())
    assert "compile error" in err and "undeclared_name" in err and "error" in err


def test_a_terminal_on_stdin_is_told_what_to_type() -> None:
    import os
    import pty
    import subprocess
    import sys
    import time

    leader, follower = pty.openpty()
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from alphagen.cli import main; main()", "judge", str(SUM)],
                            stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        os.write(leader, b'{"code": "print(1)"}\n')
        time.sleep(0.5)
        os.write(leader, b"\x04")  # Ctrl-D: end of input on a terminal
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        os.close(leader)
        os.close(follower)
    assert b"reading picks from stdin" in err
    assert proc.returncode == 1 and b'"rank": 1' in out


def test_example_judge_script_takes_a_pick_without_language_and_agrees_on_exit_status() -> None:
    import subprocess
    import sys

    def run(code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(ROOT / "examples" / "judge.py"), str(SUM)],
                              input=json.dumps({"code": code}) + "\n", capture_output=True, text=True,
                              timeout=120, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})

    good = run("a, b = map(int, input().split())\nprint(a + b)\n")
    assert good.returncode == 0, good.stderr
    assert "rank 1: ACCEPTED" in good.stdout
    bad = run("print(0)\n")
    assert bad.returncode == 1 and "solved: no" in bad.stdout
    res = CliRunner().invoke(main, ["judge", str(SUM)], input=json.dumps({"code": "print(0)\n"}) + "\n")
    assert res.exit_code == bad.returncode


def test_make_solve_does_not_install_chromium() -> None:
    import subprocess

    solve = subprocess.run(["make", "-n", "-B", "solve"], capture_output=True, text=True, cwd=ROOT).stdout
    test = subprocess.run(["make", "-n", "-B", "test"], capture_output=True, text=True, cwd=ROOT).stdout
    assert "chromium" not in solve and "chromium" in test
