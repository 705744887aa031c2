"""DeepMind CodeContests rows, as in its JSON/parquet export, read as they are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from alphagen.problems.errors import type_name
from alphagen.problems.fields import Row, slug
from alphagen.problems.model import (
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIME_LIMIT_S,
    Checker,
    HiddenTests,
    Problem,
    Solution,
    Test,
)

# CodeContests' Language enum: 0 UNKNOWN, 1 PYTHON (2.x), 2 CPP, 3 PYTHON3, 4 JAVA. We run Python 3 and C++.
LANGUAGES = {3: "python", 2: "cpp"}
_CC_KEYS = frozenset({"cf_contest_id", "cf_index", "cf_rating", "cf_tags", "memory_limit_bytes", "incorrect_solutions"})

# Statements that accept several outputs; used only when no index.json says so for the row.
_MULTI_RE = re.compile(
    r"(print|output|find|return) any( one)? (of )?(them|such|valid|correct|possible|answer|solution|suitable)"
    r"|any of (them|the answers|the solutions) (is|are|will be) (accepted|correct|acceptable)"
    r"|if there are (multiple|several|many) (possible |valid |correct )?(answers|solutions)",
    re.IGNORECASE,
)
# "absolute or relative error does not exceed 10^{-6}" and friends.
_ERROR_RE = re.compile(r"(absolute|relative)[^.]{0,80}?error[^.]{0,120}?10\s*\^\s*\{?\s*-\s*(\d+)", re.IGNORECASE)
_FLOAT_TOKEN = re.compile(r"^-?\d+\.\d+$")


def looks_like_codecontests(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("public_tests"), Mapping) or any(k in data for k in _CC_KEYS)


def _tests(row: Row, key: str) -> tuple[Test, ...]:
    """`{"input": [...], "output": [...]}` (parallel lists); missing or null means none."""
    if not row.has(key):
        return ()
    sub = row.child(key)
    inputs, outputs = _strings(sub, "input"), _strings(sub, "output")
    if len(inputs) != len(outputs):
        raise sub.error("output", f"must have one output per input ({len(inputs)} inputs, {len(outputs)} outputs)")
    return tuple(Test(input=i, output=o) for i, o in zip(inputs, outputs, strict=True))


def _strings(sub: Row, part: str) -> list[str]:
    """One of the parallel lists (missing, null or empty: none), each item checked to be a string."""
    values = sub.get(part) or []
    if not isinstance(values, list):
        raise sub.error(part, f"must be a list of strings, got {type_name(values)}")
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise sub.error(f"{part}[{i}]", f"must be a string, got {type_name(v)}")
    return values


def _time_limit(row: Row, default: float = DEFAULT_TIME_LIMIT_S) -> float:
    """`{seconds, nanos}` or null; zero or missing means the documented default."""
    value = row.get("time_limit")
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value) if value > 0 else default
    sub = row.child("time_limit")
    seconds = sub.integer("seconds", 0, minimum=0, maximum=3600) or 0
    nanos = sub.integer("nanos", 0, minimum=0, maximum=999_999_999) or 0
    total = seconds + nanos / 1e9
    return total if total > 0 else default


def _solutions(row: Row) -> tuple[Solution, ...]:
    """Python 3 and C++ solutions from `{"language": [int], "solution": [str]}`; others skipped."""
    if not row.has("solutions"):
        return ()
    sub = row.child("solutions")
    languages, codes = sub.get("language") or [], sub.get("solution") or []
    if not isinstance(languages, list) or not isinstance(codes, list) or len(languages) != len(codes):
        raise sub.error("solution", "must be parallel lists 'language' (ints) and 'solution' (strings)")
    found = []
    for i, (lang, code) in enumerate(zip(languages, codes, strict=True)):
        if not isinstance(code, str):
            raise sub.error(f"solution[{i}]", f"must be a string, got {type_name(code)}")
        if lang in LANGUAGES:
            found.append(Solution(language="python" if LANGUAGES[lang] == "python" else "cpp", code=code))
    return tuple(found)


def float_checker(description: str, tests: tuple[Test, ...]) -> Checker:
    """A float tolerance when the statement grants one, or 1e-6 (Codeforces' usual) when answers are decimals:
    CodeContests statements often lose the "absolute or relative error" note, and its judges used checkers."""
    match = _ERROR_RE.search(description)
    if match:
        tol = 10.0 ** -int(match.group(2))
        return Checker(float_abs=tol, float_rel=tol)
    if any(_FLOAT_TOKEN.match(tok) for t in tests for tok in t.output.split()):
        return Checker(float_abs=1e-6, float_rel=1e-6)
    return Checker()


def statement_allows_several(description: str) -> bool:
    return bool(_MULTI_RE.search(description))


def parse_codecontests(data: Mapping[str, Any], where: str, multiple_answers: bool | None = None) -> Problem:
    """One CodeContests row. `multiple_answers` comes from index.json when the folder has one."""
    row = Row(data, where)
    title = row.required_string("name")
    description = row.required_string("description")
    public = _tests(row, "public_tests")
    if not public:
        raise row.error("public_tests", "must hold at least one test, got none")
    private, generated = _tests(row, "private_tests"), _tests(row, "generated_tests")
    memory_bytes = row.integer("memory_limit_bytes", 0, minimum=0, maximum=1 << 40) or 0
    rating = row.integer("cf_rating", None, minimum=0, maximum=10000)
    letter = row.string("cf_index", required=False)
    return Problem(
        name=slug(title),
        description=description,
        kind="stdio",
        public_tests=public,
        private_tests=HiddenTests(private),
        generated_tests=HiddenTests(generated),
        time_limit_s=_time_limit(row),
        memory_limit_mb=max(16, memory_bytes >> 20) if memory_bytes else DEFAULT_MEMORY_LIMIT_MB,
        rating=rating or None,  # 0 means unrated in CodeContests
        tags=row.string_list("cf_tags"),
        checker=float_checker(description, public + private + generated),
        solutions=_solutions(row),
        multiple_answers=statement_allows_several(description) if multiple_answers is None else multiple_answers,
        difficulty=letter or None,
        limits_given=_time_limit(row, default=0.0) > 0,
        source=f"{where} (codecontests)",
    )
