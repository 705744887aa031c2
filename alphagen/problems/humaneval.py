"""HumanEval rows (task_id, prompt, canonical_solution, test, entry_point) as function-kind problems.

Public tests come from the docstring's examples (alphagen.problems.docstring_examples), hidden tests from
`check`'s `assert candidate(...) == value` statements; both are parsed with `ast`, never evaluated. The whole
`test` is kept as `test_code` so asserts we cannot turn into data (loops, tolerances) still judge a program
through the hidden harness.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

from alphagen.problems.docstring_examples import call_args, docstring_examples, entry_function, literal, make_test
from alphagen.problems.fields import IDENTIFIER_RE, Row, slug
from alphagen.problems.model import HiddenTests, Problem, Solution, Test


def looks_like_humaneval(data: Mapping[str, Any]) -> bool:
    return all(k in data for k in ("task_id", "prompt", "entry_point", "test"))


def check_asserts(test_code: str) -> list[Test]:
    """`assert candidate(args) == value` (either side, optional message) inside `def check(candidate)`."""
    try:
        tree = ast.parse(test_code)
    except SyntaxError:
        return []
    tests: list[Test] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Assert) or not isinstance(node.test, ast.Compare):
            continue
        cmp = node.test
        if len(cmp.ops) != 1 or not isinstance(cmp.ops[0], (ast.Eq, ast.Is)):
            continue
        left, right = cmp.left, cmp.comparators[0]
        for call, other in ((left, right), (right, left)):
            args = call_args(call, "candidate")
            if args is None:
                continue
            ok, value = literal(other)
            # `is` only means equality for the singletons True, False and None.
            if ok and (isinstance(cmp.ops[0], ast.Eq) or value is True or value is False or value is None):
                tests.append(make_test(args, value))
            break
    return _unique(tests)


def _unique(tests: list[Test]) -> list[Test]:
    return list(dict.fromkeys(tests))


def _statement(prompt: str, entry_point: str) -> str:
    """The entry point's docstring when it has one, else the whole prompt."""
    node = entry_function(prompt, entry_point)
    return (ast.get_docstring(node) if node is not None else None) or prompt


def parse_humaneval(data: Mapping[str, Any], where: str) -> Problem:
    row = Row(data, where)
    task_id = row.required_string("task_id")
    prompt = row.required_string("prompt")
    test_code = row.required_string("test")
    entry_point = row.required_string("entry_point")
    if not IDENTIFIER_RE.match(entry_point):
        raise row.error("entry_point", f"must be a Python identifier, got {entry_point!r}")
    canonical = row.string("canonical_solution", required=False)
    public = docstring_examples(prompt, entry_point)
    hidden = check_asserts(test_code)
    return Problem(
        name=slug(re.sub(r"[/]", "-", task_id)),
        description=_statement(prompt, entry_point),
        kind="function",
        public_tests=tuple(public),
        private_tests=HiddenTests(tuple(hidden)),
        entry_point=entry_point,
        signature=prompt,
        test_code=test_code,
        solutions=(Solution(language="python", code=prompt + canonical),) if canonical else (),
        source=f"{where} (humaneval)",
        limits_given=False,
    )
