"""Judge one program on a problem's tests in the sandbox: the verdict picks and benchmarks report."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from alphagen.hidden_check import CheckTarget, run_hidden_checks
from alphagen.problems.harness import ProblemHarness, has_harness
from alphagen.problems.model import Problem, Test
from alphagen.statuses import VERDICT_STATUSES, TestStatus
from sandbox import BatchExecutor, CompareOptions, Limits, Program, Result, Status

STATUSES = VERDICT_STATUSES
"""What a Verdict may say (alphagen.statuses: sandbox.Status plus wrong_answer and no_tests)."""


@dataclass(frozen=True)
class Verdict:
    """How one program did on a problem's tests."""

    passed: bool
    """True iff every test ran and matched."""
    num_tests: int
    """Tests judged on (the hidden harness of a function problem counts as one)."""
    num_passed: int
    """Tests that ran and matched (with stop_on_first_failure, later tests are not run)."""
    first_failure: int | None
    """0-based index of the first failing test (the harness is index num_tests - 1), None if all passed."""
    status: TestStatus
    """'ok', or the first failure's kind: wrong_answer, runtime_error, time_limit, memory_limit, ..."""
    detail: str = ""
    """One line for people: which test and why (never the expected output of a hidden test)."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}, got {str(self.status)!r}")
        # A plain string of the vocabulary (a caller's literal, a stored record) becomes its member.
        object.__setattr__(self, "status", TestStatus(self.status))
        if not 0 <= self.num_passed <= self.num_tests:
            raise ValueError(f"num_passed must be in [0, {self.num_tests}], got {self.num_passed}")
        if self.passed != (self.status == TestStatus.OK):
            raise ValueError(f"passed must be {self.status == TestStatus.OK} for status {str(self.status)!r}")


def result_status(result: Result) -> TestStatus:
    """The verdict status of one execution: a non-ok sandbox status, else wrong_answer unless it matched."""
    if result.status is not Status.OK:
        return TestStatus.from_sandbox(result.status)
    return TestStatus.OK if result.passed is not False else TestStatus.WRONG_ANSWER


def describe(result: Result, index: int, total: int) -> str:
    """One line naming the test and the reason; the program's own output only, never the expected one."""
    status = result_status(result)
    where = f"test {index + 1}/{total}: {status.replace('_', ' ')}"
    if status == TestStatus.WRONG_ANSWER:
        got = result.stdout[:60].decode("utf-8", "replace")
        return f"{where} (got {got!r}{'...' if len(result.stdout) > 60 else ''})"
    text = (result.stderr.decode("utf-8", "replace").strip() or result.detail).strip().splitlines()
    if status == TestStatus.COMPILE_ERROR:
        # A compiler's first "error" line names the cause; its last line is often a caret or a bracket.
        first = next((line for line in text if "error" in line.lower()), text[0] if text else "")
        return f"{where}: {first.strip()[:200]}" if first else where
    # The last stderr line names a Python exception best ("ZeroDivisionError: ..."); detail covers the rest.
    return f"{where}: {text[-1][:200]}" if text else where


def run_tests(
    executor: BatchExecutor,
    program: Program,
    inputs: Sequence[str],
    expected: Sequence[str],
    limits: Limits,
    compare: CompareOptions,
    stop_on_first_failure: bool,
) -> list[Result]:
    """Results of one program on the inputs, in input order (the executor yields them in any order)."""
    if not inputs:
        return []
    # Verdicts on hidden tests: one fresh child per test (a program sharing a child between its tests could
    # shift its own output or CPU time from one test to another). Every BatchExecutor takes the cap.
    results = executor.run_batch(
        [program],
        list(inputs),
        limits,
        expected=list(expected),
        compare=compare,
        stop_on_first_failure=stop_on_first_failure,
        tests_per_child=1,
    )
    return sorted(results, key=lambda r: r.input_index)


