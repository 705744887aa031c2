"""Run every reference solution on every test of its problem: what `alphagen check` reports.

All references of all problems go through as few `run_batch` calls as possible (one per distinct limits,
plus one per problem with an external checker), so the executor keeps every worker slot busy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from alphagen.hidden_check import CheckTarget, run_hidden_checks
from alphagen.judging import describe, result_status
from alphagen.problems.harness import ProblemHarness
from alphagen.problems.model import Problem, Solution
from alphagen.statuses import ReferenceStatus, TestStatus
from sandbox import BatchExecutor, CompareOptions, Limits, Program, Result, compare_outputs

REPORT_STATUSES = tuple(s.value for s in ReferenceStatus)
SLOW_LIMIT_S = 10.0
"""A reference over a *defaulted* time limit is run again with this one: passing, it is reported as slow."""


@dataclass(frozen=True)
class ReferenceReport:
    """The outcome of a problem's reference solutions on all its tests."""

    problem: str
    """Problem name."""
    status: ReferenceStatus
    """'pass'; 'slow' (passes, but only above the default time limit of a problem whose data gave none);
    'mismatch'; 'multiple answers' (only wrong answers, on a problem that admits several);
    'no reference' (nothing runnable to check)."""
    references: int
    """How many references ran."""
    runs: int
    """Executions planned: references x tests (the harness of a function problem counts as a test)."""
    failures: tuple[str, ...] = ()
    """One line per failing reference: which test and why."""

    def __post_init__(self) -> None:
        if self.status not in REPORT_STATUSES:
            raise ValueError(f"status must be one of {REPORT_STATUSES}, got {str(self.status)!r}")
        object.__setattr__(self, "status", ReferenceStatus(self.status))


@dataclass(frozen=True)
class _Job:
    """One (reference, test) execution and what decides it."""

    problem: int
    reference: int
    test: int
    total: int
    expected: str
    compare: CompareOptions


Plan = dict[tuple[Limits, int], list[tuple[Program, list[tuple[str, _Job]]]]]
Failures = dict[tuple[int, int], tuple[int, Result]]


def _plan(
    problems: Sequence[Problem], only: set[tuple[int, int]] | None = None, time_limit_s: float | None = None
) -> Plan:
    """Group (program, [(input, job)]) by the run_batch call that can carry them.

    Key: the limits plus, for problems with an external checker, the problem index (its checker must go in the
    call's compare options); -1 for everything compared afterwards in this process. `only` restricts the plan
    to some (problem, reference) pairs; `time_limit_s` overrides every problem's limit."""
    groups: Plan = defaultdict(list)
    for pi, problem in enumerate(problems):
        context = ProblemHarness.of(problem, time_limit_s)
        compare, limits = context.compare, context.limits
        key = (limits, pi if compare.checker is not None else -1)
        tests = problem.public_tests + problem.hidden_tests()
        inputs, expected = context.io(tests)
        for ri, solution in enumerate(runnable(problem)):
            if only is not None and (pi, ri) not in only:
                continue
            total = _tests_per_reference(problem)
            jobs = [(inputs[ti], _Job(pi, ri, ti, total, expected[ti], compare)) for ti in range(len(tests))]
            groups[key].append((context.program(solution.code, solution.language), jobs))
    return groups


def _check_harnesses(
    executor: BatchExecutor,
    problems: Sequence[Problem],
    failures: Failures,
    only: set[tuple[int, int]] | None,
    time_limit_s: float | None,
    on_result: Callable[[], None] | None,
) -> None:
    """Each reference on its problem's hidden harness (the last test), out of process like every judgement."""
    for pi, problem in enumerate(problems):
        target = CheckTarget.of(problem)
        if target is None:
            continue
        refs = [ri for ri in range(len(runnable(problem))) if only is None or (pi, ri) in only]
        codes = [runnable(problem)[ri].code for ri in refs]
        limits = ProblemHarness.of(problem, time_limit_s).limits
        test = len(problem.public_tests) + len(problem.hidden_tests())
        for ri, result in zip(refs, run_hidden_checks(executor, target, codes, limits), strict=True):
            key = (pi, ri)
            if result_status(result) != TestStatus.OK and (key not in failures or failures[key][0] > test):
                failures[key] = (test, result)
            if on_result is not None:
                on_result()


