"""Plausible wrong programs, derived from a correct reference by one small AST edit each.

Every operator imitates a classic contest bug: an off-by-one (`<` vs `<=`, a constant or a range bound moved
by one), a wrong operator or aggregate (`+`/`-`, `min`/`max`, `and`/`or`), the wrong type (`//` -> `/`), an
"infinity" too small for the answer, a dropped special case (an `if` without `else` removed), and a quadratic
sort that is right but too slow. A mutant counts as a wrong program for the benchmark only after it was
checked to pass the public examples and to fail at least one hidden test (see `build.py`); most edits fail
the examples.

Correct variants come from a meaning-preserving rewrite: the reference with its own variables renamed.
"""

from __future__ import annotations

import ast
import builtins
import copy
from collections.abc import Iterator
from dataclasses import dataclass

SLOW_SORT = (
    "def _slow_sorted(xs, key=None, reverse=False):\n"
    "    out = list(xs)\n"
    "    k = key if key is not None else (lambda v: v)\n"
    "    for i in range(1, len(out)):\n"
    "        j = i\n"
    "        while j > 0 and ((k(out[j - 1]) < k(out[j])) if reverse else (k(out[j]) < k(out[j - 1]))):\n"
    "            out[j - 1], out[j] = out[j], out[j - 1]\n"
    "            j -= 1\n"
    "    return out\n"
)

_CMP_SWAP: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
_BIN_SWAP: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.FloorDiv: ast.Div, ast.Mult: ast.Add}


@dataclass(frozen=True)
class Site:
    """One place one operator can edit: the n-th matching node in `ast.walk` order."""

    op: str
    index: int


