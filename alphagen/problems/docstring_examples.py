"""Examples written in a function's docstring, as (arguments, value) tests; parsed with `ast`, never evaluated.

Docstrings write examples in many hands: doctest (`>>> f(x)` then the value), one line (`f(x) == y`, `f(x) ➞ y`),
`For x = 1 the output should be y`, `Input: ...` / `Output: ...` pairs, and looser prose (another name for the
function, bare words for strings, a block of assignments then `return y`). A wrong example is costly (it filters
out every right program), so each loose form is accepted only where it cannot be read another way, and the
forms were checked against HumanEval's canonical solutions (tests/test_docstring_examples.py).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import re
from dataclasses import dataclass
from typing import Any

from alphagen.problems.model import Test

# Separators of one-line docstring examples (`f(x) == y`, `f(x) ➞ y`, `f(x) returns y`), longest first.
INLINE_SEPARATORS = ("==>", "==", "=>", "->", "➞", "→", "should return", "returns", "=")
# "For num = "AB" the output should be 1."
_FOR_RE = re.compile(r"^for (.+?),? the (?:output|result) should be (.+)$", re.IGNORECASE)
_INPUT_RE = re.compile(r"^input\s*:\s*(.*)$", re.IGNORECASE)
_OUTPUT_RE = re.compile(r"^output\s*:\s*(.+)$", re.IGNORECASE)
# `grid : [[0, 1]]` or `k = 3`: one named value of an `Input:` block.
_NAMED_RE = re.compile(r"^([A-Za-z_]\w*)\s*[:=]\s*(.+)$")
# `arr = [2, 1]`: a parameter's value at the head of a worked example.
_ASSIGN_RE = re.compile(r"^([A-Za-z_]\w*)\s*=\s*(.+)$")
# `return [1, 2]` or `return = ['One']` after a block of assignments.
_RETURN_RE = re.compile(r"^return\s*=?\s*(.+)$")
# `name(` at the start of a line, after an optional `assert `.
_CALL_START_RE = re.compile(r"^(?:assert\s+)?([A-Za-z_]\w*)\(")
_TRIPLE_QUOTE_RE = re.compile(r"^(?:\"\"\"|''')\s*")
# A value in parentheses with no comma at its end: `("Venus")`.
_PAREN_RE = re.compile(r"^\((?:[^()]*[^,()\s])?\s*\)$")


@dataclass(frozen=True)
class _Example:
    test: Test
    line: int
    """The line it was read from (in the lines the parser saw)."""
    bare_eq: bool = False
    """Read from the weakest form, `f(x) = y` (base cases of a recurrence look the same)."""
    paren_scalar: bool = False
    """Its value was one literal in parentheses, `("Venus")`: a str in Python, maybe a tuple meant."""


def jsonable(value: object) -> bool:
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


def call_args(
    node: ast.expr, callee: str, params: list[str] | None = None, bare_words: bool = False
) -> list[Any] | None:
    """The literal arguments of `callee(...)` in parameter order, or None when it is anything else.
    Keyword arguments (`Input: arr = [1], k = 3`) are placed by the function's parameter names. With
    `bare_words`, arguments that are all bare names, none a parameter's (`is_happy(abcd)`), are those strings."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == callee):
        return None
    if any(isinstance(a, ast.Starred) for a in node.args):
        return None
    if bare_words:
        names = [a.id for a in node.args if isinstance(a, ast.Name)]
        if not node.args or node.keywords or len(names) != len(node.args) or set(names) & set(params or ()):
            return None
        return list(names)
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
    return args if jsonable(args) else None


def _args_text(text: str, callee: str, params: list[str] | None) -> list[Any] | None:
    """Arguments written bare (`arr = [4,2,3], k = 2` or `[4,2,3]`), parsed as a call."""
    try:
        return call_args(ast.parse(f"{callee}({text.strip()})", mode="eval").body, callee, params)
    except SyntaxError:
        return None


def _clean(text: str) -> str:
    return text.strip().rstrip(".,;").strip()


def _value(text: str) -> tuple[bool, Any]:
    """An example's value: a literal, tolerating a trailing period, JS-style true/false and `... = 8`."""
    text = _clean(text)
    text = {"true": "True", "false": "False", "null": "None"}.get(text, text)
    ok, value = literal(text)
    if not ok and "=" in text:
        ok, value = literal(text.rsplit("=", 1)[1].strip())
    return ok, value


