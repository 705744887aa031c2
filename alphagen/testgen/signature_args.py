"""Random argument lists for a function problem that shows no example, typed by its stub's annotations.

Mutation needs examples to mutate; a function problem with none (12 of HumanEval's 164: /41 `car_race_collision(n:
int)`, /38, /50, ...) got no test inputs at all, so clustering saw every survivor alike and the picks were the
shortest programs: at -n 16 with a quarter on repairs, /41's one right program of 15 survivors was not among them.
The stub's annotations say what to pass: `int`, `float`, `str`, `bool` and lists of those (`list`, `List[int]`,
`list[str]`). A parameter without an annotation, or with another one, leaves the problem to the other sources
(nothing is guessed from names).
"""

from __future__ import annotations

import ast
import json
import random
import string
from collections.abc import Callable

Json = int | float | str | bool | list["Json"]
_Maker = Callable[[random.Random], Json]

_SCALARS: dict[str, _Maker] = {
    # Small values first in spirit: most of a function's behaviour shows on them, and none is slow to run.
    "int": lambda rng: rng.choice((0, 1, 2, 3, 5, 7, 10, rng.randint(-10, 100), rng.randint(0, 1000))),
    "float": lambda rng: rng.choice((0.0, 0.5, 1.0, 2.5, round(rng.uniform(-10, 10), 3))),
    "str": lambda rng: "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(0, 12))),
    "bool": lambda rng: rng.random() < 0.5,
}
_LIST_LEN = 8


def _maker(node: ast.expr | None) -> _Maker | None:
    """The value maker for one annotation, or None when it is missing or not one of the supported types."""
    if isinstance(node, ast.Name):
        if node.id in _SCALARS:
            return _SCALARS[node.id]
        if node.id in ("list", "List"):
            # A bare list says nothing of its elements: integers, the commonest in HumanEval's lists.
            return _list_of(_SCALARS["int"])
        return None
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in ("list", "List"):
        inner = _maker(node.slice)
        return _list_of(inner) if inner is not None else None
    return None


def _list_of(inner: _Maker) -> _Maker:
    return lambda rng: [inner(rng) for _ in range(rng.randint(0, _LIST_LEN))]


def argument_makers(stub: str | None, entry_point: str | None) -> list[_Maker] | None:
    """One maker per parameter of `entry_point` in `stub`, or None when any parameter cannot be typed."""
    if not stub or not entry_point:
        return None
    try:
        tree = ast.parse(stub)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == entry_point:
            a = node.args
            if a.vararg or a.kwarg or a.kwonlyargs or a.posonlyargs or not a.args:
                return None
            makers = [_maker(arg.annotation) for arg in a.args]
            return None if any(m is None for m in makers) else [m for m in makers if m is not None]
    return None


class SignatureArgs:
    """Proposes JSON argument lists (`[arg1, arg2, ...]`, the function problems' input format) from annotations."""

    def __init__(self, stub: str | None, entry_point: str | None) -> None:
        self.makers = argument_makers(stub, entry_point)

    def propose(self, count: int, rng: random.Random) -> list[str]:
        if self.makers is None:
            return []
        return [json.dumps([make(rng) for make in self.makers]) for _ in range(count)]
