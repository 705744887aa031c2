"""Problems: the frozen `Problem` model, the loaders for our format and CodeContests/APPS/HumanEval/LiveCodeBench
rows.

`alphagen.problems.harness` (which needs the sandbox package) turns a problem into sandbox programs and tests.
"""

from alphagen.problems.errors import ProblemError
from alphagen.problems.loader import load_problem, load_problems, parse_row, released_since
from alphagen.problems.model import (
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIME_LIMIT_S,
    Checker,
    HiddenTests,
    Problem,
    PublicView,
    Solution,
    Test,
)

__all__ = [
    "DEFAULT_MEMORY_LIMIT_MB",
    "DEFAULT_TIME_LIMIT_S",
    "Checker",
    "HiddenTests",
    "Problem",
    "ProblemError",
    "PublicView",
    "Solution",
    "Test",
    "load_problem",
    "load_problems",
    "parse_row",
    "released_since",
]
