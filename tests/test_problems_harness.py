"""How problems run in the sandbox: function drivers, compare options, limits, and `judge` verdicts."""

from __future__ import annotations

import dataclasses
import json

import pytest

from alphagen.judging import Verdict, judge
from alphagen.problems import Checker, Problem, Test
from alphagen.problems.driver import render
from alphagen.problems.harness import ProblemHarness, compare_options, io_for_tests, limits_for, program_for
from sandbox import Executor, Language, Limits

ADD = Problem(
    name="add",
    description="Return a + b.",
    kind="function",
    entry_point="add",
    public_tests=(Test("[1, 2]", "3"),),
    private_tests=(Test("[2, 2]", "4"), Test("[0.1, 0.2]", "0.3"), Test("[-5, 5]", "0")),  # type: ignore[arg-type]
    test_code="def check(candidate):\n    assert candidate(10, 20) == 30\n",
)
ECHO = Problem(
    name="echo-sum",
    description="Print the sum of the numbers on the line.",
    public_tests=(Test("1 2\n", "3\n"),),
    private_tests=(Test("5 5\n", "10\n"), Test("7\n", "7\n"), Test("1 1 1\n", "3\n")),  # type: ignore[arg-type]
)


def test_render_gives_every_json_scalar_its_own_token() -> None:
    assert render([1, [2.5, "a b"], {"k": None, "a": True}]) == '[ 1 [ 2.5 "a\\u0020b" ] { "a" true "k" null } ]'
    assert render("") == '""' and render([]) == "[ ]"


def test_io_for_tests_renders_function_outputs_and_passes_stdio_through() -> None:
    assert io_for_tests(ADD, ADD.public_tests) == (["[1, 2]"], ["3\n"])
    assert io_for_tests(ECHO, ECHO.public_tests) == (["1 2\n"], ["3\n"])


def test_compare_options_and_limits_follow_the_problem() -> None:
    assert compare_options(ECHO).float_abs is None
    # Function results compare like Python's ==: 1 equals 1.0 and round-off is forgiven.
    assert compare_options(ADD).float_abs == 1e-9
    tolerant = Problem(name="t", description="d", checker=Checker(float_abs=1e-4, case_insensitive=True))
    opts = compare_options(tolerant)
    assert (opts.float_abs, opts.float_rel, opts.case_insensitive) == (1e-4, None, True)
    external = Problem(name="e", description="d", checker=Checker(mode="external", program="import sys\n"))
    checker = compare_options(external).checker
    assert checker is not None and checker.source == "import sys\n"
    assert limits_for(ECHO) == Limits(time_s=2.0, memory_mb=256)
    assert limits_for(ECHO, time_limit_s=0.5, memory_limit_mb=64) == Limits(time_s=0.5, memory_mb=64)


def test_program_for_wraps_function_code_and_refuses_cpp_for_functions() -> None:
    assert program_for(ECHO, "print(1)", "cpp").language is Language.CPP
    assert program_for(ECHO, "print(1)", "python").source == "print(1)"
    assert "_ALPHAGEN_ENTRY = 'add'" in program_for(ADD, "def add(a, b): return a + b", "python").source
    with pytest.raises(ValueError, match="function problems take Python code, got cpp"):
        program_for(ADD, "int main(){}", "cpp")
    with pytest.raises(ValueError, match="language must be 'python' or 'cpp', got 'rust'"):
        program_for(ECHO, "fn main(){}", "rust")


def test_the_driver_output_matches_render_for_awkward_values(executor: Executor) -> None:
    value = [(1, 2), {"x y": [1.5, None, True]}, "tab\there", 10**30]
    code = f"def f():\n    print('noise')\n    return {value!r}\n"
    problem = Problem(name="f", description="d", kind="function", entry_point="f", public_tests=(Test("[]", "0"),))
    result = executor.run(program_for(problem, code, "python"), "[]", Limits(time_s=2))
    assert result.stdout.decode() == render(json.loads(json.dumps(value))) + "\n"


def test_judge_stdio(executor: Executor) -> None:
    good = "print(sum(map(int, input().split())))\n"
    assert judge(executor, ECHO, good, "python") == Verdict(True, 3, 3, None, "ok", "all 3 tests passed")
    wrong = judge(executor, ECHO, "print(10)\n", "python", stop_on_first_failure=False)
    assert (wrong.passed, wrong.status, wrong.num_passed, wrong.first_failure) == (
        False,
        "wrong_answer",
        1,
        1,
    )
    assert wrong.detail == "test 2/3: wrong answer (got '10\\n')"
    crash = judge(executor, ECHO, "print(1 // 0)\n", "python")
    assert crash.status == "runtime_error" and "ZeroDivisionError" in crash.detail
    slow = judge(executor, ECHO, "while True:\n    pass\n", "python", time_limit_s=0.3)
    assert slow.status == "time_limit" and not slow.passed
    public = judge(executor, ECHO, good, "python", tests=ECHO.public_tests)
    assert (public.passed, public.num_tests) == (True, 1)


