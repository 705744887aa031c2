"""Judging one program on a problem's hidden tests: the one code path `bench` and `judge` share."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from alphagen.evaluation.records import VerdictLike, VerdictRecord
from alphagen.problems.model import Problem

if TYPE_CHECKING:
    from sandbox import BatchExecutor

# judge_fn(problem, code, language) -> verdict on the hidden tests (private + generated, else public).
JudgeFn = Callable[[Problem, str, str], VerdictLike]


def executor_judge(executor: BatchExecutor) -> JudgeFn:
    """The real judge (alphagen.judging.judge) bound to a shared executor."""
    from alphagen.judging import judge

    def judge_fn(problem: Problem, code: str, language: str) -> VerdictLike:
        verdict: VerdictLike = judge(executor, problem, code, language)
        return verdict

    return judge_fn


def judge_program(judge_fn: JudgeFn, problem: Problem, code: str, language: str) -> VerdictRecord:
    """Judge one program and keep what a report needs, with the wall time it took.

    Exceptions (a broken sandbox, a bad problem) propagate: a verdict that could not be reached must never be
    recorded as a wrong answer.
    """
    t0 = time.perf_counter()
    verdict = judge_fn(problem, code, language)
    return VerdictRecord.from_verdict(verdict, time.perf_counter() - t0)
