"""The "random" source: fresh inputs drawn from the skeleton learned from the examples.

Mutation perturbs an example; this source writes new inputs of the same format from scratch, in profiles
chosen to hit what wrong programs get wrong:

    min     every size and value at its smallest (n = 1, an empty-ish case: off-by-one on boundaries);
    tiny / small   sizes of a few elements, values from a narrow range (duplicates, collisions, ties);
    medium  sizes up to `scale_cap`;
    allsmall   exhaustive small cases: many rows (test cases, queries) of small sizes and values, a third of
            the values a copy of one drawn before, and strings over one two-letter alphabet shared by every
            string, so that ties, equal values and repeated or shared substrings (n = 2k, s = x, "abab") turn up
            in every input;
    max     the largest sizes (`large_scale`, within the constraints): slow programs time out, answers
            outgrow a wrong modulus. Where rows hold strings, half of these are "deep": a few rows of the
            longest strings (a quadratic pass over one string of 10^5 letters, not 10^4 strings of 10).
    limit   every size and most values at their stated maxima, in one or two test cases (only
            `alphagen.limits` draws it: which programs are right but too slow).

A bound on the total length of the strings ("the total length of all words does not exceed 10^5") is shared
out over the strings left to write, as the byte cap is.

Each value of a slot is drawn in a mode picked per slot and input: narrow, small, full range, log-uniform
(every magnitude), extremes (lo / hi), or special numbers (powers of two and 2^k - 1, powers of ten, squares).
Ranges and relations come from `random_model`; the result is deterministic for an RNG.
"""

from __future__ import annotations

import math
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

from alphagen.testgen.constraints import TOTAL_LENGTH, Constraint
from alphagen.testgen.input_format import InputFormat
from alphagen.testgen.random_model import BlockModel, SlotModel, flat_items, learn_models
from alphagen.testgen.template import (
    Array,
    Block,
    Fixed,
    Item,
    Repeat,
    Str,
    Template,
    learn_template,
    repeat_counts,
    row_count,
    visit,
)

PROFILES = ("tiny", "small", "allsmall", "small", "medium", "tiny", "small", "maxval", "allsmall", "medium", "small")
"""Profiles cycled after the first ("min") and besides every fifth ("max")."""
MODES = ("narrow", "small", "full", "log", "extreme", "special", "full", "log")


class _TooBig(Exception):
    """Raised when an input outgrows the byte budget while being written."""


def _special(lo: int, hi: int, rng: random.Random) -> int:
    pool = [2**k for k in range(63)] + [2**k - 1 for k in range(1, 63)] + [10**k for k in range(19)]
    pool += [k * k for k in range(1, 40)] + [10**k - 1 for k in range(1, 19)] + [lo, hi]
    pool = [v for v in pool if lo <= v <= hi]
    return rng.choice(pool) if pool else rng.randint(lo, hi)