def test_judge_function_runs_the_hidden_harness_as_a_last_test(executor: Executor) -> None:
    good = "def add(a, b):\n    return a + b\n"
    assert judge(executor, ADD, good, "python") == Verdict(True, 4, 4, None, "ok", "all 4 tests passed")
    # Right on the data tests, wrong on the harness's (10, 20): the harness catches it.
    cheat = "def add(a, b):\n    return a + b if a < 10 else 0\n"
    verdict = judge(executor, ADD, cheat, "python")
    assert (verdict.status, verdict.first_failure, verdict.num_passed) == ("runtime_error", 3, 3)
    assert "AssertionError" in verdict.detail
    # HumanEval's contract is a top-level function: a method of class Solution fails, as in the official harness.
    method = "class Solution:\n    def add(self, a, b):\n        return a + b\n"
    as_method = judge(executor, ADD, method, "python")
    assert not as_method.passed and "no top-level function 'add'" in as_method.detail
    missing = judge(executor, ADD, "def plus(a, b):\n    return a + b\n", "python")
    assert missing.status == "runtime_error" and "no top-level function 'add'" in missing.detail
    # A LeetCode-style problem names its class: the method is the entry, a bare function is not.
    leetcode = dataclasses.replace(ADD, entry_class="Solution", test_code=None)
    assert judge(executor, leetcode, method, "python").passed
    bare = judge(executor, leetcode, good, "python")
    assert not bare.passed and "no class 'Solution' with a method 'add'" in bare.detail


def test_judge_with_only_a_harness_ignores_the_docstring_examples(executor: Executor) -> None:
    # HumanEval/47's docstring says median([-10, 4, 6, 1000, 10, 20]) is 15.0; its harness (and the truth) 8.0.
    median = Problem(name="median", description="Return the median of l.", kind="function", entry_point="median",
                     signature="def median(l: list):\n", public_tests=(Test("[[-10, 4, 6, 1000, 10, 20]]", "15.0"),),
                     test_code="def check(candidate):\n    assert candidate([-10, 4, 6, 1000, 10, 20]) == 8.0\n")
    right = ("def median(l):\n    s = sorted(l)\n    n = len(s)\n"
             "    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2\n")
    assert judge(executor, median, right, "python") == Verdict(True, 1, 1, None, "ok", "all 1 tests passed")
    assert not judge(executor, median, "def median(l):\n    return 15.0\n", "python").passed
    # Asked for the examples, it runs them.
    assert not judge(executor, median, right, "python", tests=median.public_tests).passed


def test_verdict_is_validated() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        Verdict(False, 1, 0, 0, "bad", "")
    with pytest.raises(ValueError, match="num_passed must be in"):
        Verdict(True, 1, 2, None, "ok", "")
    with pytest.raises(ValueError, match="passed must be False"):
        Verdict(True, 1, 0, 0, "wrong_answer", "")


def test_the_problem_harness_carries_what_the_functions_derive() -> None:
    for problem in (ADD, ECHO):
        h = ProblemHarness.of(problem, time_limit_s=0.5)
        assert h.limits == limits_for(problem, 0.5) and h.compare == compare_options(problem)
        assert (list(h.example_inputs), list(h.example_expected)) == io_for_tests(problem, problem.public_tests)
        assert h.program("x = 1", "python") == program_for(problem, "x = 1", "python")


def test_generated_inputs_run_at_a_share_of_the_limit_only_where_a_function_problem_states_none() -> None:
    from alphagen.cluster_runs import cluster_survivors
    from alphagen.problems.harness import UNSTATED_LIMIT_SHARE
    from alphagen.results import Candidate
    from sandbox.interface import BatchExecutor, BatchRequest
    from sandbox.values import Result, Status

    unstated = dataclasses.replace(ADD, limits_given=False)
    h = ProblemHarness.of(unstated)
    assert h.limits == limits_for(unstated)
    assert h.generated_limits == dataclasses.replace(h.limits, time_s=h.limits.time_s * UNSTATED_LIMIT_SHARE)
    # Stated limits, a caller's time limit, and stdio problems (their inputs may be at contest scale): unchanged.
    for harness in (ProblemHarness.of(ADD), ProblemHarness.of(unstated, time_limit_s=3.0),
                    ProblemHarness.of(dataclasses.replace(ECHO, limits_given=False))):
        assert harness.generated_limits == harness.limits

    class Recording(BatchExecutor):
        def __init__(self) -> None:
            self.limits: set[float] = set()

        def execute(self, request: BatchRequest):  # type: ignore[no-untyped-def]
            self.limits.add(request.limits.time_s)
            for p, i in request.todo():
                yield Result(p, i, Status.OK, stdout=b"3\n")

    # Clustering runs the survivors on generated inputs at those limits.
    ex = Recording()
    pool = [Candidate(index=i, language="python", code="def add(a, b):\n    return a + b\n", passed_examples=True)
            for i in range(2)]
    cluster_survivors(h, pool, ["[1, 1]", "[0, 3]"], ex)
    assert ex.limits == {h.generated_limits.time_s}
