"""Function problems: inputs are JSON arrays of arguments. Mutate each value by its JSON type, keep the arity.

The shape check mirrors the stdin one: a proposed argument list must have the examples' arity, and each
argument the JSON type that argument has in the examples (list element types included).
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Sequence

from alphagen.jsonvalue import Json
from alphagen.testgen.constraints import Constraint, ranges_containing

# Deeper than any example's arguments; deep enough values would overflow the recursion of json.dumps and type_of.
MAX_DEPTH = 64


def _depth(value: Json) -> int:
    """Nesting depth of a JSON value (iterative: the value may be a model's 10^5 nested lists)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        deepest = max(deepest, d)
        if isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
        elif isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
    return deepest


def parse_args(text: str) -> list[Json] | None:
    """The argument list a JSON text holds; None when it is not one, or is nested deeper than MAX_DEPTH."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError is a ValueError (as is a huge int)
        return None
    return value if isinstance(value, list) and _depth(value) <= MAX_DEPTH else None


def type_of(value: Json) -> str:
    """A JSON type name; lists carry their element types (`list[int]`), empty lists are `list[]`."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        inner = sorted({type_of(v) for v in value})
        return f"list[{'|'.join(inner)}]"
    if isinstance(value, dict):
        return "dict"
    return "null"


def _type_ok(seen: set[str], new: Json) -> bool:
    t = type_of(new)
    if t in seen or t == "list[]" and any(s.startswith("list[") for s in seen):
        return True
    # Mixing ints into a float slot is legal in Python; the reverse is not assumed.
    return (t == "int" and "float" in seen) or (
        t.startswith("list[")
        and any(
            s.startswith("list[")
            and set(t[5:-1].split("|")) <= set(s[5:-1].split("|")) | ({"int"} if "float" in s else set())
            for s in seen
        )
    )


def args_problem(examples: Sequence[str], text: str, max_bytes: int) -> str | None:
    """Why `text` is not an argument list shaped like the examples', or None."""
    if len(text) > max_bytes:
        return f"longer than {max_bytes} bytes"
    new = parse_args(text)
    if new is None:
        return "not a JSON array"
    shown = [a for a in (parse_args(e) for e in examples) if a is not None]
    if not shown:
        return None
    arities = {len(a) for a in shown}
    if len(new) not in arities:
        return f"{len(new)} arguments, examples have {sorted(arities)}"
    for i, v in enumerate(new):
        seen = {type_of(a[i]) for a in shown if i < len(a)}
        if seen and not _type_ok(seen, v):
            return f"argument {i + 1} is {type_of(v)}, examples have {sorted(seen)}"
    return None


class ArgsMutator:
    """Type-aware mutants of the examples' argument lists; deterministic for a given RNG."""

    def __init__(self, examples: Sequence[str], constraints: Sequence[Constraint], scale_cap: int) -> None:
        self.examples = [a for a in (parse_args(e) for e in examples) if a]
        self.constraints = list(constraints)
        self.scale_cap = min(scale_cap, 200)
        chars = {c for a in self.examples for v in a for c in _strings_in(v)}
        self.alphabet = sorted(chars) if chars else list(string.ascii_lowercase)

    def propose(self, count: int, rng: random.Random) -> list[str]:
        out = []
        for _ in range(count):
            if not self.examples:
                break
            args = json.loads(json.dumps(rng.choice(self.examples)))
            i = rng.randrange(len(args))
            args[i] = self._mutate(args[i], rng, depth=0)
            out.append(json.dumps(args))
        return out

    def _int(self, v: int, rng: random.Random) -> int:
        spans = ranges_containing(v, self.constraints)
        lo, hi = spans[0] if spans else (min(0, 2 * v), max(10, abs(v) * 2))
        return min(max(rng.choice((lo, hi, v + 1, v - 1, 0, 1, -v, v * 2, rng.randint(lo, hi))), lo), hi)

    def _mutate(self, v: Json, rng: random.Random, depth: int) -> Json:
        if isinstance(v, bool):
            return not v
        if isinstance(v, int):
            return self._int(v, rng)
        if isinstance(v, float):
            return round(v + rng.uniform(-1, 1) * max(1.0, abs(v)), 6)
        if isinstance(v, str):
            return self._str(v, rng)
        if isinstance(v, list):
            return self._list(v, rng, depth)
        return v

    def _str(self, s: str, rng: random.Random) -> str:
        op = rng.randrange(5)
        if op == 0 or not s:
            return "".join(rng.choice(self.alphabet) for _ in range(rng.randint(0, max(3, 2 * len(s)))))
        if op == 1:
            return s[::-1]
        if op == 2:
            return s[: rng.randrange(len(s))]
        if op == 3:
            return s + "".join(rng.choice(self.alphabet) for _ in range(rng.randint(1, 4)))
        k = rng.randrange(len(s))
        return s[:k] + rng.choice(self.alphabet) + s[k + 1 :]

    def _list(self, xs: list[Json], rng: random.Random, depth: int) -> list[Json]:
        op = rng.randrange(6)
        if op == 0:
            return []
        if op == 1 and xs:
            return xs[: rng.randrange(len(xs))]
        if op == 2 and xs:
            extra = [
                self._mutate(rng.choice(xs), rng, depth + 1) for _ in range(rng.randint(1, self.scale_cap))
            ]
            return xs + extra
        if op == 3 and xs:
            ys = list(xs)
            rng.shuffle(ys)
            return ys
        nums = [x for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if op == 4 and xs and len(nums) == len(xs):
            return list[Json](sorted(nums, reverse=rng.random() < 0.5))
        if xs and depth < 3:
            ys = list(xs)
            k = rng.randrange(len(ys))
            ys[k] = self._mutate(ys[k], rng, depth + 1)
            return ys
        return xs


def _strings_in(v: Json) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, list):
        return "".join(_strings_in(x) for x in v)
    return ""
