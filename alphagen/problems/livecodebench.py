"""LiveCodeBench rows (its `code_generation_lite` jsonl): AtCoder and Codeforces rows become stdio problems,
LeetCode rows function problems whose entry point is a method of `class Solution`.

A row: `question_title`, `question_content`, `platform`, `question_id`, `contest_id`, `contest_date`,
`starter_code`, `difficulty`, `public_test_cases` and `private_test_cases` (JSON lists of
{"input", "output", "testtype": "stdin" | "functional"}; the private ones are JSON text, or base64 of zlib-compressed
pickled JSON text) and `metadata` (JSON text; `func_name` on LeetCode rows). The pickle is read by an unpickler that
admits no class or function at all, and its decompressed size is capped: a row cannot run code or fill memory.
"""

from __future__ import annotations

import ast
import base64
import binascii
import io
import json
import pickle
import re
import zlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NoReturn

from alphagen.extract import with_stub_context
from alphagen.jsonvalue import Json
from alphagen.problems.errors import type_name
from alphagen.problems.fields import IDENTIFIER_RE, Row, slug
from alphagen.problems.model import HiddenTests, Problem, Solution, Test

PLATFORMS = ("atcoder", "codeforces", "leetcode")
DIFFICULTIES = ("easy", "medium", "hard")
TEST_TYPES = ("stdin", "functional")
MAX_DECOMPRESSED_BYTES = 256 << 20
"""The largest pickled test list we inflate (the biggest released rows are tens of MiB): no zip bomb fills memory."""

# LeetCode's judge runs a program with these names already imported (LiveCodeBench's grader prepends the same
# modules), so its programs use `List`, `defaultdict`, `heappush` or `cache` without importing them. The stub
# shows them, and the pipeline copies a stub's imports into programs that omit them: judged as LeetCode would.
# Not `from math import *`: its `pow` would shadow the builtin three-argument `pow(b, e, mod)`.
LEETCODE_IMPORTS = (
    "from typing import *\n"
    "from bisect import *\n"
    "from collections import *\n"
    "from functools import *\n"
    "from heapq import *\n"
    "from itertools import *\n"
    "from math import ceil, comb, floor, gcd, inf, isqrt, lcm, log, log2, sqrt\n"
    "import bisect, collections, functools, heapq, itertools, math\n"
)


def looks_like_livecodebench(data: Mapping[str, Any]) -> bool:
    return "question_content" in data and "public_test_cases" in data


# ---- the private tests' encoding -------------------------------------------------------------------------------


class _PlainUnpickler(pickle.Unpickler):
    """An unpickler that builds plain values only: every class or function lookup is refused, and so is every
    persistent id. Without a class or function nothing can be called (REDUCE, BUILD and NEWOBJ need one), so the
    result is made of str, bytes, list, tuple, dict, set, int, float, bool and None."""

    def find_class(self, module: str, name: str) -> NoReturn:
        raise pickle.UnpicklingError(
            f"refused to load {module}.{name}: the format pickles JSON text, so no class or function is admitted"
        )

    def persistent_load(self, pid: object) -> NoReturn:
        raise pickle.UnpicklingError("refused a persistent id: the format pickles JSON text")


