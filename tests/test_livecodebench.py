"""LiveCodeBench rows, made by hand in its released format (no download): import, decoding without running the
pickle, `--since`, `alphagen check` on their references, and `solve` / `bench` on both kinds of row."""

from __future__ import annotations

import base64
import json
import os
import pickle
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alphagen.cli import main
from alphagen.problems import ProblemError, load_problem, load_problems, released_since
from alphagen.problems.livecodebench import decode_private_tests
from tests.tiny_model import build_tiny_dir


def packed(value: Any) -> str:
    """The released encoding of private tests: base64 of zlib-compressed pickled JSON text."""
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(value)))).decode()


def stdin_tests(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"input": i, "output": o, "testtype": "stdin"} for i, o in pairs]


def functional_tests(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"input": i, "output": o, "testtype": "functional"} for i, o in pairs]


ATCODER: dict[str, Any] = {
    "question_title": "Sum of Scores",
    "question_content": "You are given N scores A_1, ..., A_N. Print their sum.\n\nInput\nN\nA_1 ... A_N\n\n"
    "Output\nThe sum.\n\nSample Input 1\n3\n1 2 3\n\nSample Output 1\n6",
    "platform": "atcoder",
    "question_id": "abc300_a",
    "contest_id": "abc300",
    "contest_date": "2023-04-29T00:00:00",
    "starter_code": "",
    "difficulty": "easy",
    "public_test_cases": json.dumps(stdin_tests(("3\n1 2 3\n", "6\n"))),
    # Private tests as plain JSON text: the released rows use both encodings.
    "private_test_cases": json.dumps(stdin_tests(("1\n-5\n", "-5\n"), ("4\n10 20 30 40\n", "100\n"))),
    "metadata": "{}",
    "solutions": ["input()\nprint(sum(map(int, input().split())))\n"],
}

LEETCODE: dict[str, Any] = {
    "question_title": "Max Pair Sum",
    "question_content": "Given an integer array nums, return the largest sum of two of its elements and "
    "the number k added to it.\n\nExample 1:\nInput: nums = [1,5,3], k = 0\nOutput: 8",
    "platform": "leetcode",
    "question_id": "2815",
    "contest_id": "weekly-contest-358",
    "contest_date": "2023-08-13T00:00:00",
    "starter_code": "class Solution:\n    def maxSum(self, nums: List[int], k: int) -> int:\n        ",
    "difficulty": "medium",
    # One JSON value per line, one line per argument; the output is the return value's JSON.
    "public_test_cases": json.dumps(functional_tests(("[1, 5, 3]\n0", "8"))),
    "private_test_cases": packed(functional_tests(("[2, 2]\n1", "5"), ("[-1, -7, -3]\n10", "6"))),
    "metadata": json.dumps({"func_name": "maxSum"}),
    # Uses List and nlargest without importing them, as LeetCode programs do.
    "solutions": ["class Solution:\n    def maxSum(self, nums: List[int], k: int) -> int:\n"
                  "        return sum(nlargest(2, nums)) + k\n"],
}


def write_jsonl(path: Path, *rows: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_rows_become_a_stdio_and_a_class_solution_function_problem(tmp_path: Path) -> None:
    stdio, leet = load_problems(write_jsonl(tmp_path / "lcb.jsonl", ATCODER, LEETCODE))
    assert (stdio.name, stdio.kind, stdio.entry_point, stdio.signature) == ("lcb-atcoder-abc300_a", "stdio", None, None)
    assert [(t.input, t.output) for t in stdio.public_tests] == [("3\n1 2 3\n", "6\n")]
    assert [(t.input, t.output) for t in stdio.private_tests] == [("1\n-5\n", "-5\n"), ("4\n10 20 30 40\n", "100\n")]
    assert (stdio.difficulty, stdio.limits_given, str(stdio.released)) == ("easy", False, "2023-04-29")
    assert stdio.source == f"{tmp_path / 'lcb.jsonl'}:1 (livecodebench)"
    # LeetCode: a method of class Solution; arguments (one JSON line each) become our JSON argument array.
    assert (leet.name, leet.kind, leet.entry_point, leet.entry_class) == ("lcb-leetcode-2815", "function", "maxSum",
                                                                        "Solution")
    assert [(t.input, t.output) for t in leet.public_tests] == [("[[1, 5, 3], 0]", "8")]
    assert [(t.input, t.output) for t in leet.private_tests] == [("[[2, 2], 1]", "5"), ("[[-1, -7, -3], 10]", "6")]
    # The stub: LeetCode's implicit imports, the starter code as given, the statement as the method's docstring.
    assert leet.signature is not None and leet.signature.startswith("from typing import *\n")
    assert LEETCODE["starter_code"].rstrip() in leet.signature
    assert "        Given an integer array nums" in leet.signature and "return the largest sum" in leet.signature
    compile(leet.signature, "<stub>", "exec")
    # The reference gets the imports it uses without importing (nlargest, List), as sampled programs do.
    assert "from heapq import *" in leet.solutions[0].code


def test_private_tests_decode_from_every_released_encoding() -> None:
    tests = functional_tests(("[1]", "1"))
    assert decode_private_tests(json.dumps(tests)) == tests
    assert decode_private_tests(packed(tests)) == tests
    # Line-wrapped base64 and a pickle of bytes decode too.
    wrapped = packed(tests)
    assert decode_private_tests(wrapped[:10] + "\n" + wrapped[10:]) == tests
    as_bytes = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests).encode()))).decode()
    assert decode_private_tests(as_bytes) == tests


