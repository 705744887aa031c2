"""One status vocabulary: how a program did on tests, how a problem's references did, how a bench problem ended.

`TestStatus` is `sandbox.Status` (how one execution ended) plus the outcomes only a comparison or a judge can
name. Python enums with members cannot be subclassed, so it repeats sandbox's members with the same names and
values (`from_sandbox` maps one to the other, and an import-time check keeps the two aligned). All are StrEnums:
a member equals, prints and serializes as its value, so stored JSON and printed text stay what they were.
"""

from __future__ import annotations

from enum import StrEnum

from sandbox import Status


class TestStatus(StrEnum):
    """How one program did on one test or on a set of tests ('ok' only when everything ran and matched)."""

    __test__ = False  # not a pytest test class, despite its name

    # The sandbox's own statuses (sandbox.Status), same names and values.
    OK = "ok"
    RUNTIME_ERROR = "runtime_error"
    TIME_LIMIT = "time_limit"
    MEMORY_LIMIT = "memory_limit"
    OUTPUT_LIMIT = "output_limit"
    COMPILE_ERROR = "compile_error"
    SANDBOX_ERROR = "sandbox_error"
    # It ran to the end, but its output did not match.
    WRONG_ANSWER = "wrong_answer"
    # A judge's verdict on a problem with nothing to judge on.
    NO_TESTS = "no_tests"
    # A candidate's example status when it never reached the sandbox (an interrupted overlap).
    NOT_RUN = "not_run"

    @classmethod
    def from_sandbox(cls, status: Status) -> TestStatus:
        """The same outcome in this vocabulary."""
        return cls(status.value)


# Fail at import, not in a benchmark, if sandbox.Status gains a member this vocabulary does not carry.
assert {s.value for s in Status} <= {t.value for t in TestStatus}, "TestStatus must extend sandbox.Status"

VERDICT_STATUSES = frozenset(s.value for s in TestStatus if s is not TestStatus.NOT_RUN)
"""What a judge's Verdict may say (every judged program ran, or there were no tests)."""


class ReferenceStatus(StrEnum):
    """How a problem's reference solutions did on all its tests (`alphagen check`)."""

    PASS = "pass"
    SLOW = "slow"
    """Passes, but only above the default time limit of a problem whose data gave none."""
    MISMATCH = "mismatch"
    MULTIPLE_ANSWERS = "multiple answers"
    """Only wrong answers, on a problem that admits several."""
    NO_REFERENCE = "no reference"
    """Nothing runnable to check."""


class RunStatus(StrEnum):
    """How one problem of a bench run ended: solved and judged, or an error kept in its record."""

    OK = "ok"
    ERROR = "error"
