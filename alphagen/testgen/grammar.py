"""The learned input format compiled into an EBNF grammar, to constrain the test-input model's decoding.

A context-free grammar cannot say "n numbers, where n is the number read earlier" in general, but with small
bounded sizes it can enumerate them: every scalar that sizes something (or bounds other values: k <= n) is
written as one alternative per value, and everything after it is a rule specialised for that value, so the
array that follows has exactly n elements by construction. A sample the grammar allows is therefore read by
the problem's skeleton (`InputFormat`, EXACT leniency). Sizes stay small on purpose: small tricky cases are
what a model is good at; the random source covers the maximum sizes.

Values are bounded by the ranges learned from the examples and the statement's constraints
(`random_model.learn_models`): integers by an exact numeric-range grammar (digit by digit), bounded by an
enumerated scalar where the examples show "value <= n"; words by the alphabet seen and their length range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from alphagen.testgen.input_format import InputFormat
from alphagen.testgen.random_model import SlotModel, learn_models
from alphagen.testgen.template import Array, Block, Fixed, Item, Repeat, Str, Template, repeat_counts, visit

MAX_GRAMMAR_BYTES = 400_000
"""Larger grammars are not used (compiling them would cost more than the inputs are worth)."""


@dataclass(frozen=True)
class GrammarLimits:
    """How far the grammar enumerates sizes (it grows with the product of the enumerated ranges)."""

    max_size: int = 8
    """Enumerated sizes go at most this far above their smallest legal value."""
    max_cases: int = 3
    """Test-case counts (`t`) go at most this far above their smallest legal value."""
    max_word: int = 12
    """Longest free word (one not sized by a scalar)."""
    max_alternatives: int = 400
    """Upper bound on the product of all enumerated ranges (smaller per-scalar ranges when many scalars)."""

    def __post_init__(self) -> None:
        for name in ("max_size", "max_cases", "max_word", "max_alternatives"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")


def int_range(lo: int, hi: int) -> str:
    """An EBNF expression matching exactly the decimal integers in [lo, hi] (no leading zeros, no "+")."""
    if lo > hi:
        raise ValueError(f"empty range [{lo}, {hi}]")
    parts = []
    if lo < 0:
        parts.append('"-" ' + _nonneg(max(1, -hi), -lo))
    if hi >= 0:
        parts.append(_nonneg(max(0, lo), hi))
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _nonneg(lo: int, hi: int) -> str:
    # Split by digit count, then match digit strings of one length between two bounds.
    parts = []
    for n in range(len(str(lo)), len(str(hi)) + 1):
        a = max(lo, 10 ** (n - 1) if n > 1 else 0)
        b = min(hi, 10**n - 1)
        if a <= b:
            parts.append(_same_length(str(a), str(b)))
    return parts[0] if len(parts) == 1 else "(" + " | ".join(parts) + ")"


def _same_length(lo: str, hi: str) -> str:
    n = len(lo)
    if lo == "0" * n and hi == "9" * n:
        return f"[0-9]{{{n}}}" if n > 1 else "[0-9]"
    if n == 1:
        return f'"{lo}"' if lo == hi else f"[{lo}-{hi}]"
    if lo[0] == hi[0]:
        return f'"{lo[0]}" ' + _same_length(lo[1:], hi[1:])
    parts = ['"' + lo[0] + '" ' + _same_length(lo[1:], "9" * (n - 1))]
    if int(hi[0]) - int(lo[0]) > 1:
        parts.append(f"[{int(lo[0]) + 1}-{int(hi[0]) - 1}] [0-9]{{{n - 1}}}")
    parts.append('"' + hi[0] + '" ' + _same_length("0" * (n - 1), hi[1:]))
    return "(" + " | ".join(parts) + ")"


def _literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _char_class(alphabet: str) -> str:
    chars = "".join("\\" + c if c in "\\]^-[" else c for c in sorted(set(alphabet)))
    return f"[{chars}]"


class _Builder:
    """Writes the rules; one rule per (place in the skeleton, values of the enumerated scalars)."""

    def __init__(self, t: Template, models: dict[int, SlotModel], enumerated: set[int], limits: GrammarLimits):
        self.t, self.models, self.enumerated, self.limits = t, models, enumerated, limits
        self.rules: dict[str, str] = {}
        self.names: dict[object, str] = {}
        # Each enumerated scalar gets a range small enough that all of them together stay within the bound.
        k = max(2, int(limits.max_alternatives ** (1 / max(1, len(enumerated)))))
        self.span = min(limits.max_size, k)
        self.min_size = t.smallest_sizes()

    def rule(self, key: object, body: str) -> str:
        if key not in self.names:
            name = f"r{len(self.names)}"
            self.names[key] = name
            self.rules[name] = body
        return self.names[key]

    def cached(self, key: object, body: Callable[[], str]) -> str:
        """Like `rule`, writing the body only the first time the key is seen."""
        return self.names[key] if key in self.names else self.rule(key, body())

    def values(self, slot: int, env: dict[int, int], repeat: bool) -> range:
        """The values an enumerated scalar takes: from its smallest legal value, a few up."""
        m = self.models.get(slot)
        lo, hi = (m.lo, m.hi) if m is not None else (1, 1)
        lo = max(lo, self.min_size.get(slot, 0), 1 if repeat else 0)
        if m is not None:
            for b, off in m.bounds:
                if b in env:
                    hi = min(hi, env[b] + off)
        top = min(hi, lo + (self.limits.max_cases if repeat else self.span) - 1)
        return range(lo, max(lo, top) + 1)

    def scalar(self, slot: int, env: dict[int, int]) -> str:
        """A rule for one value of a slot that is not enumerated."""
        m = self.models.get(slot)
        if m is None:
            return self.rule(("any", slot), "[0-9]")
        if m.kind == "int":
            lo, hi = m.lo, m.hi
            for b, off in m.bounds:
                if b in env:
                    hi = min(hi, env[b] + off)
            hi = max(lo, hi)
            return self.rule(("int", lo, hi), int_range(lo, hi))
        if m.kind == "float":
            digits = max(1, len(str(int(max(abs(m.flo), abs(m.fhi))))))
            frac = f' "." [0-9]{{{m.decimals}}}' if m.decimals > 0 else ""
            sign = '"-"? ' if m.flo < 0 else ""
            return self.rule(("float", slot), f"{sign}[0-9]{{1,{digits}}}{frac}")
        if m.choices:
            return self.rule(("choice", slot), "(" + " | ".join(_literal(c) for c in m.choices) + ")")
        lo = max(1, m.lo)
        hi = max(lo, min(m.hi, self.limits.max_word))
        return self.rule(("word", slot, lo, hi), f"{_char_class(m.alphabet)}{{{lo},{hi}}}")

    def word(self, slot: int, n: int) -> str:
        m = self.models.get(slot)
        alphabet = m.alphabet if m is not None and m.alphabet else "ab"
        return self.rule(("str", slot, n), f"{_char_class(alphabet)}{{{n}}}")

    def seq(self, items: Sequence[Item], i: int, env: dict[int, int], tail: str) -> str:
        """The rule for items[i:] followed by `tail` (a rule name, or "" at the very end)."""
        key = ("seq", id(items), i, tuple(sorted(env.items())), tail)
        if key in self.names:
            return self.names[key]
        if i == len(items):
            return self.rule(key, tail or '""')
        return visit(items[i], _SeqRule(self, items, i, env, tail, key))

    def row(self, items: Sequence[Item], i: int, col: int, env: dict[int, int], tail: str) -> str:
        """A Fixed row from token `col` on, then the rest of the items."""
        it = items[i]
        assert isinstance(it, Fixed)
        if col == len(it.slots):
            return '"\\n" ' + self.seq(items, i + 1, env, tail)
        sep = '" " ' if col > 0 else ""
        s = it.slots[col]
        if s in self.enumerated and it.kinds[col] == "int":
            repeat = s in repeat_counts(items)
            alts = []
            for v in self.values(s, env, repeat):
                e = {**env, s: v}
                key = ("row", id(items), i, col + 1, tuple(sorted(e.items())), tail)
                nxt = self.cached(key, lambda e=e: self.row(items, i, col + 1, e, tail))  # type: ignore[misc]
                alts.append(f'{sep}"{v}" {nxt}')
            return "(" + " | ".join(alts) + ")"
        key = ("row", id(items), i, col + 1, tuple(sorted(env.items())), tail)
        nxt = self.cached(key, lambda: self.row(items, i, col + 1, env, tail))
        return f"{sep}{self.scalar(s, env)} {nxt}"


@dataclass
class _SeqRule:
    """The rule for items[i:] followed by `tail`, by the kind of items[i] (`_Grammar.seq`). Rules are named in the
    order they are made, so each kind makes the rest's rule first, as the grammar always did (a fixed row last)."""

    g: _Builder
    items: Sequence[Item]
    i: int
    env: dict[int, int]
    tail: str
    key: tuple[object, ...]

    def _rest(self) -> str:
        return self.g.seq(self.items, self.i + 1, self.env, self.tail)

    def fixed(self, it: Fixed) -> str:
        return self.g.rule(self.key, self.g.row(self.items, self.i, 0, self.env, self.tail))

    def repeat(self, it: Repeat) -> str:
        # t cases, each following the body with its own enumerated sizes: one alternative per t.
        # t was enumerated on its row, so it is known here: chain t cases, each with its own sizes.
        chain = self._rest()
        for _ in range(self.env.get(it.size, 1)):
            chain = self.g.seq(it.body, 0, dict(self.env), chain)
        return self.g.rule(self.key, chain)

    def _sized(self, size: int, delta: int, body: Callable[[int, str], str]) -> str:
        rest = self._rest()
        n = self.env.get(size, 0) + delta
        if n <= 0:
            return self.g.rule(self.key, rest)  # an empty array or block takes no row
        return self.g.rule(self.key, body(n, rest))

    def array(self, it: Array) -> str:
        def body(n: int, rest: str) -> str:
            v = self.g.scalar(it.slot, self.env)
            return f'{v} (" " {v}){{{n - 1}}} "\\n" {rest}' if n > 1 else f'{v} "\\n" {rest}'
        return self._sized(it.size, it.delta, body)

    def string(self, it: Str) -> str:
        return self._sized(it.size, it.delta, lambda n, rest: f'{self.g.word(it.slot, n)} "\\n" {rest}')

    def block(self, it: Block) -> str:
        def body(n: int, rest: str) -> str:
            if it.width is not None:
                w = max(1, self.env.get(it.width, 1))
                line = f'{self.g.word(it.slots[0], w)} "\\n"'
            else:
                line = ' " " '.join(self.g.scalar(s, self.env) for s in it.slots) + ' "\\n"'
            row = self.g.rule(("line", id(it), tuple(sorted(self.env.items()))), line)
            return f"{row}{{{n}}} {rest}"
        return self._sized(it.size, it.delta, body)


def input_grammar(fmt: InputFormat, limits: GrammarLimits | None = None) -> str | None:
    """The EBNF grammar (root rule `root`) of small inputs in the learned format; None when no skeleton was
    learned (the caller samples unconstrained and says why)."""
    t = fmt.template
    if t is None:
        return None
    limits = limits or GrammarLimits()
    models, _ = learn_models(t, fmt.constraints)
    # Enumerated: what sizes something, and what bounds many values (vertices <= n), as in the random source.
    enumerated = t.sizes() | {b for m in models.values() if "strong_bounds" in m.flags for b, _ in m.bounds}
    enumerated = {s for s in enumerated if t.slot_kinds.get(s) == "int"}
    b = _Builder(t, models, enumerated, limits)
    root = b.seq(t.items, 0, {}, "")
    lines = [f"root ::= {root}"] + [f"{name} ::= {body}" for name, body in b.rules.items()]
    text = "\n".join(lines) + "\n"
    # A grammar too big to compile quickly is not worth it: the caller falls back to unconstrained sampling.
    return text if len(text) < MAX_GRAMMAR_BYTES else None