def _int_const(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _is_call(node: ast.AST, names: tuple[str, ...]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def _float_inf(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and _is_call(node, ("float",))
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and str(node.args[0].value).lstrip("+-") == "inf"
    )


def _matches(op: str, node: ast.AST) -> bool:
    if op == "cmp":
        return isinstance(node, ast.Compare) and type(node.ops[0]) in _CMP_SWAP
    if op in ("const+1", "const-1"):
        return _int_const(node) and abs(node.value) < 10**6  # type: ignore[attr-defined]
    if op == "binop":
        return isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BIN_SWAP
    if op == "minmax":
        return _is_call(node, ("min", "max"))
    if op == "boolop":
        return isinstance(node, ast.BoolOp)
    if op == "drop-if":
        return isinstance(node, ast.If) and not node.orelse
    if op == "small-inf":
        return (_int_const(node) and node.value >= 10**9) or _float_inf(node)  # type: ignore[attr-defined]
    if op == "range-1":
        return _is_call(node, ("range",)) and 1 <= len(node.args) <= 2  # type: ignore[attr-defined]
    if op == "slow-sort":
        return _is_call(node, ("sorted",)) or (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "sort"
            and not node.value.args
        )
    return False


OPERATORS: tuple[str, ...] = (
    "cmp",
    "const+1",
    "const-1",
    "binop",
    "minmax",
    "boolop",
    "drop-if",
    "small-inf",
    "range-1",
    "slow-sort",
)


def sites(code: str) -> list[Site]:
    """Every (operator, node) pair the reference offers, in a stable order."""
    tree = ast.parse(code)
    out: list[Site] = []
    for op in OPERATORS:
        k = 0
        for node in ast.walk(tree):
            if _matches(op, node):
                out.append(Site(op, k))
                k += 1
    return out


def _nth(tree: ast.AST, op: str, index: int) -> ast.AST:
    k = 0
    for node in ast.walk(tree):
        if _matches(op, node):
            if k == index:
                return node
            k += 1
    raise ValueError(f"no site {op}#{index}")


def _edit(node: ast.AST, op: str) -> ast.AST | None:
    """Edit in place (returning None) or return a replacement node."""
    if op == "cmp" and isinstance(node, ast.Compare):
        node.ops[0] = _CMP_SWAP[type(node.ops[0])]()
    elif op in ("const+1", "const-1") and isinstance(node, ast.Constant):
        node.value = int(node.value) + (1 if op == "const+1" else -1)  # type: ignore[arg-type]
    elif op == "binop" and isinstance(node, (ast.BinOp, ast.AugAssign)):
        node.op = _BIN_SWAP[type(node.op)]()
    elif op == "minmax" and isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        node.func.id = "max" if node.func.id == "min" else "min"
    elif op == "boolop" and isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif op == "drop-if":
        return ast.Pass()
    elif op == "small-inf":
        small = _int_const(node) and node.value <= 10**9  # type: ignore[attr-defined]
        return ast.Constant(10**6 if small else 10**9)
    elif op == "range-1" and isinstance(node, ast.Call):
        last = node.args[-1]
        node.args[-1] = ast.BinOp(left=last, op=ast.Sub(), right=ast.Constant(1))
    elif op == "slow-sort":
        if isinstance(node, ast.Call):
            node.func = ast.Name(id="_slow_sorted", ctx=ast.Load())
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            assert isinstance(call.func, ast.Attribute)
            target = call.func.value
            return ast.Assign(
                targets=[ast.Subscript(value=copy.deepcopy(target), slice=ast.Slice(), ctx=ast.Store())],
                value=ast.Call(
                    func=ast.Name(id="_slow_sorted", ctx=ast.Load()), args=[target], keywords=call.keywords
                ),
            )
    return None


class _Replace(ast.NodeTransformer):
    def __init__(self, old: ast.AST, new: ast.AST) -> None:
        self.old, self.new = old, new

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.old:
            return self.new
        return super().visit(node)  # type: ignore[no-any-return]


def apply(code: str, site: Site) -> str:
    """The reference with one edit, as source text."""
    tree: ast.AST = ast.parse(code)
    node = _nth(tree, site.op, site.index)
    new = _edit(node, site.op)
    if new is not None:
        tree = _Replace(node, new).visit(tree)
    ast.fix_missing_locations(tree)
    src = ast.unparse(tree)
    if site.op == "slow-sort":
        src = SLOW_SORT + "\n" + src
    return src + "\n"


def describe(code: str, site: Site) -> str:
    """`op at line L` for humans reviewing the stored set."""
    node = _nth(ast.parse(code), site.op, site.index)
    return f"{site.op} at line {getattr(node, 'lineno', '?')}"


def renamed(code: str) -> str:
    """A correct variant: every variable the program binds itself renamed (`v_<name>`); builtins, attributes,
    imports untouched. Names also used as keyword arguments or attributes are left alone (a rename there could
    change which parameter a call binds or which method `self.name` finds)."""
    tree = ast.parse(code)
    keywords = {k.arg for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg}
    imported = {
        a.asname or a.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    }
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    bound |= {
        a.arg
        for n in ast.walk(tree)
        if isinstance(n, ast.arguments)
        for a in (*n.posonlyargs, *n.args, *n.kwonlyargs)
    }
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    keep = keywords | imported | attributes | set(dir(builtins)) | {"self", "cls"}
    mapping = {b: f"v_{b}" for b in bound if b not in keep and not b.startswith("__")}
    for n in ast.walk(tree):
        if isinstance(n, ast.Name) and n.id in mapping:
            n.id = mapping[n.id]
        elif isinstance(n, ast.arg) and n.arg in mapping:
            n.arg = mapping[n.arg]
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in mapping:
            n.name = mapping[n.name]
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            n.names = [mapping.get(x, x) for x in n.names]
    return ast.unparse(tree) + "\n"


def all_mutants(code: str) -> Iterator[tuple[Site, str]]:
    """Every single-edit mutant that still compiles and differs from the reference."""
    base = ast.unparse(ast.parse(code))
    for site in sites(code):
        try:
            src = apply(code, site)
            compile(src, "<mutant>", "exec")
        except (SyntaxError, ValueError, TypeError, AssertionError):
            continue
        if src.strip() != base.strip():
            yield site, src
