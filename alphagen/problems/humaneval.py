"""HumanEval rows (task_id, prompt, canonical_solution, test, entry_point) as function-kind problems.

Public tests come from the docstring's examples, hidden tests from `check`'s `assert candidate(...) == value`
statements; both are parsed with `ast`, never evaluated. The whole `test` is kept as `test_code` so asserts we
cannot turn into data (loops, tolerances) still judge a program through the hidden harness.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from typing import Any

from alphagen.problems.fields import IDENTIFIER_RE, Row, slug
from alphagen.problems.model import HiddenTests, Problem, Solution, Test

# Separators of one-line docstring examples (`f(x) == y`, `f(x) ➞ y`, `f(x) returns y`), longest first.
_INLINE_SEPARATORS = ("==>", "==", "=>", "->", "➞", "→", "should return", "returns", "=")
# "For num = "AB" the output should be 1."
_FOR_RE = re.compile(r"^for (.+?),? the (?:output|result) should be (.+)$", re.IGNORECASE)
_INPUT_RE = re.compile(r"^input\s*:\s*(.+)$", re.IGNORECASE)
_OUTPUT_RE = re.compile(r"^output\s*:\s*(.+)$", re.IGNORECASE)


def looks_like_humaneval(data: Mapping[str, Any]) -> bool:
    return all(k in data for k in ("task_id", "prompt", "entry_point", "test"))


def _jsonable(value: object) -> bool:
    """True when JSON keeps the value (tuples become lists, which the driver also does to results)."""
    try:
        return bool(json.loads(json.dumps(value, allow_nan=False)) == _lists(value))
    except (TypeError, ValueError):
        return False


def _lists(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def _call_args(node: ast.expr, callee: str, params: list[str] | None = None) -> list[Any] | None:
    """The literal arguments of `callee(...)` in parameter order, or None when it is anything else.
    Keyword arguments (`Input: arr = [1], k = 3`) are placed by the function's parameter names."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == callee):
        return None
    if any(isinstance(a, ast.Starred) for a in node.args):
        return None
    try:
        args = [ast.literal_eval(a) for a in node.args]
        if node.keywords:
            if params is None or any(k.arg not in params for k in node.keywords):
                return None
            named = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            rest = params[len(args) :]
            if set(named) != set(rest):
                return None
            args += [named[p] for p in rest]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return args if _jsonable(args) else None


def _args_text(text: str, callee: str, params: list[str] | None) -> list[Any] | None:
    """Arguments written bare (`arr = [4,2,3], k = 2` or `[4,2,3]`), parsed as a call."""
    try:
        return _call_args(ast.parse(f"{callee}({text.strip()})", mode="eval").body, callee, params)
    except SyntaxError:
        return None


def _value(text: str) -> tuple[bool, Any]:
    """An example's value: a literal, tolerating a trailing period, JS-style true/false and `... = 8`."""
    text = text.strip().rstrip(".,;").strip()
    text = {"true": "True", "false": "False", "null": "None"}.get(text, text)
    ok, value = _literal(text)
    if not ok and "=" in text:
        ok, value = _literal(text.rsplit("=", 1)[1].strip())
    return ok, value


def _literal(text_or_node: str | ast.expr) -> tuple[bool, Any]:
    try:
        value = ast.literal_eval(text_or_node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    return _jsonable(value), value


def _test(args: list[Any], value: Any) -> Test:
    return Test(input=json.dumps(args), output=json.dumps(value))


def _params(prompt: str, entry_point: str) -> list[str] | None:
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    return None


def _inline(line: str, entry_point: str, params: list[str] | None) -> Test | None:
    """`f(x) SEP y` anywhere in a line, for the first separator that leaves two parseable sides."""
    start = line.find(entry_point + "(")
    if start < 0:
        return None
    for sep in _INLINE_SEPARATORS:
        lhs, found, rhs = line[start:].partition(sep)
        if not found:
            continue
        try:
            args = _call_args(ast.parse(lhs.strip(), mode="eval").body, entry_point, params)
        except SyntaxError:
            continue
        ok, value = _value(rhs)
        if args is not None and ok:
            return _test(args, value)
    return None


def docstring_examples(prompt: str, entry_point: str) -> list[Test]:
    """Examples in the docstring: doctest (`>>> f(x)` then the value), one-line (`f(x) == y`, `f(x) ➞ y`),
    `For x = 1 the output should be y`, and `Input: ...` / `Output: ...` pairs; others are skipped."""
    params = _params(prompt, entry_point)
    tests: list[Test] = []
    lines = [ln.strip() for ln in prompt.splitlines()]
    for i, line in enumerate(lines):
        following = next((ln for ln in lines[i + 1 :] if ln), "")
        found: Test | None = None
        if line.startswith(">>>"):
            # Doctest form: the value is the next non-empty line that is not another prompt.
            found = _inline(line[3:], entry_point, params)
            if found is None and not following.startswith(">>>"):
                try:
                    args = _call_args(ast.parse(line[3:].strip(), mode="eval").body, entry_point, params)
                except SyntaxError:
                    args = None
                ok, value = _literal(following)
                found = _test(args, value) if args is not None and ok else None
        elif (m := _INPUT_RE.match(line)) and (o := _OUTPUT_RE.match(following)):
            args = _args_text(m.group(1), entry_point, params)
            ok, value = _value(o.group(1))
            found = _test(args, value) if args is not None and ok else None
        elif m := _FOR_RE.match(line):
            args = _args_text(m.group(1), entry_point, params)
            ok, value = _value(m.group(2))
            found = _test(args, value) if args is not None and ok else None
        else:
            found = _inline(line, entry_point, params)
        if found is not None:
            tests.append(found)
    return _unique(tests)


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
            args = _call_args(call, "candidate")
            if args is None:
                continue
            ok, value = _literal(other)
            # `is` only means equality for the singletons True, False and None.
            if ok and (isinstance(cmp.ops[0], ast.Eq) or value is True or value is False or value is None):
                tests.append(_test(args, value))
            break
    return _unique(tests)


def _unique(tests: list[Test]) -> list[Test]:
    return list(dict.fromkeys(tests))


def _statement(prompt: str, entry_point: str) -> str:
    """The entry point's docstring when it has one, else the whole prompt."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return prompt
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            doc = ast.get_docstring(node)
            if doc:
                return doc
    return prompt


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
