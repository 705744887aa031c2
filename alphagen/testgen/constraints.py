"""Reading numeric constraints such as `1 <= n <= 10^5` or `$1 \\le a_i \\le 2 \\cdot 10^9$` from a statement.

Mutation uses them for boundary values (the smallest and largest legal n, a_i ...) and validation uses their
overall span to reject inputs holding absurd numbers. Parsing is best-effort: a constraint we cannot read is
simply absent, never an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Constraint:
    """One parsed range over one or more names."""

    names: tuple[str, ...]
    """Normalized names: `a_i` -> `a`, `|s|` kept as `|s|` (a length)."""
    lo: int | None
    """Inclusive lower bound (None: not stated)."""
    hi: int | None
    """Inclusive upper bound (None: not stated)."""
    in_legend: bool = field(default=False, compare=False)
    """Stated before the statement's Input heading (the story, or the answer's range: `0 <= r < 998244353`):
    less likely a value of the input than one the Input section states (`random_model` ranks it after)."""

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("names must not be empty")
        if self.lo is not None and self.hi is not None and self.lo > self.hi:
            raise ValueError(f"lo must be <= hi, got {self.lo} > {self.hi}")


# Step 1: bring TeX, Unicode and ASCII spellings of the same thing to one form.
_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    (r"\left", " "),
    (r"\right", " "),
    (r"\leqslant", "≤"),
    (r"\leq", "≤"),
    (r"\le", "≤"),
    ("<=", "≤"),
    ("⩽", "≤"),
    (r"\geqslant", "≥"),
    (r"\geq", "≥"),
    (r"\ge", "≥"),
    (">=", "≥"),
    ("⩾", "≥"),
    (r"\cdot", "·"),
    ("⋅", "·"),
    (r"\times", "·"),
    ("×", "·"),
    ("*", "·"),
    (r"\lt", "<"),
    (r"\gt", ">"),
    ("$", " "),
    ("\u2009", " "),
    ("\u202f", " "),
    ("\xa0", " "),
    ("\u2212", "-"),
    (r"\,", " "),
    ("~", " "),
)
_BRACED_EXP = re.compile(r"\^\s*\{\s*(-?\d+)\s*\}")
_SUBSCRIPT = re.compile(r"_\{[^}]*\}|_[A-Za-z0-9]+")
# A number: digits (possibly grouped by spaces/commas in thousands), an optional mantissa·10^k, or plain 10^k.
_NUM = r"(?:-\s*)?(?:\d+\^\s*\d+(?:[ \t]*[-+][ \t]*\d(?![\d^]))?|\d+(?:[ ,]\d{3})*(?:\s*·\s*10\^\s*\d+)?)"
# Statements scraped without superscripts write 10^5 as "105" and 2·10^9 as "2·109": in a statement with no
# "^" at all, 10 followed by an exponent 4..18 (first digit not 0) is read as that power.
_MANGLED = re.compile(r"(?<![\d.,])10([1-9]\d?)(?!\d)")
_NAME = r"\|?[A-Za-z][A-Za-z0-9']*\|?"
_NAMES = rf"{_NAME}(?:\s*,\s*{_NAME})*"
_BOTH = re.compile(rf"({_NUM})\s*(≤|<)\s*({_NAMES})\s*(≤|<)\s*({_NUM})(?![\d^·])")
_UPPER = re.compile(rf"(?<![≤<\w])({_NAMES})\s*(≤|<)\s*({_NUM})(?![\d^·])")
# The heading of the input section: a line of its own ("Input", "Input Format", "Input:").
_INPUT_HEADING = re.compile(r"^[ \t]*Input(?:[ \t]+(?:Format|Specification|data))?[ \t]*:?[ \t]*$", re.MULTILINE)


# "The total length of all words does not exceed 10^5", "the sum of lengths of the strings is at most 2·10^5":
# a bound on all strings together. Kept as the pseudo-name TOTAL_LENGTH.
_TOTAL = re.compile(
    rf"(?:total|sum|summary)\s+(?:of\s+(?:the\s+|all\s+)?)?lengths?\b[^.≤<]{{0,60}}?"
    rf"(?:does\s+not\s+exceed|doesn't\s+exceed|is\s+at\s+most|is\s+not\s+greater\s+than|≤)\s*({_NUM})(?![\d^·])",
    re.IGNORECASE,
)
TOTAL_LENGTH = "|*|"
"""The name of a bound on the total length of all strings of an input (each string is at most that long too)."""


def _unmangle(m: re.Match[str]) -> str:
    exp = int(m.group(1))
    return f"10^{exp}" if 4 <= exp <= 18 else m.group(0)


def _normalize(text: str) -> str:
    for a, b in _REPLACEMENTS:
        text = text.replace(a, b)
    text = _BRACED_EXP.sub(r"^\1", text)
    if "^" not in text:
        text = _MANGLED.sub(_unmangle, text)
    # `a_i`, `a_{i,j}` and `a_1` all stand for the array a: its subscript is not part of the name.
    return _SUBSCRIPT.sub("", text)


def parse_number(text: str) -> int | None:
    """`2 · 10^5` -> 200000, `200 000` -> 200000, `-10^9` -> -1000000000; None if it does not parse."""
    t = "".join(text.split())
    neg = t.startswith("-")
    t = t.lstrip("-")
    p = re.fullmatch(r"(\d+)\^(\d+)(?:([-+])(\d))?", t)
    if p:
        # b^k, optionally followed by a small correction (2^{25} - 1).
        base, exp = int(p.group(1)), int(p.group(2))
        if exp > 64 or base > 10**6 or base**exp > 10**30:
            return None
        value = base**exp
        if p.group(3):
            value += int(p.group(4)) if p.group(3) == "+" else -int(p.group(4))
        return -value if neg else value
    m = re.fullmatch(r"(\d+(?:,\d{3})*)(?:·10\^(\d+))?", t)
    if not m:
        return None
    value = int(m.group(1).replace(",", ""))
    if m.group(2) is not None:
        exp = int(m.group(2))
        if exp > 30:
            return None
        value *= 10**exp
    return -value if neg else value


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def parse_constraints(statement: str) -> list[Constraint]:
    """Every `lo ≤ names ≤ hi` and `names ≤ hi` range found in the statement, in order of appearance, and a bound
    on the total length of the strings (named TOTAL_LENGTH, from 1)."""
    text = _normalize(statement)
    # Where the Input section starts (0 without a heading: nothing is then marked as the legend's).
    heading = _INPUT_HEADING.search(text)
    legend_end = heading.start() if heading else 0
    found: list[tuple[int, Constraint]] = []
    covered: list[tuple[int, int]] = []
    for m in _BOTH.finditer(text):
        lo, hi = parse_number(m.group(1)), parse_number(m.group(5))
        if lo is None or hi is None:
            continue
        # Strict bounds (`1 < n`) are rare but legal: tighten them to the inclusive form.
        lo = lo + 1 if m.group(2) == "<" else lo
        hi = hi - 1 if m.group(4) == "<" else hi
        if lo > hi:
            continue
        found.append((m.start(), Constraint(_names(m.group(3)), lo, hi, m.start() < legend_end)))
        covered.append((m.start(), m.end()))
    for m in _UPPER.finditer(text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        hi = parse_number(m.group(3))
        if hi is None:
            continue
        hi = hi - 1 if m.group(2) == "<" else hi
        found.append((m.start(), Constraint(_names(m.group(1)), None, hi, m.start() < legend_end)))
    for m in _TOTAL.finditer(text):
        hi = parse_number(m.group(1))
        if hi is not None and hi >= 1:
            found.append((m.start(), Constraint((TOTAL_LENGTH,), 1, hi, m.start() < legend_end)))
    return [c for _, c in sorted(found, key=lambda pc: pc[0])]


def bounds_for(name: str, constraints: Sequence[Constraint]) -> tuple[int | None, int | None]:
    """The first stated range for `name` (None, None when the statement gives none)."""
    for c in constraints:
        if name in c.names:
            return c.lo, c.hi
    return None, None


def ranges_containing(value: int, constraints: Sequence[Constraint]) -> list[tuple[int, int]]:
    """Fully stated ranges that contain `value`, tightest first: candidates for the token's legal range when
    we cannot tell which name the token stands for."""
    spans = [(c.lo, c.hi) for c in constraints if c.lo is not None and c.hi is not None and c.lo <= value <= c.hi]
    return sorted(set(spans), key=lambda s: (s[1] - s[0], s))  # type: ignore[operator]


def overall_span(constraints: Sequence[Constraint]) -> tuple[int | None, int | None]:
    """The smallest lower and the largest upper bound stated anywhere: a loose sanity range for any number."""
    los = [c.lo for c in constraints if c.lo is not None]
    his = [c.hi for c in constraints if c.hi is not None]
    return (min(los) if los else None, max(his) if his else None)