def _inflate(raw: bytes, limit: int) -> bytes:
    """zlib-decompress at most `limit` bytes; more, or a truncated stream, is an error."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as e:
        raise ValueError(f"not zlib data ({e})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ValueError(f"decompresses to more than {limit >> 20} MiB")
    if not inflater.eof:
        raise ValueError("a truncated zlib stream")
    return out


def decode_private_tests(value: object, limit: int = MAX_DECOMPRESSED_BYTES) -> Json:
    """The private tests' JSON value from the row's field: JSON text, base64 of zlib-compressed pickled JSON text,
    or an already decoded list. Raises ValueError saying which layer is wrong; never runs code from the row."""
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be JSON text or base64 of zlib-compressed pickled JSON, got {type_name(value)}")
    text = value.strip()
    if text.startswith("["):
        return _json_text(text)
    # Layers outside in: base64 (whitespace-tolerant), zlib (capped), pickle (plain values only), JSON text.
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"must be JSON text or base64 of zlib-compressed pickled JSON: not base64 ({e})") from None
    inflated = _inflate(raw, limit)
    try:
        unpickled = _PlainUnpickler(io.BytesIO(inflated)).load()
    except pickle.UnpicklingError as e:
        raise ValueError(f"pickle refused: {e}") from None
    except Exception as e:  # a damaged pickle raises EOFError, KeyError, struct.error, ...
        raise ValueError(f"not a readable pickle ({type(e).__name__}: {e})") from None
    if isinstance(unpickled, bytes):
        try:
            unpickled = unpickled.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("the pickled bytes are not UTF-8 JSON text") from None
    if isinstance(unpickled, str):
        return _json_text(unpickled)
    if isinstance(unpickled, list):
        return unpickled
    raise ValueError(f"the pickle must hold JSON text, got {type(unpickled).__name__}")


def _json_text(text: str) -> Json:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


# ---- tests -----------------------------------------------------------------------------------------------------


def _test_list(row: Row, key: str, *, private: bool) -> list[tuple[str, str, str]]:
    """(input, output, testtype) of every test in the field."""
    value = row.get(key)
    try:
        decoded = decode_private_tests(value) if private else _public_value(value)
    except ValueError as e:
        raise row.error(key, str(e)) from None
    if not isinstance(decoded, list):
        raise row.error(key, f"must be a list of tests, got {type_name(decoded)}")
    tests = []
    for i, item in enumerate(decoded):
        if not isinstance(item, Mapping):
            raise row.error(f"{key}[{i}]", f"must be an object with input, output and testtype, got {type_name(item)}")
        test = Row(item, row.where, f"{key}[{i}].")
        kind = test.required_string("testtype")
        if kind not in TEST_TYPES:
            raise test.error("testtype", f"must be 'stdin' or 'functional', got {kind!r}")
        tests.append((test.required_string("input", False), test.required_string("output", False), kind))
    return tests


def _public_value(value: object) -> Json:
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be JSON text (a list of tests), got {type_name(value)}")
    return _json_text(value)


def _call_test(row: Row, field: str, text_in: str, text_out: str) -> Test:
    """A LeetCode test (one JSON value per line for each argument; the return value's JSON) in our function
    format: the argument array and the return value, as JSON."""
    args = []
    for n, line in enumerate((line for line in text_in.split("\n") if line.strip()), 1):
        try:
            args.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise row.error(f"{field}.input", f"must be one JSON value per line (an argument each): "
                                              f"argument {n}: {e.msg}") from None
    if not args:
        raise row.error(f"{field}.input", "must hold at least one argument, got an empty input")
    try:
        value = json.loads(text_out)
    except json.JSONDecodeError as e:
        raise row.error(f"{field}.output", f"must be the return value's JSON: {e.msg}") from None
    return Test(input=json.dumps(args), output=json.dumps(value))


# ---- the LeetCode stub -----------------------------------------------------------------------------------------


def _docstring(text: str, indent: str) -> str:
    """`text` as a docstring at `indent`: backslashes and triple quotes escaped so it stays one string literal."""
    body = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = [(indent + line).rstrip() for line in body.splitlines()]
    return f'{indent}"""\n' + "\n".join(lines) + f'\n{indent}"""\n'


def leetcode_stub(row: Row, starter: str, func_name: str, statement: str) -> str:
    """The stub a model completes: LeetCode's implicit imports, the starter code as given, and the statement as
    the method's docstring (HumanEval's shape: the prompt shows the stub, and the stub carries the problem)."""
    code = starter.rstrip()
    match = re.search(rf"^([ \t]*)def {re.escape(func_name)}\s*\(", code, re.M)
    if match is None or not code.endswith(":"):
        raise row.error("starter_code", f"must end with the method to complete, `def {func_name}(self, ...):`, "
                                        f"got {code[-60:]!r}")
    stub = LEETCODE_IMPORTS + "\n" + code + "\n" + _docstring(statement, match.group(1) + "    ")
    try:
        tree = ast.parse(stub)
    except SyntaxError as e:
        raise row.error("starter_code", f"must be Python ending in `def {func_name}(...):`: {e.msg}") from None
    methods = {
        item.name
        for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Solution"
        for item in node.body if isinstance(item, ast.FunctionDef)
    }
    if func_name not in methods:
        raise row.error("starter_code", f"must define class Solution with a method {func_name}, got {code[:60]!r}")
    return stub


# ---- the row ---------------------------------------------------------------------------------------------------


def _choice(row: Row, key: str, allowed: tuple[str, ...]) -> str:
    value = row.required_string(key)
    if value not in allowed:
        raise row.error(key, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _released(row: Row) -> date:
    text = row.required_string("contest_date")
    try:
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise row.error("contest_date", f"must be an ISO date like 2024-08-03T00:00:00, got {text!r}") from None


def _metadata(row: Row) -> Mapping[str, Any]:
    value = row.get("metadata")
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise row.error("metadata", f"must be a JSON object (text or value): {e.msg}") from None
    if not isinstance(value, Mapping):
        raise row.error("metadata", f"must be a JSON object, got {type_name(value)}")
    return value


def _solutions(row: Row, stub: tuple[str, str] | None) -> tuple[Solution, ...]:
    """Not in the released rows: an optional `solutions` list of Python programs (APPS' shape), so a row joined
    with reference solutions can be checked by `alphagen check`. A LeetCode reference gets the stub's imports it
    uses without importing, as every sampled program does (LeetCode's judge provides them)."""
    value = row.get("solutions")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as e:
            raise row.error("solutions", f"must be a list of Python programs (JSON text or value): {e.msg}") from None
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(code, str) and code.strip() for code in value):
        raise row.error("solutions", f"must be a list of Python programs, got {type_name(value)}")
    if stub is not None:
        value = [with_stub_context(code, *stub) for code in value]
    return tuple(Solution(language="python", code=code) for code in value)


def parse_livecodebench(data: Mapping[str, Any], where: str) -> Problem:
    row = Row(data, where)
    statement = row.required_string("question_content")
    platform = _choice(row, "platform", PLATFORMS)
    question_id = row.required_string("question_id")
    difficulty = _choice(row, "difficulty", DIFFICULTIES)
    released = _released(row)
    public = _test_list(row, "public_test_cases", private=False)
    private = _test_list(row, "private_test_cases", private=True)
    if not public:
        raise row.error("public_test_cases", "must hold at least one test, got an empty list")
    # The kind: every test of a row has the same testtype; functional tests call metadata.func_name.
    kinds = {kind for _, _, kind in public + private}
    if len(kinds) > 1:
        raise row.error("private_test_cases", "must have the public tests' testtype, got both stdin and functional")
    func_name = _metadata(row).get("func_name")
    if kinds == {"functional"}:
        if not isinstance(func_name, str) or not IDENTIFIER_RE.match(func_name):
            raise row.error("metadata.func_name", f"functional tests need a Python identifier, got {func_name!r}")
        signature = leetcode_stub(row, row.required_string("starter_code"), func_name, statement)
        fields = [f"public_test_cases[{i}]" for i in range(len(public))]
        fields += [f"private_test_cases[{i}]" for i in range(len(private))]
        tests = [_call_test(row, f, i, o) for f, (i, o, _) in zip(fields, public + private, strict=True)]
    else:
        func_name, signature = None, None
        tests = [Test(input=i, output=o) for i, o, _ in public + private]
    return Problem(
        name=slug(f"lcb-{platform}-{question_id}"),
        description=statement,
        kind="function" if func_name else "stdio",
        public_tests=tuple(tests[: len(public)]),
        private_tests=HiddenTests(tuple(tests[len(public) :])),
        entry_point=func_name,
        entry_class="Solution" if func_name else None,
        signature=signature,
        solutions=_solutions(row, (signature, func_name) if signature and func_name else None),
        difficulty=difficulty,
        limits_given=False,  # the rows carry no limits: the documented defaults apply
        released=released,
        source=f"{where} (livecodebench)",
    )
