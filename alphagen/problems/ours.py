"""Our own JSON problem format (see the README, "Problems"): validated reading, and writing."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from alphagen.problems.errors import type_name
from alphagen.problems.fields import IDENTIFIER_RE, NAME_RE, Row
from alphagen.problems.model import (
    DEFAULT_MEMORY_LIMIT_MB,
    DEFAULT_TIME_LIMIT_S,
    Checker,
    HiddenTests,
    Problem,
    Solution,
    Test,
)

# Every key the format knows; anything else is most likely a typo ("privat_tests") and is reported.
# Keys starting with "_" are free-form comments and ignored.
KNOWN_KEYS = frozenset(
    {
        "name",
        "kind",
        "description",
        "time_limit",
        "memory_limit",
        "rating",
        "tags",
        "checker",
        "public_tests",
        "private_tests",
        "generated_tests",
        "solution",
        "solutions",
        "validator",
        "entry_point",
        "entry_class",
        "signature",
        "test_code",
        "multiple_answers",
        "difficulty",
    }
)
# Bounds that catch unit mistakes (milliseconds for seconds, bytes for MiB) rather than police taste.
MAX_TIME_LIMIT_S = 60.0
MAX_MEMORY_LIMIT_MB = 65536


def looks_like_ours(data: Mapping[str, Any]) -> bool:
    return "name" in data and "description" in data and not isinstance(data.get("public_tests"), dict)


def parse_ours(data: dict[str, Any], where: str) -> Problem:
    """Validate one problem object in our format; raises ProblemError naming `where` and the field."""
    row = Row(data, where)
    for key in data:
        if key not in KNOWN_KEYS and not key.startswith("_"):
            raise row.error(key, "unknown field (comments go in keys starting with '_')")
    name = row.required_string("name")
    if not NAME_RE.match(name):
        raise row.error("name", f"must match [a-z0-9_.-]+, got {name!r}")
    kind = row.string("kind", required=False) or "stdio"
    if kind not in ("stdio", "function"):
        raise row.error("kind", f"must be 'stdio' or 'function', got {kind!r}")
    description = row.required_string("description")
    # Tests: public ones are required because the filter stage has nothing else to run.
    # Function problems with a hidden harness may lack examples (12 HumanEval docstrings have none parseable).
    harness_only = kind == "function" and row.has("test_code")
    public = row.tests("public_tests", required=not harness_only)
    private = row.tests("private_tests", required=False)
    generated = row.tests("generated_tests", required=False)
    entry_point = row.string("entry_point", required=False)
    if kind == "function":
        if entry_point is None or not IDENTIFIER_RE.match(entry_point):
            raise row.error("entry_point", f"function problems need a Python identifier, got {entry_point!r}")
        for key, tests in (
            ("public_tests", public),
            ("private_tests", private),
            ("generated_tests", generated),
        ):
            check_function_tests(row, key, tests)
    return Problem(
        name=name,
        description=description,
        kind="function" if kind == "function" else "stdio",
        public_tests=public,
        private_tests=HiddenTests(private),
        generated_tests=HiddenTests(generated),
        time_limit_s=row.number("time_limit", DEFAULT_TIME_LIMIT_S, minimum=0.01, maximum=MAX_TIME_LIMIT_S),
        memory_limit_mb=row.integer("memory_limit", DEFAULT_MEMORY_LIMIT_MB, minimum=16, maximum=MAX_MEMORY_LIMIT_MB)
        or DEFAULT_MEMORY_LIMIT_MB,
        rating=row.integer("rating", None, minimum=0, maximum=10000),
        tags=row.string_list("tags"),
        checker=parse_checker(row),
        entry_point=entry_point,
        entry_class=_entry_class(row, kind),
        signature=row.string("signature", required=False),
        test_code=row.string("test_code", required=False),
        solutions=parse_solutions(row),
        validator=row.string("validator", required=False, nonempty=True),
        multiple_answers=row.boolean("multiple_answers", False),
        difficulty=row.string("difficulty", required=False),
        limits_given=row.has("time_limit"),
        source=f"{where} (ours)",
    )


def _entry_class(row: Row, kind: str) -> str | None:
    """LeetCode-style problems name the class whose method is the entry point; the rest call a function."""
    entry_class = row.string("entry_class", required=False)
    if entry_class is not None and (kind != "function" or not IDENTIFIER_RE.match(entry_class)):
        raise row.error("entry_class", f"must be a Python identifier on a function problem, got {entry_class!r}")
    return entry_class


def check_function_tests(row: Row, key: str, tests: tuple[Test, ...]) -> None:
    """Function tests carry JSON: the input an array of arguments, the output the return value."""
    for i, test in enumerate(tests):
        try:
            args = json.loads(test.input)
        except ValueError as e:
            raise row.error(f"{key}[{i}].input", f"must be a JSON array of arguments: {e}") from None
        if not isinstance(args, list):
            raise row.error(f"{key}[{i}].input", f"must be a JSON array of arguments, got {type_name(args)}")
        try:
            json.loads(test.output)
        except ValueError as e:
            raise row.error(f"{key}[{i}].output", f"must be the JSON of the return value: {e}") from None


def parse_checker(row: Row) -> Checker:
    if not row.has("checker"):
        return Checker()
    sub = row.child("checker")
    mode = sub.string("mode", required=False) or "tokens"
    if mode not in ("tokens", "external"):
        raise sub.error("mode", f"must be 'tokens' or 'external', got {mode!r}")
    program = sub.string("program", required=mode == "external", nonempty=True)
    float_abs = sub.number("float_abs", -1.0, minimum=0.0, maximum=1e9)
    float_rel = sub.number("float_rel", -1.0, minimum=0.0, maximum=1e9)
    return Checker(
        mode="external" if mode == "external" else "tokens",
        float_abs=None if float_abs < 0 else float_abs,
        float_rel=None if float_rel < 0 else float_rel,
        case_insensitive=sub.boolean("case_insensitive", False),
        program=program,
    )


def parse_solutions(row: Row) -> tuple[Solution, ...]:
    """`solution` (one object) and/or `solutions` (a list of them)."""
    found: list[Solution] = []
    if row.has("solution"):
        found.append(row.solution("solution"))
    if row.has("solutions"):
        items = row.get("solutions")
        if not isinstance(items, list):
            raise row.error("solutions", f"must be a list of {{language, code}} objects, got {type_name(items)}")
        holder = Row({f"solutions[{i}]": item for i, item in enumerate(items)}, row.where, row.prefix)
        found.extend(holder.solution(f"solutions[{i}]") for i in range(len(items)))
    return tuple(found)


def _tests_json(tests: Iterable[Test]) -> list[dict[str, str]]:
    return [{"input": t.input, "output": t.output} for t in tests]


def to_dict(problem: Problem) -> dict[str, Any]:
    """The problem in our format (hidden tests and references included): what `import-humaneval` writes."""
    out: dict[str, Any] = {"name": problem.name, "kind": problem.kind, "description": problem.description}
    # A defaulted time limit stays implicit, so a reader knows it was never stated.
    if problem.limits_given:
        out["time_limit"] = problem.time_limit_s
    out["memory_limit"] = problem.memory_limit_mb
    if problem.rating is not None:
        out["rating"] = problem.rating
    if problem.tags:
        out["tags"] = list(problem.tags)
    if problem.difficulty is not None:
        out["difficulty"] = problem.difficulty
    c = problem.checker
    if c != Checker():
        out["checker"] = {k: v for k, v in vars(c).items() if v is not None}
    out["public_tests"] = _tests_json(problem.public_tests)
    out["private_tests"] = _tests_json(problem.private_tests)
    if len(problem.generated_tests):
        out["generated_tests"] = _tests_json(problem.generated_tests)
    if problem.solutions:
        out["solutions"] = [{"language": s.language, "code": s.code} for s in problem.solutions]
    for key in ("validator", "entry_point", "entry_class", "signature", "test_code"):
        if getattr(problem, key) is not None:
            out[key] = getattr(problem, key)
    if problem.multiple_answers:
        out["multiple_answers"] = True
    return out