def literal(text_or_node: str | ast.expr) -> tuple[bool, Any]:
    try:
        value = ast.literal_eval(text_or_node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    return jsonable(value), value


def make_test(args: list[Any], value: Any) -> Test:
    return Test(input=json.dumps(args), output=json.dumps(value))


def _example(args: list[Any] | None, value_text: str, line: int, bare_eq: bool = False) -> _Example | None:
    ok, value = _value(value_text)
    if args is None or not ok:
        return None
    paren = bool(_PAREN_RE.match(_clean(value_text))) and not isinstance(value, (list, tuple))
    return _Example(make_test(args, value), line, bare_eq, paren)


def params_of(prompt: str, entry_point: str) -> list[str] | None:
    node = entry_function(prompt, entry_point)
    return None if node is None else [a.arg for a in node.args.posonlyargs + node.args.args]


def entry_function(prompt: str, entry_point: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    """The entry point's definition in the prompt (the first, walking the tree), or None."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == entry_point:
            return node
    return None


def _docstring(node: ast.FunctionDef | ast.AsyncFunctionDef | None) -> str | None:
    """The function's docstring, or its first string statement when something comes before it (HumanEval/115
    puts `import math` first, so Python sees no docstring)."""
    if node is None:
        return None
    for stmt in node.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
            return inspect.cleandoc(stmt.value.value)
    return None


def _defined_names(prompt: str) -> set[str]:
    """Every name the prompt defines (its helpers' examples are not the entry point's) or imports."""
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _inline(
    line: str, i: int, callee: str, params: list[str] | None, bare_words: bool = False
) -> _Example | None:
    """`f(x) SEP y` anywhere in a line, for the first separator that leaves two parseable sides."""
    start = line.find(callee + "(")
    if start < 0:
        return None
    for sep in INLINE_SEPARATORS:
        lhs, found, rhs = line[start:].partition(sep)
        if not found:
            continue
        try:
            args = call_args(ast.parse(lhs.strip(), mode="eval").body, callee, params, bare_words)
        except SyntaxError:
            continue
        found_example = _example(args, rhs, i, bare_eq=sep == "=")
        if found_example is not None:
            return found_example
    return None


def _for_form(text: str, value: str, i: int, callee: str, params: list[str] | None) -> _Example | None:
    """`For N = 1000, the sum of digits will be 1 the output should be "1"`: the arguments are the longest
    prefix, cut at a comma, that parses (prose may follow them) into as many arguments as the function takes."""
    parts = text.split(",")
    for k in range(len(parts), 0, -1):
        args = _args_text(",".join(parts[:k]), callee, params)
        if args is not None and (params is None or len(args) == len(params) or k == len(parts)):
            return _example(args, value, i)
    return None


def _strict_forms(lines: list[str], entry_point: str, params: list[str] | None) -> list[_Example]:
    """The forms that name the entry point, or that a heading (`Input:`, `For ...`) marks as an example."""
    found_all: list[_Example] = []
    for i, line in enumerate(lines):
        following = next((ln for ln in lines[i + 1 :] if ln), "")
        found: _Example | None = None
        if line.startswith(">>>"):
            # Doctest form: the value is the next non-empty line that is not another prompt.
            found = _inline(line[3:], i, entry_point, params)
            if found is not None:
                found = _Example(found.test, i, paren_scalar=found.paren_scalar)
            elif not following.startswith(">>>"):
                try:
                    args = call_args(ast.parse(line[3:].strip(), mode="eval").body, entry_point, params)
                except SyntaxError:
                    args = None
                found = _example(args, following, i)
        elif (m := _INPUT_RE.match(line)) and m.group(1) and (o := _OUTPUT_RE.match(following)):
            found = _example(_args_text(m.group(1), entry_point, params), o.group(1), i)
        elif m := _FOR_RE.match(line):
            found = _for_form(m.group(1), m.group(2), i, entry_point, params)
        else:
            found = _inline(line, i, entry_point, params)
        if found is not None:
            found_all.append(found)
    return found_all


def _input_blocks(lines: list[str], params: list[str] | None) -> list[_Example]:
    """`Input:` alone on its line, then one `name : value` line per argument, then `Output: value`
    (HumanEval/115). The names need not be the parameters' (`bucket_capacity` for `capacity`): the values go
    in the parameters' order when every name is one, else in the order written, as many as there are."""
    found: list[_Example] = []
    if params is None:
        return found
    for i, line in enumerate(lines):
        m = _INPUT_RE.match(line)
        if not m or m.group(1):
            continue
        named: list[tuple[str, Any]] = []
        for j in range(i + 1, len(lines)):
            if not lines[j]:
                continue
            if o := _OUTPUT_RE.match(lines[j]):
                if len(named) == len(params):
                    names = [n for n, _ in named]
                    if set(names) == set(params):
                        args = [dict(named)[p] for p in params]
                    else:
                        args = [v for _, v in named]
                    ex = _example(args if jsonable(args) else None, o.group(1), i)
                    if ex is not None:
                        found.append(ex)
                break
            n = _NAMED_RE.match(lines[j])
            ok, value = literal(n.group(2)) if n else (False, None)
            if n is None or not ok:
                break
            named.append((n.group(1), value))
    return found


def _assignment_blocks(lines: list[str], params: list[str] | None) -> list[_Example]:
    """Assignments to every parameter (`arr = [2, 1]`), worked steps, then `return value` before the next
    assignment (HumanEval/105)."""
    found: list[_Example] = []
    if not params:
        return found
    starts = [i for i, ln in enumerate(lines) if (m := _ASSIGN_RE.match(ln)) and m.group(1) == params[0]]
    for k, i in enumerate(starts):
        args = _args_text(lines[i], "f", params)
        if args is None or len(args) != len(params):
            continue
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        for j in range(i + 1, end):
            if r := _RETURN_RE.match(lines[j]):
                ex = _example(args, r.group(1), i)
                if ex is not None:
                    found.append(ex)
                break
    return found


def _other_name(lines: list[str], entry_point: str, defined: set[str]) -> str | None:
    """The one other name a docstring that never names the entry point calls examples by
    (`grade_equation([4.0]) ==> ['A+']` for numerical_letter_grade, `assert list_sort(["aa"]) => ["aa"]` for
    sorted_list_sum): not one the prompt defines or imports, not a builtin; None when there is not exactly one."""
    if any(entry_point + "(" in ln for ln in lines):
        return None
    names = {m.group(1) for ln in lines if (m := _CALL_START_RE.match(ln))}
    names -= defined | set(dir(builtins)) | {entry_point}
    return next(iter(names)) if len(names) == 1 else None


def _named_forms(lines: list[str], callee: str, params: list[str] | None, bare_words: bool) -> list[_Example]:
    """One-line examples calling `callee`, with as many arguments as the entry point has parameters. With
    `bare_words` (`is_happy(abcd) => True`: bare words are strings), only when at least two lines write them so
    (one `f(x) == 3` is more likely prose about a variable)."""
    if params is None:
        return []
    found = [ex for i, ln in enumerate(lines) if (ex := _inline(ln, i, callee, params, bare_words)) is not None]
    found = [ex for ex in found if len(json.loads(ex.test.input)) == len(params)]
    return found if len(found) >= (2 if bare_words else 1) else []


def _recurrence_end(lines: list[str], entry_point: str) -> int:
    """The index of the last line that defines the function by itself (`tri(n) = tri(n - 1) + ...`), or -1.
    Before it, `f(x) = y` lines are the definition's base cases and worked steps (HumanEval/130: `tri(1) = 3`
    and `tri(4) = 3`, while `tri` returns a list), not examples of what the function returns."""
    call = entry_point + "("
    last = -1
    for i, line in enumerate(lines):
        lhs, eq, rhs = line.partition("=")
        if eq and call in lhs and call in rhs:
            last = i
    return last


def _tuples(found: list[_Example]) -> list[Test]:
    """The tests, a parenthesised scalar read as a one-element tuple where another example's value is a list
    (HumanEval/148: `bf("Earth", "Mercury") ==> ("Venus")`, the others tuples of planets)."""
    lists = any(isinstance(json.loads(ex.test.output), list) for ex in found)
    tests = []
    for ex in found:
        if ex.paren_scalar and lists:
            tests.append(Test(input=ex.test.input, output=json.dumps([json.loads(ex.test.output)])))
        else:
            tests.append(ex.test)
    return tests


def docstring_examples(prompt: str, entry_point: str) -> list[Test]:
    """The examples a prompt's docstrings show for `entry_point` (see the module's docstring for the forms)."""
    params = params_of(prompt, entry_point)
    # A docstring's first line may follow its opening quotes: the forms anchored at a line's start see it too.
    lines = [_TRIPLE_QUOTE_RE.sub("", ln.strip()) for ln in prompt.splitlines()]
    found = _strict_forms(lines, entry_point, params)
    # Base cases and steps of a recurrence look like `f(x) = y` examples: none before its last line count.
    end = _recurrence_end(lines, entry_point)
    found = [ex for ex in found if not (ex.bare_eq and ex.line <= end)]
    # The loose forms only in the entry point's own docstring (a helper's docstring has its own examples).
    doc = _docstring(entry_function(prompt, entry_point))
    if doc:
        doc_lines = [ln.strip() for ln in doc.splitlines()]
        found += _input_blocks(doc_lines, params) + _assignment_blocks(doc_lines, params)
        other = _other_name(doc_lines, entry_point, _defined_names(prompt))
        if other is not None:
            found += _named_forms(doc_lines, other, params, bare_words=False)
        # Bare words last, and only where nothing else was read: the weakest reading.
        for callee in [entry_point] + ([other] if other else []):
            if not found:
                found = _named_forms(doc_lines, callee, params, bare_words=True)
    return list(dict.fromkeys(_tuples(found)))