def runnable(problem: Problem) -> list[Solution]:
    """References we can run: function problems take Python only."""
    return [s for s in problem.solutions if problem.kind == "stdio" or s.language == "python"]


def _tests_per_reference(problem: Problem) -> int:
    harness = 1 if problem.kind == "function" and problem.test_code else 0
    return len(problem.public_tests) + len(problem.hidden_tests()) + harness


def count_runs(problems: Sequence[Problem]) -> int:
    """Executions check_references plans in its main pass (for a progress bar's total)."""
    return sum(len(runnable(p)) * _tests_per_reference(p) for p in problems)


def _execute(executor: BatchExecutor, plan: Plan, on_result: Callable[[], None] | None) -> Failures:
    """Run a plan; the first failing test of each (problem, reference)."""
    failures: Failures = {}
    for (limits, external), entries in plan.items():
        programs = [program for program, _ in entries]
        inputs: list[str] = []
        pairs: list[tuple[int, int]] = []
        jobs: list[_Job] = []
        for pi, (_, runs) in enumerate(entries):
            for text, job in runs:
                pairs.append((pi, len(inputs)))
                inputs.append(text)
                jobs.append(job)
        # With an external checker the executor compares (it sandboxes the checker); else we do, here.
        if external >= 0:
            stream = executor.run_batch(
                programs,
                inputs,
                limits,
                expected=[j.expected for j in jobs],
                compare=jobs[0].compare,
                stop_on_first_failure=True,
                pairs=pairs,
            )
        else:
            stream = executor.run_batch(programs, inputs, limits, stop_on_first_failure=True, pairs=pairs)
        for result in stream:
            job = jobs[result.input_index]
            if external < 0 and result.passed is None and result_status(result) == TestStatus.OK:
                result = replace(result, passed=compare_outputs(job.expected, result.stdout, job.compare))
            if result_status(result) != TestStatus.OK:
                key = (job.problem, job.reference)
                if key not in failures or failures[key][0] > job.test:
                    failures[key] = (job.test, result)
            if on_result is not None:
                on_result()
    return failures


def check_references(
    executor: BatchExecutor, problems: Sequence[Problem], on_result: Callable[[], None] | None = None
) -> list[ReferenceReport]:
    """Run each problem's references on all its tests; one report per problem, in input order."""
    failures = _execute(executor, _plan(problems), on_result)
    _check_harnesses(executor, problems, failures, None, None, on_result)
    # A time limit nobody stated cannot condemn a reference: rerun those with a generous one.
    slow = {
        key
        for key, (_, result) in failures.items()
        if result_status(result) == TestStatus.TIME_LIMIT and not problems[key[0]].limits_given
    }
    if slow:
        again = _execute(executor, _plan(problems, only=slow, time_limit_s=SLOW_LIMIT_S), None)
        _check_harnesses(executor, problems, again, slow, SLOW_LIMIT_S, None)
        for key in slow:
            if key in again:
                failures[key] = again[key]
            else:
                del failures[key]
        slow -= set(again)
    return [_report(pi, p, failures, slow) for pi, p in enumerate(problems)]


def _report(pi: int, problem: Problem, failures: Failures, slow: set[tuple[int, int]]) -> ReferenceReport:
    refs = runnable(problem)
    total = _tests_per_reference(problem)
    if not refs:
        return ReferenceReport(problem.name, ReferenceStatus.NO_REFERENCE, 0, 0)
    lines, statuses = [], []
    for ri in range(len(refs)):
        if (pi, ri) in failures:
            test, result = failures[(pi, ri)]
            statuses.append(result_status(result))
            lines.append(f"reference {ri + 1}: {describe(result, test, total)}")
    slow_lines = [
        f"reference {ri + 1}: passes only with a {SLOW_LIMIT_S:g} s limit "
        f"(the data states none; the default is {problem.time_limit_s:g} s)"
        for ri in range(len(refs))
        if (pi, ri) in slow
    ]
    if not lines:
        status = ReferenceStatus.SLOW if slow_lines else ReferenceStatus.PASS
    elif problem.multiple_answers and all(s == TestStatus.WRONG_ANSWER for s in statuses):
        status = ReferenceStatus.MULTIPLE_ANSWERS
    else:
        status = ReferenceStatus.MISMATCH
    return ReferenceReport(problem.name, status, len(refs), len(refs) * total, tuple(lines + slow_lines))