class _Exploit:
    """A pickle that would run a shell command when loaded by pickle.loads."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


def test_a_malicious_pickle_is_refused_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = base64.b64encode(zlib.compress(pickle.dumps(_Exploit(marker)))).decode()
    path = write_jsonl(tmp_path / "evil.jsonl", LEETCODE | {"private_test_cases": evil})
    with pytest.raises(ProblemError) as caught:
        load_problems(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: field 'private_test_cases': pickle refused: refused to load ")
    assert ".system" in message and "\n" not in message
    assert not marker.exists()
    # A pickled object of any class is refused the same way (it needs a class lookup to be built).
    with pytest.raises(ValueError, match="refused to load pathlib"):
        decode_private_tests(base64.b64encode(zlib.compress(pickle.dumps(Path("x")))).decode())


def test_decompression_is_capped_and_broken_layers_are_named() -> None:
    bomb = base64.b64encode(zlib.compress(pickle.dumps("[" + " " * (3 << 20) + "]"))).decode()
    with pytest.raises(ValueError, match="decompresses to more than 1 MiB"):
        decode_private_tests(bomb, limit=1 << 20)
    assert decode_private_tests(bomb, limit=4 << 20) == []
    with pytest.raises(ValueError, match="not base64"):
        decode_private_tests("%%% not base64")
    with pytest.raises(ValueError, match="not zlib data"):
        decode_private_tests(base64.b64encode(b"plain bytes").decode())
    with pytest.raises(ValueError, match="truncated zlib stream"):
        decode_private_tests(base64.b64encode(zlib.compress(pickle.dumps("[]"))[:-6]).decode())
    with pytest.raises(ValueError, match="the pickle must hold JSON text, got int"):
        decode_private_tests(base64.b64encode(zlib.compress(pickle.dumps(7))).decode())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"platform": "topcoder"}, "field 'platform': must be one of atcoder, codeforces, leetcode, got 'topcoder'"),
        ({"contest_date": "last week"}, "field 'contest_date': must be an ISO date like 2024-08-03T00:00:00, "
                                        "got 'last week'"),
        ({"public_test_cases": json.dumps(functional_tests(("[1, 5\n0", "8")))},
         "field 'public_test_cases[0].input': must be one JSON value per line (an argument each): argument 1:"),
        ({"metadata": "{}"}, "field 'metadata.func_name': functional tests need a Python identifier, got None"),
        ({"starter_code": "class Solution:\n    def other(self, x):\n        "},
         "field 'starter_code': must end with the method to complete, `def maxSum(self, ...):`"),
        ({"private_test_cases": packed(stdin_tests(("1\n", "1\n")))},
         "field 'private_test_cases': must have the public tests' testtype, got both stdin and functional"),
        ({"public_test_cases": json.dumps([{"input": "1", "output": "1", "testtype": "interactive"}])},
         "field 'public_test_cases[0].testtype': must be 'stdin' or 'functional', got 'interactive'"),
    ],
)
def test_bad_rows_are_one_line_naming_the_row_and_field(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", ATCODER, LEETCODE | change)
    problems, errors = load_problems(path, errors="collect")
    assert [p.name for p in problems] == ["lcb-atcoder-abc300_a"]
    (error,) = errors
    assert str(error).startswith(f"{path}:2: {message}"), str(error)


def test_since_keeps_problems_released_on_or_after_the_day(tmp_path: Path) -> None:
    problems = load_problems(write_jsonl(tmp_path / "lcb.jsonl", ATCODER, LEETCODE))
    undated = load_problem(Path(__file__).resolve().parents[1] / "problems" / "sum-of-two.json")
    from datetime import date

    kept, older, without = released_since([*problems, undated], date(2023, 8, 13))
    assert ([p.name for p in kept], older, without) == (["lcb-leetcode-2815"], 1, 1)
    assert released_since(problems, date(2023, 8, 14))[0] == []


class LeetCodeWriter:
    """A sampler that writes what LeetCode users write (no imports: List and nlargest come from the judge), and a
    wrong program; it keeps the prompts it was given."""

    RIGHT = ("```python\nclass Solution:\n    def maxSum(self, nums: List[int], k: int) -> int:\n"
             "        return sum(nlargest(2, nums)) + k\n```")
    WRONG = "```python\nclass Solution:\n    def maxSum(self, nums, k):\n        return max(nums) + k\n```"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def sample(self, requests: Any, params: Any, progress: Any = None) -> Any:
        from alphagen.sampling import Completion

        index = 0
        for r, request in enumerate(requests):
            self.prompts.append(request.prompt)
            for _ in range(request.count):
                text = (self.RIGHT, self.WRONG)[index % 2]
                yield Completion(request_index=r, sample_index=index, text=text, num_tokens=9, finish_reason="stop")
                index += 1


def test_the_pipeline_solves_a_leetcode_row_written_the_leetcode_way(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from alphagen.judging import judge
    from alphagen.pipeline import Models, SolveConfig, solve
    from alphagen.testgen import TestGenConfig
    from sandbox import Executor

    (problem,) = load_problems(write_jsonl(tmp_path / "lcb.jsonl", LEETCODE))
    sampler = LeetCodeWriter()
    lm = SimpleNamespace(tokenizer=SimpleNamespace(chat_template=None), name="scripted", device="cpu")
    models = Models(code=lm, sampler=sampler, test=None, test_sampler=None)  # type: ignore[arg-type]
    cfg = SolveConfig(n=4, seed=1, testgen=TestGenConfig(sources=("mutation",), num_mutations=8, max_inputs=8))
    with Executor(workers=2) as executor:
        result = solve(problem, cfg, models=models, executor=executor)
        # The model saw the statement and the starter code (the stub carries both), never a hidden test.
        assert all("return the largest sum" in p and "def maxSum(self, nums: List[int], k: int)" in p
                   for p in sampler.prompts)
        assert not any("[-1, -7, -3]" in p for p in sampler.prompts)
        # The LeetCode-style program passed the examples (the judge's imports were added) and is the top pick; the
        # hidden tests (decoded from the pickle) accept it.
        assert [c.passed_examples for c in result.candidates[:2]] == [True, False]
        top = result.picks[0]
        assert "nlargest(2, nums)" in top.code and top.passed_examples
        assert judge(executor, problem, top.code, "python").passed


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_check_runs_the_references_of_both_rows_and_since_selects(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "lcb.jsonl", ATCODER, LEETCODE)
    res = invoke("check", str(path), "--workers", "2", "--json")
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert {n: (r["kind"], r["reference"], r["tests"]["private"], r["released"]) for n, r in rows.items()} == {
        "lcb-atcoder-abc300_a": ("stdio", "pass", 2, "2023-04-29"),
        "lcb-leetcode-2815": ("function", "pass", 2, "2023-08-13"),
    }
    # A wrong reference is caught on the hidden tests (the check can fail).
    wrong_code = "class Solution:\n    def maxSum(self, nums, k):\n        return max(nums) * 2 + k\n"
    wrong = LEETCODE | {"solutions": [wrong_code]}
    res = invoke("check", str(write_jsonl(tmp_path / "wrong.jsonl", wrong)), "--workers", "2", "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["reference"] == "mismatch", res.output
    # --since: only the LeetCode row was published on or after 2023-08-01.
    res = invoke("check", str(path), "--no-run", "--json", "--since", "2023-08-01")
    assert res.exit_code == 0, res.output
    assert [json.loads(line)["name"] for line in res.stdout.splitlines()] == ["lcb-leetcode-2815"]
    assert "--since 2023-08-01: 1 problem kept of 2 (1 released before, 0 without a date)" in res.stderr
    res = invoke("check", str(path), "--no-run", "--since", "13/08/2023")
    assert res.exit_code == 2 and "--since" in res.stderr


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_dir(tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("row", [ATCODER, LEETCODE], ids=["atcoder-stdio", "leetcode-function"])
def test_solve_runs_on_each_kind_of_row(tiny_dir: Path, tmp_path: Path, row: dict[str, Any]) -> None:
    path = write_jsonl(tmp_path / "one.jsonl", row)
    name = load_problem(path).name
    res = invoke("solve", str(path), "--model", str(tiny_dir), "-n", "2", "--max-new-tokens", "8", "--device", "cpu",
                 "--dtype", "fp32", "--workers", "1", "--json")
    # A random model passes no example (exit 1, with the reason), but the pipeline ran every stage on the row.
    assert res.exit_code in (0, 1), res.output
    assert f"{name}: 2 sampled" in " ".join(res.stderr.split())


def test_bench_since_runs_the_selected_row(tiny_dir: Path, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "lcb.jsonl", ATCODER, LEETCODE)
    run = tmp_path / "run"
    res = invoke("bench", str(path), "--since", "2023-08-01", "--model", str(tiny_dir), "-n", "2",
                 "--max-new-tokens", "8", "--device", "cpu", "--dtype", "fp32", "--workers", "1",
                 "--out", str(run), "--json")
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert [r["name"] for r in records] == ["lcb-leetcode-2815"]
    assert json.loads(res.stdout)["problems"]["selected"] == 1