def draw_int(lo: int, hi: int, mode: str, rng: random.Random) -> int:
    """One integer in [lo, hi] drawn in `mode` (see the module docstring)."""
    if hi <= lo:
        return lo
    if mode == "narrow":
        return rng.randint(lo, min(hi, lo + 2))
    if mode == "small":
        if lo < 0 < hi:
            return rng.randint(max(lo, -5), min(hi, 5))
        return rng.randint(lo, min(hi, lo + 9))
    if mode == "log":
        span = hi - lo
        return min(hi, lo + int(math.exp(rng.uniform(0, math.log(span + 1)))) - 1 + rng.randint(0, 1))
    if mode == "extreme":
        return rng.choice((lo, hi, hi, hi - 1, lo + 1))
    if mode == "top":
        return rng.randint(max(lo, hi - (hi - lo) // 1000), hi)
    if mode == "special":
        return _special(lo, hi, rng)
    return rng.randint(lo, hi)


class RandomInputs:
    """Proposes fresh inputs in the examples' format; deterministic for a given RNG."""

    def __init__(
        self,
        examples: Sequence[str],
        constraints: Sequence[Constraint],
        scale_cap: int,
        large_scale: int,
        max_bytes: int,
        fmt: InputFormat | None = None,
    ) -> None:
        # The skeleton is the problem's shared input-format model when one is given (learned once per problem).
        self.template: Template | None = fmt.template if fmt is not None else learn_template(examples)
        self.models: dict[int, SlotModel] = {}
        self.blocks: dict[int, BlockModel] = {}
        if self.template is not None:
            self.models, self.blocks = learn_models(self.template, constraints)
        # Size-like: what sizes something, and what bounds many values (n for vertices 1..n): drawn by profile.
        self.sizes = self.template.sizes() if self.template else set()
        self.sizes |= {b for m in self.models.values() if "strong_bounds" in m.flags for b, _ in m.bounds}
        self.scale_cap, self.large_scale, self.max_bytes = scale_cap, max(large_scale, scale_cap), max_bytes
        totals = [c.hi for c in constraints if TOTAL_LENGTH in c.names and c.hi is not None]
        self.total_letters = min(totals) if totals else None
        # Counts of rows (a block's, a repeat's): what a "deep" input keeps small. Not a string's stated length.
        flat = flat_items(self.template) if self.template else []
        top = self.template.items if self.template else []
        self.row_counts = {c for x in [*flat, *top] if (c := row_count(x)) is not None}
        alphabets = [set(m.alphabet) for m in self.models.values() if m.kind == "word" and not m.choices]
        self.has_words = bool(alphabets)
        # Letters every string may hold: an "allsmall" input's two letters come from here when it has any.
        self.common_letters = "".join(sorted(set.intersection(*alphabets))) if alphabets else ""

    def propose(self, count: int, rng: random.Random) -> list[str]:
        if self.template is None or count <= 0:
            return []
        out: list[str] = []
        for k in range(count * 3):
            if len(out) >= count:
                break
            n = len(out)
            profile = "min" if k == 0 else "max" if n % 5 == 1 else PROFILES[(n + k) % len(PROFILES)]
            text = self.generate(profile, rng)
            if text is not None and text not in out:
                out.append(text)
        return out

    # --- one input ----------------------------------------------------------------------------------------------

    def generate(self, profile: str, rng: random.Random) -> str | None:
        """One input in `profile`, or None when the drawn sizes cannot be honoured."""
        assert self.template is not None
        self.profile, self.rng, self.budget = profile, rng, self.max_bytes
        self.row_share = self.max_bytes  # bytes a word may take: set per row inside a block of rows
        self.letters = self.total_letters  # letters all strings may still take (None: no stated total)
        self.letter_share = self.letters  # letters this string may take: set per row inside a block of rows
        # Drawn only where it matters, so inputs of problems without strings keep their random streams.
        self.deep = profile == "max" and self.has_words and rng.random() < 0.5
        self.pair = ""  # the two letters every string of an "allsmall" input is written in
        self.drawn: list[int] = []  # the values of an "allsmall" input so far
        self.modes: dict[int, str] = {}
        self.soft = rng.random() < 0.85  # relations seen on a few scalars only: usually, not always, kept
        rows: list[list[str]] = []
        try:
            if not self._items(self.template.items, {}, rows):
                return None
        except _TooBig:
            return None
        return "\n".join(" ".join(r) for r in rows) + "\n"

    def _emit(self, rows: list[list[str]], row: list[str]) -> None:
        self.budget -= sum(len(t) + 1 for t in row)
        if self.budget < 0:
            raise _TooBig
        rows.append(row)

    def _mode(self, slot: int) -> str:
        if slot not in self.modes:
            if self.profile == "min":
                self.modes[slot] = "narrow"
            elif self.profile == "allsmall":
                self.modes[slot] = "small"
            elif self.profile == "maxval":
                self.modes[slot] = self.rng.choice(("extreme", "full", "special"))
            elif self.profile == "max":
                self.modes[slot] = self.rng.choice(("extreme", "full", "log", "narrow"))
            elif self.profile == "limit":
                self.modes[slot] = self.rng.choice(("top", "top", "full"))
            else:
                self.modes[slot] = self.rng.choice(MODES)
        return self.modes[slot]

    def _value(self, lo: int, hi: int, mode: str) -> int:
        """A value in [lo, hi]; in an "allsmall" input a third are a copy of one drawn before (when in range)."""
        if self.profile == "allsmall" and self.drawn and self.rng.random() < 1 / 3:
            v = self.rng.choice(self.drawn)
            if lo <= v <= hi:
                return v
        v = draw_int(lo, hi, mode, self.rng)
        if self.profile == "allsmall":
            self.drawn.append(v)
        return v

    def _range(self, m: SlotModel, env: dict[int, int]) -> tuple[int, int]:
        lo, hi = m.lo, m.hi
        if "strong_bounds" in m.flags or self.soft:
            for b, off in m.bounds:
                if b in env:
                    hi = min(hi, env[b] + off)
        return lo, hi

    def _size(self, m: SlotModel, env: dict[int, int], repeat: bool, slot: int = -1) -> int:
        lo, hi = self._range(m, env)
        lo = max(lo, 0)
        p, rng = self.profile, self.rng
        if hi < lo:
            return lo
        if p == "min":
            return lo
        if p == "allsmall":
            # Many small cases in one input: rows many, each row's sizes (an array, a string) few.
            top = 30 if repeat or slot in self.row_counts else 9
            return rng.randint(lo, min(hi, lo + top))
        if p == "limit":
            # Every size at its stated maximum (within large_scale), in one or two test cases (t cases of the
            # largest size each would overflow any byte cap): what a hidden test at the limits holds.
            return max(lo, min(hi, lo + 1)) if repeat else max(lo, min(hi, self.large_scale))
        if p == "max":
            few = repeat or (self.deep and slot in self.row_counts)
            return rng.randint(lo, min(hi, lo + 2)) if few else max(lo, min(hi, self.large_scale))
        top = {"tiny": 2, "small": 7, "maxval": 4}.get(p, self.scale_cap)
        top = min(hi, lo + top)
        return draw_int(lo, top, "log", rng) if p == "medium" else rng.randint(lo, top)

    def _scalar(self, slot: int, env: dict[int, int], repeat: bool = False) -> str:
        m = self.models.get(slot)
        if m is None:
            return "1"
        if m.kind == "int":
            if slot in self.sizes:
                return str(self._size(m, env, repeat, slot))
            lo, hi = self._range(m, env)
            return str(self._value(lo, max(lo, hi), self._mode(slot)))
        if m.kind == "float":
            return f"{self.rng.uniform(m.flo, m.fhi):.{m.decimals}f}"
        if m.choices:
            return self.rng.choice(m.choices)
        return self._word(m, self._size(m, env, False), slot)

    def _word(self, m: SlotModel, n: int, slot: int) -> str:
        rng, alpha = self.rng, m.alphabet
        mode = self._mode(slot)
        if self.profile == "allsmall":
            if not self.pair:
                pool = self.common_letters or alpha
                self.pair = "".join(rng.sample(pool, min(len(pool), 2)))
            alpha = "".join(c for c in self.pair if c in alpha) or alpha[:2]
        elif mode in ("narrow", "extreme"):
            alpha = "".join(rng.sample(alpha, min(len(alpha), rng.choice((1, 2)))))
        elif mode in ("small", "special"):
            alpha = "".join(rng.sample(alpha, min(len(alpha), 3)))
        # A word in a block of rows gets at most its share of the bytes left, so that the rows after it still
        # fit (the maximum profile drew 20000-letter words for thousands of rows: every attempt overflowed the byte
        # cap after drawing 400 KB, seconds per attempt); never below the word's smallest legal length.
        n = min(n, max(m.lo, self.row_share - 1))
        if n >= self.budget:
            raise _TooBig  # it could never be emitted: give up before drawing the letters
        if self.letters is not None and self.letter_share is not None:
            n = min(n, max(m.lo, self.letter_share))
            self.letters -= n
            if self.letters < 0:
                raise _TooBig  # over the stated total: the validator would refuse it
        w = rng.choices(alpha, k=n)
        if mode == "special":  # a palindrome
            for i in range(n // 2):
                w[n - 1 - i] = w[i]
        return "".join(w)

    def _items(self, items: Sequence[Item], env: dict[int, int], rows: list[list[str]]) -> bool:
        """Draw `items` into `rows`; False when a size came out negative or a part could not be drawn."""
        emitter = _ItemEmitter(self, items, env, rows)
        return all(visit(it, emitter) for it in items)

    def _array(self, it: Array, n: int, env: dict[int, int]) -> list[str] | None:
        m, rng = self.models.get(it.slot), self.rng
        if m is None:
            return None
        if m.kind == "word":
            return [m.choices and rng.choice(m.choices) or self._word(m, rng.randint(1, 3), it.slot) for _ in range(n)]
        if m.kind == "float":
            return [f"{rng.uniform(m.flo, m.fhi):.{m.decimals}f}" for _ in range(n)]
        if "perm" in m.flags:
            vals = list(range(1, n + 1))
            rng.shuffle(vals)
            return [str(v) for v in vals]
        if "parent" in m.flags:
            return [str(rng.randint(1, j + 1)) for j in range(n)]
        lo, hi = self._range(m, env)
        if hi < lo:
            return None
        mode = self._mode(it.slot)
        if "distinct" in m.flags:
            if hi - lo + 1 < n:
                return None
            top = min(hi, max(draw_int(lo, hi, mode, rng), lo + n - 1))
            vals = rng.sample(range(lo, top + 1), n)
        else:
            vals = [self._value(lo, hi, mode) for _ in range(n)]
        if "sorted" in m.flags:
            vals.sort()
        return [str(v) for v in vals]

    def _block(self, it: Block, n: int, env: dict[int, int], rows: list[list[str]]) -> bool:
        rng = self.rng
        bm = self.blocks.get(it.slots[0], BlockModel())
        if it.width is not None:
            m = self.models.get(it.slots[0])
            if m is None:
                return False
            return self._grid(m, n, env.get(it.width, 1), it.slots[0], rows)
        vertices = env.get(bm.vertices, 0) if bm.vertices is not None else 0
        if "tree" in bm.flags or ("connected" in bm.flags and 1 <= vertices - 1 <= n and rng.random() < 0.8):
            # A random spanning tree (vertex 1 kept first: a root in many statements), plus random extra edges.
            size = n + 1 if "tree" in bm.flags else vertices
            label = list(range(2, size + 1))
            rng.shuffle(label)
            label.insert(0, 1)
            edges = [[label[rng.randint(0, v - 1)], label[v]] for v in range(1, size)]
            have = {tuple(sorted(e)) for e in edges}
            for _ in range(n - len(edges)):
                e = [rng.randint(1, size), rng.randint(1, size)]
                for _attempt in range(20):
                    if e[0] != e[1] and tuple(sorted(e)) not in have:
                        break
                    e = [rng.randint(1, size), rng.randint(1, size)]
                have.add(tuple(sorted(e)))
                edges.append(e)
            rng.shuffle(edges)
            for e in edges:
                self._emit(rows, [str(x) for x in (sorted(e) if "row_sorted" in bm.flags else e)])
            return True
        seen: set[tuple[str, ...]] = set()
        for i in range(n):
            self.row_share = self.budget // (n - i)
            if self.letters is not None:
                self.letter_share = self.letters // (n - i)
            for _attempt in range(20):
                row = [self._scalar(s, env) for s in it.slots]
                ints = [int(t) for t in row] if all(k == "int" for k in it.kinds) else None
                if ints is not None and "row_sorted" in bm.flags:
                    row = [str(v) for v in sorted(ints)]
                key = tuple(sorted(row))
                # No self-loops / no repeated rows: what the examples show, kept softly (hidden tests may
                # well have self-loops the examples lack).
                if self.soft and ints is not None and "row_distinct" in bm.flags and len(set(ints)) < len(ints):
                    continue
                if self.soft and "rows_unique" in bm.flags and key in seen:
                    continue
                break
            else:
                return False
            seen.add(key)
            self._emit(rows, row)
        self.row_share = self.max_bytes  # the share was for this block's rows only
        self.letter_share = self.letters
        return True

    def _far_apart(self, n: int, width: int, need: int) -> list[int]:
        """Cells for the fixed characters (a start, an exit) on opposite edges, alternately (top and bottom, or
        left and right): far apart, and where a program's bounds checks go wrong (a move off the top row that
        wraps to the bottom one). Random cells when the edges are too small to hold them."""
        rng = self.rng
        if rng.random() < 0.5:
            sides = [[c for c in range(width)], [(n - 1) * width + c for c in range(width)]]
        else:
            sides = [[r * width for r in range(n)], [r * width + width - 1 for r in range(n)]]
        rng.shuffle(sides)
        spots: list[int] = []
        for k in range(need):
            free = [i for i in sides[k % 2] if i not in spots]
            if not free:
                return rng.sample(range(n * width), need)
            spots.append(rng.choice(free))
        return spots

    def _grid(self, m: SlotModel, n: int, width: int, slot: int, rows: list[list[str]]) -> bool:
        rng = self.rng
        cells = n * width
        need = sum(m.exact.values())
        if width < 1 or cells < need:
            return False
        free = [c for c in m.alphabet if c not in m.exact] or list(string.ascii_lowercase)
        # Mostly the examples' own background ('.' in a maze): a grid of walls with a few free cells has one
        # answer (unreachable) whatever a program gets wrong about moving.
        main = m.background if m.background in free and rng.random() < 0.75 else rng.choice(free)
        density = rng.choice((0.5, 0.7, 0.85, 0.95, 1.0))
        grid = [main if rng.random() < density else rng.choice(free) for _ in range(cells)]
        spots = self._far_apart(n, width, need) if need and rng.random() < 0.5 else rng.sample(range(cells), need)
        k = 0
        for c, cnt in m.exact.items():
            for _ in range(cnt):
                grid[spots[k]] = c
                k += 1
        for r in range(n):
            self._emit(rows, ["".join(grid[r * width : (r + 1) * width])])
        return True


@dataclass
class _ItemEmitter:
    """Draws one item of `items` into `rows` (`RandomInputs._items`); False stops the input."""

    gen: RandomInputs
    items: Sequence[Item]
    env: dict[int, int]
    """Slot -> value of the integers drawn so far (the sizes)."""
    rows: list[list[str]]

    def fixed(self, it: Fixed) -> bool:
        row = []
        for s, k in zip(it.slots, it.kinds, strict=True):
            repeat = s in repeat_counts(self.items)
            tok = self.gen._scalar(s, self.env, repeat)
            row.append(tok)
            if k == "int":
                self.env[s] = int(tok)
        self.gen._emit(self.rows, row)
        return True

    def repeat(self, it: Repeat) -> bool:
        return all(self.gen._items(it.body, dict(self.env), self.rows) for _ in range(self.env.get(it.size, 0)))

    def array(self, it: Array) -> bool:
        n = self.env.get(it.size, 0) + it.delta
        if n <= 0:
            return n == 0  # an empty array takes no row; a negative size cannot be drawn
        got = self.gen._array(it, n, self.env)
        if got is None:
            return False
        self.gen._emit(self.rows, got)
        return True

    def string(self, it: Str) -> bool:
        n = self.env.get(it.size, 0) + it.delta
        if n <= 0:
            return n == 0
        m = self.gen.models.get(it.slot)
        self.gen._emit(self.rows, [self.gen._word(m, n, it.slot) if m else "a" * n])
        return True

    def block(self, it: Block) -> bool:
        n = self.env.get(it.size, 0) + it.delta
        if n <= 0:
            return n == 0
        return self.gen._block(it, n, self.env, self.rows)