def judge(
    executor: BatchExecutor,
    problem: Problem,
    code: str,
    language: str,
    tests: Iterable[Test] | None = None,
    stop_on_first_failure: bool = True,
    time_limit_s: float | None = None,
    memory_limit_mb: int | None = None,
) -> Verdict:
    """Run `code` on `tests` (default: the hidden tests, or the public ones when a problem has none).

    Function problems with `test_code` judged on their default tests also run the hidden harness
    (`check(entry_point)`) as one extra, last test; with no hidden tests besides it, the harness is the only test.
    """
    default_tests = tests is None
    # The problem's execution context, derived once for this judgement.
    context = ProblemHarness.of(problem, time_limit_s, memory_limit_mb)
    hidden = problem.hidden_tests()
    if tests is not None:
        chosen = tuple(tests)
    elif hidden or not has_harness(problem):
        chosen = hidden or problem.public_tests
    else:
        # Its own test harness and nothing else hidden (HumanEval): the harness alone decides, as the official
        # one does; the docstring's examples are not tests (HumanEval/47's and /116's contradict the harness).
        chosen = ()
    limits, compare = context.limits, context.compare
    inputs, expected = context.io(chosen)
    program = context.program(code, language)
    results = run_tests(executor, program, inputs, expected, limits, compare, stop_on_first_failure)
    if stop_on_first_failure:
        results = _first_failure_in_order(executor, program, inputs, expected, limits, compare, results)
    target = CheckTarget.of(problem) if default_tests else None
    total = len(chosen) + (1 if target else 0)
    if total == 0:
        return Verdict(False, 0, 0, None, TestStatus.NO_TESTS, "the problem has no tests to judge on")
    # The harness runs unless an earlier test already failed and the caller wants to stop there. It runs out
    # of process: the candidate never shares a process with `check` (alphagen.hidden_check).
    failed_early = any(result_status(r) != TestStatus.OK for r in results)
    if target is not None and not (failed_early and stop_on_first_failure):
        for r in run_hidden_checks(executor, target, [code], limits):
            results.append(_reindexed(r, len(chosen)))
    return _verdict(results, total)


def _first_failure_in_order(
    executor: BatchExecutor,
    program: Program,
    inputs: Sequence[str],
    expected: Sequence[str],
    limits: Limits,
    compare: CompareOptions,
    results: list[Result],
) -> list[Result]:
    """The results up to the first failing test in test order, the same on every run.

    Tests run in parallel, so the failure that stopped the batch is whichever arrived first, and tests before it
    may not have run: run those, then keep only the results before and at the first failure in index order."""
    failures = [r.input_index for r in results if result_status(r) != TestStatus.OK]
    if not failures:
        return results
    have = {r.input_index for r in results}
    missing = [i for i in range(min(failures)) if i not in have]
    if missing:
        more = run_tests(executor, program, [inputs[i] for i in missing], [expected[i] for i in missing], limits,
                         compare, False)
        results = results + [_reindexed(r, missing[r.input_index]) for r in more]
    first = min(r.input_index for r in results if result_status(r) != TestStatus.OK)
    return sorted((r for r in results if r.input_index <= first), key=lambda r: r.input_index)


def _reindexed(result: Result, index: int) -> Result:
    from dataclasses import replace

    return replace(result, input_index=index)


def _verdict(results: list[Result], total: int) -> Verdict:
    passed = [r for r in results if result_status(r) == TestStatus.OK]
    failures = [r for r in results if result_status(r) != TestStatus.OK]
    if not failures and len(passed) == total:
        return Verdict(True, total, total, None, TestStatus.OK, f"all {total} tests passed")
    if not failures:
        # Fewer results than tests without a failure: some were skipped: that is no pass.
        return Verdict(
            False, total, len(passed), len(passed), TestStatus.SANDBOX_ERROR, "some tests produced no result"
        )
    first = min(failures, key=lambda r: r.input_index)
    return Verdict(
        False,
        total,
        len(passed),
        first.input_index,
        result_status(first),
        describe(first, first.input_index, total),
    )
