"""The shape of a stdin input, learned from the examples, and the check that a new input has the same shape.

A proposed input is kept only if it looks like the examples: the same kinds of tokens (int / float / word) on
each line, a first line like theirs, a line count explained the way theirs is (a constant, or a linear
function of a leading integer such as n), arrays whose length is a number read earlier when that held in
every example, and numbers inside the span the statement's constraints allow. Each rule is only enforced when
the examples themselves satisfy it, so an unusual format loosens the check instead of rejecting everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from alphagen.testgen.constraints import Constraint, overall_span

_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$")
DEFAULT_MAGNITUDE = 10**18
"""Largest absolute integer accepted when the statement states no bound (64-bit problems)."""


def token_kind(tok: str) -> str:
    """int, float or word."""
    if _INT.match(tok):
        return "int"
    if _FLOAT.match(tok):
        return "float"
    return "word"


def split_lines(text: str) -> list[list[str]]:
    """Token rows of an input, trailing blank lines dropped (inner blank lines kept as empty rows)."""
    rows = [line.split() for line in text.replace("\r\n", "\n").split("\n")]
    while rows and not rows[-1]:
        rows.pop()
    return rows


def run_length(rows: Sequence[Sequence[str]], start: int) -> int:
    """How many rows from `start` on have the same token kinds as rows[start] (rows[start] itself included)."""
    shape = [token_kind(t) for t in rows[start]]
    n = 0
    while start + n < len(rows) and [token_kind(t) for t in rows[start + n]] == shape:
        n += 1
    return n


def _kinds(row: Sequence[str]) -> tuple[str, ...]:
    return tuple(token_kind(t) for t in row)


def _compatible(seen: Sequence[str], new: Sequence[str]) -> bool:
    # An integer is a legal float ("1" where "1.5" was shown); nothing else converts.
    return len(seen) == len(new) and all(
        a == b or (a == "float" and b == "int") for a, b in zip(seen, new, strict=False)
    )


def _uniform_kind(kinds: Sequence[str]) -> str | None:
    return kinds[0] if kinds and all(k == kinds[0] for k in kinds) else None


def _ints(row: Sequence[str]) -> set[int]:
    return {int(t) for t in row if _INT.match(t)}


def _earlier_ints(rows: Sequence[Sequence[str]], upto: int) -> set[int]:
    return {v for r in rows[:upto] for v in _ints(r)}


def _line_count_rules(examples: Sequence[list[list[str]]]) -> list[tuple[int, int, int, int]]:
    """Rules `lines == a * value(row, col) + b` that hold in every example (row, col over the first two
    lines)."""
    rules: list[tuple[int, int, int, int]] = []
    first = examples[0]
    for row in range(min(2, len(first))):
        for col in range(len(first[row])):
            for a in (1, 2, 3):
                for b in range(0, 5):
                    values = [_value_at(ex, row, col) for ex in examples]
                    pairs = zip(values, examples, strict=True)
                    if all(v is not None and len(ex) == a * v + b for v, ex in pairs):
                        rules.append((row, col, a, b))
    return rules


def _value_at(rows: Sequence[Sequence[str]], row: int, col: int) -> int | None:
    if row < len(rows) and col < len(rows[row]) and _INT.match(rows[row][col]):
        return int(rows[row][col])
    return None


@dataclass(frozen=True)
class Format:
    """What every example input has in common (see the module docstring for the rules)."""

    first_line: tuple[tuple[str, ...], ...]
    """Token kinds of the first line in each example."""
    patterns: frozenset[tuple[str, ...]]
    """Token kinds of every line seen in any example."""
    variable_kinds: frozenset[str]
    """Kinds of uniform lines whose length varies (arrays): such a line may have any length."""
    line_counts: frozenset[int]
    """Line counts of the examples (blank inner lines excluded)."""
    count_rules: tuple[tuple[int, int, int, int], ...]
    """(row, col, a, b): lines == a * int at (row, col) + b in every example."""
    arrays_sized_by_earlier: bool
    """Every array line (>= 2 tokens, after the first line) had the length of an integer read before it."""
    strings_sized_by_earlier: bool
    """Every lone word of length >= 2 (after the first line) had the length of an integer read before it."""
    blank_lines: bool
    """Some example has a blank line inside it."""
    span: tuple[int, int]
    """Smallest and largest integer allowed anywhere (constraints, widened to cover the examples)."""


def learn_format(example_inputs: Sequence[str], constraints: Sequence[Constraint] = ()) -> Format | None:
    """The Format of the examples; None when there are no (non-empty) examples to learn from."""
    examples = [split_lines(t) for t in example_inputs]
    examples = [ex for ex in examples if ex]
    if not examples:
        return None
    dense = [[r for r in ex if r] for ex in examples]
    patterns = frozenset(_kinds(r) for ex in dense for r in ex)
    # A uniform kind is "variable" when its lines come in more than one length, or any of them is long.
    lengths: dict[str, set[int]] = {}
    for ex in dense:
        for r in ex:
            k = _uniform_kind(_kinds(r))
            if k is not None:
                lengths.setdefault(k, set()).add(len(r))
    variable = frozenset(k for k, ls in lengths.items() if len(ls) > 1 or max(ls) >= 4)
    arrays = [
        (ex, i)
        for ex in dense
        for i, r in enumerate(ex)
        if i > 0 and len(r) >= 2 and _uniform_kind(_kinds(r)) in ("int", "float")
    ]
    strings = [
        (ex, i)
        for ex in dense
        for i, r in enumerate(ex)
        if i > 0 and len(r) == 1 and len(r[0]) >= 2 and token_kind(r[0]) == "word"
    ]
    ints = [int(t) for ex in dense for r in ex for t in r if _INT.match(t)]
    lo, hi = overall_span(constraints)
    span_lo = min([v for v in (lo, *ints) if v is not None] or [-DEFAULT_MAGNITUDE])
    span_hi = max([v for v in (hi, *ints) if v is not None] or [DEFAULT_MAGNITUDE])
    if lo is None:
        span_lo = min(span_lo, -DEFAULT_MAGNITUDE) if any(v < 0 for v in ints) else min(span_lo, 0)
    if hi is None:
        span_hi = DEFAULT_MAGNITUDE
    return Format(
        first_line=tuple(_kinds(ex[0]) for ex in dense),
        patterns=patterns,
        variable_kinds=variable,
        line_counts=frozenset(len(ex) for ex in dense),
        count_rules=tuple(_line_count_rules(dense)),
        arrays_sized_by_earlier=bool(arrays) and all(len(ex[i]) in _earlier_ints(ex, i) for ex, i in arrays),
        strings_sized_by_earlier=bool(strings) and all(len(ex[i][0]) in _earlier_ints(ex, i) for ex, i in strings),
        blank_lines=any(not r for ex in examples for r in ex),
        span=(span_lo, span_hi),
    )


def _line_ok(fmt: Format, kinds: tuple[str, ...]) -> bool:
    if any(_compatible(p, kinds) for p in fmt.patterns):
        return True
    k = _uniform_kind(kinds)
    return k is not None and (k in fmt.variable_kinds or (k == "int" and "float" in fmt.variable_kinds))


def structure_problem(fmt: Format, text: str, max_bytes: int) -> str | None:
    """Why `text` does not look like the examples, or None when it does."""
    if not text.strip():
        return "empty"
    if len(text) > max_bytes:
        return f"longer than {max_bytes} bytes"
    if any(not (c.isprintable() or c in "\n\t\r") for c in text) or not text.isascii():
        return "non-printable or non-ASCII characters"
    rows = split_lines(text)
    if not fmt.blank_lines and any(not r for r in rows):
        return "blank line inside the input"
    dense = [r for r in rows if r]
    first = _kinds(dense[0])
    if not any(_compatible(f, first) for f in fmt.first_line) and not (
        len({len(f) for f in fmt.first_line}) > 1 and _line_ok(fmt, first)
    ):
        return f"first line has kinds {first}, examples have {sorted(set(fmt.first_line))}"
    for i, r in enumerate(dense):
        if not _line_ok(fmt, _kinds(r)):
            return f"line {i + 1} has token kinds unlike any example line"
    # The line count must be explained the way the examples' counts are (when any rule explains all of them).
    constant = len(fmt.line_counts) == 1
    if constant or fmt.count_rules:
        ok = constant and len(dense) in fmt.line_counts
        for row, col, a, b in fmt.count_rules:
            v = _value_at(dense, row, col)
            ok = ok or (v is not None and len(dense) == a * v + b)
        if not ok:
            return f"{len(dense)} lines: not the count the leading numbers call for"
    # The integers of the lines before line i, grown line by line: recomputed for every line, this was quadratic in
    # the line count (a 142 KB random input of range-sum-queries, 30,000 lines: 150 s of shape checks).
    earlier: set[int] = set()
    for i, r in enumerate(dense):
        if fmt.arrays_sized_by_earlier and i > 0 and len(r) >= 2 and _uniform_kind(_kinds(r)) in ("int", "float"):
            if len(r) not in earlier:
                return f"line {i + 1} has {len(r)} numbers, a length no earlier number gives"
        if fmt.strings_sized_by_earlier and i > 0 and len(r) == 1 and token_kind(r[0]) == "word" and len(r[0]) >= 2:
            if len(r[0]) not in earlier:
                return f"line {i + 1} holds a string of length {len(r[0])}, a length no earlier number gives"
        earlier |= _ints(r)
    lo, hi = fmt.span
    for r in dense:
        for t in r:
            if _INT.match(t) and not lo <= int(t) <= hi:
                return f"number {t} outside the allowed span [{lo}, {hi}]"
    return None
