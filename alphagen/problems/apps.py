"""APPS rows (hendrycks/apps): `question`, `input_output` (JSON text or object), optional `fn_name`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from alphagen.problems.errors import type_name
from alphagen.problems.fields import IDENTIFIER_RE, Row, slug
from alphagen.problems.model import HiddenTests, Problem, Solution, Test

# APPS gives no split between examples and hidden tests; at most this many become public.
MAX_PUBLIC = 3


def looks_like_apps(data: Mapping[str, Any]) -> bool:
    return "question" in data and "input_output" in data


def _json_field(row: Row, key: str) -> object:
    """APPS stores some fields as JSON text, some exports as decoded values: accept both."""
    value = row.get(key)
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return json.loads(value)
        except ValueError as e:
            raise row.error(key, f"must be JSON (text or value): {e}") from None
    return value


def _stdio_text(value: object) -> str | None:
    """Inputs/outputs are strings; a few rows hold a list of lines instead."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "\n".join(value) + "\n"
    return None


def _call_tests(row: Row, inputs: list[Any], outputs: list[Any]) -> list[Test]:
    """Call-based: each input is the argument list; each output is usually `[return value]`."""
    tests = []
    for i, (args, out) in enumerate(zip(inputs, outputs, strict=True)):
        if not isinstance(args, list):
            raise row.error(f"input_output.inputs[{i}]", f"must be a list of arguments, got {type_name(args)}")
        # APPS wraps the return value in a one-element list (its judge also accepts the unwrapped value).
        value = out[0] if isinstance(out, list) and len(out) == 1 else out
        tests.append(Test(input=json.dumps(args), output=json.dumps(value)))
    return tests


def _split_public(question: str, tests: list[Test], function: bool) -> tuple[list[Test], list[Test]]:
    """Tests whose input appears in the statement are its examples; without any, the first test is public."""
    public = [] if function else [t for t in tests if t.input.strip() and t.input.strip() in question]
    public = public[:MAX_PUBLIC] or tests[:1]
    return public, [t for t in tests if t not in public]


def parse_apps(data: Mapping[str, Any], where: str) -> Problem:
    row = Row(data, where)
    question = row.required_string("question")
    io = _json_field(row, "input_output")
    if not isinstance(io, Mapping):
        raise row.error("input_output", f"must be an object with inputs and outputs, got {type_name(io)}")
    inputs, outputs, fn_name = io.get("inputs"), io.get("outputs"), io.get("fn_name")
    if not isinstance(inputs, list) or not isinstance(outputs, list) or len(inputs) != len(outputs):
        raise row.error("input_output", "must hold parallel lists 'inputs' and 'outputs'")
    if not inputs:
        raise row.error("input_output.inputs", "must hold at least one test, got an empty list")
    if fn_name is not None and (not isinstance(fn_name, str) or not IDENTIFIER_RE.match(fn_name)):
        raise row.error("input_output.fn_name", f"must be a Python identifier, got {fn_name!r}")
    # Convert tests by kind: stdio text, or JSON arguments and return values.
    if fn_name is None:
        tests = []
        for i, (inp, out) in enumerate(zip(inputs, outputs, strict=True)):
            text_in, text_out = _stdio_text(inp), _stdio_text(out)
            if text_in is None or text_out is None:
                field = "inputs" if text_in is None else "outputs"
                raise row.error(f"input_output.{field}[{i}]", "must be a string (or list of lines)")
            tests.append(Test(input=text_in, output=text_out))
    else:
        tests = _call_tests(row, inputs, outputs)
    public, private = _split_public(question, tests, fn_name is not None)
    # References: `solutions` is JSON text holding a list of Python programs.
    codes = _json_field(row, "solutions") or []
    if not isinstance(codes, list):
        raise row.error("solutions", f"must be a list of programs, got {type_name(codes)}")
    problem_id = row.get("problem_id")
    name = f"apps-{problem_id}" if problem_id is not None else slug(where.rsplit("/", 1)[-1])
    starter = row.string("starter_code", required=False)
    difficulty = row.string("difficulty", required=False)
    return Problem(
        name=slug(name),
        description=question,
        kind="function" if fn_name else "stdio",
        public_tests=tuple(public),
        private_tests=HiddenTests(tuple(private)),
        entry_point=fn_name,
        # APPS call-based rows come from LeetCode: their starter code says whether the entry is a method.
        entry_class="Solution" if fn_name and starter and "class Solution" in starter else None,
        signature=starter or None,
        solutions=tuple(Solution(language="python", code=c) for c in codes if isinstance(c, str)),
        difficulty=difficulty or None,
        limits_given=False,  # APPS rows carry no limits
        source=f"{where} (apps)",
    )
