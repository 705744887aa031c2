"""How a problem is run in the sandbox: a candidate's program, limits, compare options, test I/O.

The functions derive one piece each; ProblemHarness derives them all once for a solve and carries them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from alphagen.problems.driver import call_driver, render_json_text
from alphagen.problems.model import Problem, Test
from sandbox import CompareOptions, Language, Limits, Program

UNSTATED_LIMIT_SHARE = 0.25
"""A function problem that states no limits (HumanEval) runs its survivors on generated inputs (the test-input
checks, clustering) at this share of the default time limit. Its examples and the judge keep the default (the
official harness allows 3 s); a docstring-sized input runs in milliseconds, so the default only prices the loops:
HumanEval/13's mutated `gcd(3, 0)` sends a subtraction loop forever, and two such runs at 2 s were 4 s of checks
against 4.5 s of sampling (#29, item 6)."""

# Function results are compared as rendered JSON tokens; this tolerance makes 1 == 1.0 and 0.1 + 0.2 == 0.3,
# as Python's `==` (and float round-off) would, when the problem names no tolerance of its own.
FUNCTION_FLOAT_TOLERANCE = 1e-9


def _language(language: str | Language) -> Language:
    try:
        return Language(language)
    except ValueError:
        raise ValueError(f"language must be 'python' or 'cpp', got {language!r}") from None


def program_for(problem: Problem, code: str, language: str | Language) -> Program:
    """The sandbox program for a candidate: stdio code as is; function code wrapped by the calling driver."""
    lang = _language(language)
    if problem.kind == "stdio":
        return Program(source=code, language=lang)
    if lang is not Language.PYTHON:
        raise ValueError(f"function problems take Python code, got {lang.value}")
    assert problem.entry_point is not None  # Problem.__post_init__ guarantees it for function problems
    return Program(source=call_driver(code, problem.entry_point, problem.entry_class), language=Language.PYTHON)


def has_harness(problem: Problem) -> bool:
    """A function problem with its own test harness (`test_code` defining `check(entry_point)`, as HumanEval)."""
    return problem.kind == "function" and bool(problem.test_code) and problem.entry_point is not None


def examples_are_tests(problem: Problem) -> bool:
    """Does failing an example fail the problem? Yes (every stdio judge runs the examples as its first tests),
    unless the problem is judged by its own test harness (HumanEval: the official harness runs `check`, never the
    docstring's examples, and HumanEval/47's and /116's examples contradict `check`)."""
    return not has_harness(problem)


def compare_options(problem: Problem) -> CompareOptions:
    """Compare options from `problem.checker`; function problems get a small float tolerance by default."""
    checker = problem.checker
    if checker.mode == "external" and checker.program:
        return CompareOptions(checker=Program(source=checker.program, language=Language.PYTHON))
    float_abs, float_rel = checker.float_abs, checker.float_rel
    if problem.kind == "function" and float_abs is None and float_rel is None:
        float_abs = float_rel = FUNCTION_FLOAT_TOLERANCE
    return CompareOptions(float_abs=float_abs, float_rel=float_rel, case_insensitive=checker.case_insensitive)


def limits_for(problem: Problem, time_limit_s: float | None = None, memory_limit_mb: int | None = None) -> Limits:
    """The problem's limits, each overridable (a command-line flag, a benchmark's policy)."""
    return Limits(
        time_s=time_limit_s if time_limit_s is not None else problem.time_limit_s,
        memory_mb=memory_limit_mb if memory_limit_mb is not None else problem.memory_limit_mb,
    )


def io_for_tests(problem: Problem, tests: Iterable[Test]) -> tuple[list[str], list[str]]:
    """(stdin texts, expected stdout texts). Function tests: JSON arguments in, rendered result out."""
    tests = list(tests)
    inputs = [t.input for t in tests]
    if problem.kind == "function":
        return inputs, [render_json_text(t.output) + "\n" for t in tests]
    return inputs, [t.output for t in tests]


@dataclass(frozen=True)
class ProblemHarness:
    """How one problem's programs run, derived once (at the start of a solve, a judgement, a check) and handed
    to every stage, so no stage goes back to the problem for its limits, compare options or driver wrapping."""

    problem: Problem
    limits: Limits
    """The problem's limits with the caller's overrides applied."""
    generated_limits: Limits
    """The limits of survivors' runs on generated inputs (test-input checks, clustering): `limits`, or for a
    function problem that states none and gets no override, UNSTATED_LIMIT_SHARE of its time (see there)."""
    compare: CompareOptions
    """How outputs are compared (checker, float tolerance, case)."""
    example_inputs: tuple[str, ...]
    """The public tests' stdin texts (function problems: JSON arguments)."""
    example_expected: tuple[str, ...]
    """The public tests' expected stdout texts (function problems: the rendered result)."""

    @classmethod
    def of(
        cls, problem: Problem, time_limit_s: float | None = None, memory_limit_mb: int | None = None
    ) -> ProblemHarness:
        inputs, expected = io_for_tests(problem, problem.public_tests)
        limits = limits_for(problem, time_limit_s, memory_limit_mb)
        generated = limits
        if problem.kind == "function" and not problem.limits_given and time_limit_s is None:
            wall = None if limits.wall_s is None else limits.wall_s * UNSTATED_LIMIT_SHARE
            generated = replace(limits, time_s=limits.time_s * UNSTATED_LIMIT_SHARE, wall_s=wall)
        return cls(
            problem=problem,
            limits=limits,
            generated_limits=generated,
            compare=compare_options(problem),
            example_inputs=tuple(inputs),
            example_expected=tuple(expected),
        )

    def program(self, code: str, language: str | Language) -> Program:
        """A candidate's sandbox program (function code wrapped by the calling driver)."""
        return program_for(self.problem, code, language)

    def io(self, tests: Iterable[Test]) -> tuple[list[str], list[str]]:
        """(stdin texts, expected stdout texts) of some of the problem's tests."""
        return io_for_tests(self.problem, tests)
