"""Type-aware mutation of stdin examples (EvalPlus-style, for token streams).

An example is read as rows of tokens. Integers that give the size of something later (a following array line,
a block of rows, a string) are *links*: changing them resizes what they size, so the mutant keeps the format.
Everything else is perturbed by kind: integers towards the boundaries the statement states, floats slightly,
words within the alphabet the examples use, arrays reordered. Invariants an array shows in its example
(a permutation, sorted, distinct, bounded by n) are kept, because breaking them would make invalid inputs on
which even correct programs disagree.

The links come from the problem's one input-format model (`input_format.InputFormat`: the skeleton learned
from all examples reads each mutant's rows); `find_links`, a reading of one example on its own, is the
fallback when no skeleton reads the rows (an example unlike the others, or no format was passed).
"""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace

from alphagen.testgen.constraints import Constraint, ranges_containing
from alphagen.testgen.input_format import InputFormat
from alphagen.testgen.structure import run_length, split_lines, token_kind

Rows = list[list[str]]


@dataclass(frozen=True)
class Link:
    """An integer token that sizes something after it."""

    row: int
    """Row of the sizing integer."""
    col: int
    """Its column."""
    kind: str
    """count: the length of row `target`; rows: the number of rows target..target+n-1; strlen: the length of
    the lone word on row `target`."""
    target: int
    """The sized row (the first of the block for `rows`)."""
    inv: frozenset[str] = frozenset()
    """Invariants of the sized array in the example (perm, sorted, distinct, bounded), kept through
    mutations."""
    delta: int = 0
    """The sized thing's length is the value + delta (`p_2 ... p_n` after n: -1)."""


def _stringish(tok: str) -> bool:
    # Digit strings such as a binary "010011" are strings to mutate, not numbers, when their length is sized.
    return token_kind(tok) == "word" or (tok.isdigit() and len(tok) >= 2)


def find_links(rows: Rows) -> list[Link]:
    """Size links in one example (nearest target wins; a token links to at most one thing, and a row that an
    earlier link sizes is not itself read for links)."""
    links: list[Link] = []
    used: set[int] = set()
    for i, r in enumerate(rows):
        if i in used:
            continue
        for j, t in enumerate(r):
            if token_kind(t) != "int" or int(t) < 1:
                continue
            v = int(t)
            # rows: the next v rows share one shape and are followed by nothing of that shape.
            block = _block_len(rows, i + 1)
            if (
                block == v
                and i + 1 < len(rows)
                and (i + 1) not in used
                and (v >= 2 or len(rows) == i + 2)
                and (v >= 2 or len(rows[i + 1]) > 1)
            ):
                links.append(Link(i, j, "rows", i + 1))
                used.update(range(i + 1, i + 1 + v))
                continue
            for k in range(i + 1, min(len(rows), i + 3)):
                if k in used or not rows[k]:
                    continue
                if len(rows[k]) == 1 and _stringish(rows[k][0]) and len(rows[k][0]) == v:
                    links.append(Link(i, j, "strlen", k))
                    used.add(k)
                    break
                if (
                    len(rows[k]) == v
                    and len({token_kind(x) for x in rows[k]}) == 1
                    and (v >= 2 or k == i + 1)
                ):
                    links.append(Link(i, j, "count", k, frozenset(_invariants(rows[k]))))
                    used.add(k)
                    break
    return links


def links_of(rows: Rows, fmt: InputFormat | None) -> list[Link]:
    """The size links of `rows`: from the shared skeleton when it reads them, else from `find_links`."""
    got = fmt.links(rows) if fmt is not None else None
    if got is None:
        return find_links(rows)
    out: list[Link] = []
    for lk in got:
        # A pinned scalar (a test-case count, a grid width) is linked to nothing mutation resizes: listing it
        # keeps it out of the free tokens, so it never changes alone.
        inv = frozenset(_invariants(rows[lk.target])) if lk.kind == "count" else frozenset()
        out.append(Link(lk.row, lk.col, lk.kind, lk.target, inv, lk.delta))
    return out


def _block_len(rows: Rows, start: int) -> int:
    return 0 if start >= len(rows) or not rows[start] else run_length(rows, start)


class StdioMutator:
    """Proposes mutants of the examples; deterministic for a given RNG."""

    def __init__(
        self,
        examples: Sequence[str],
        constraints: Sequence[Constraint],
        scale_cap: int,
        large_scale: int = 0,
        fmt: InputFormat | None = None,
    ) -> None:
        self.fmt = fmt
        self.examples = [split_lines(e) for e in examples if e.strip()]
        self.constraints = list(constraints)
        self.scale_cap = scale_cap
        self.large_scale = max(large_scale, scale_cap)
        words = [t for ex in self.examples for r in ex for t in r if token_kind(t) == "word"]
        words += [ex[lk.target][0] for ex in self.examples for lk in links_of(ex, fmt) if lk.kind == "strlen"]
        self.alphabet = sorted({c for w in words for c in w}) or list(string.ascii_lowercase)
        if set(self.alphabet) <= set(string.ascii_lowercase) and len(self.alphabet) > 2:
            # Words of lowercase letters usually may use any lowercase letter; keep small alphabets (01, .#)
            # as is.
            self.alphabet = list(string.ascii_lowercase)

    def propose(self, count: int, rng: random.Random) -> list[str]:
        if not self.examples:
            return []
        out: list[str] = []
        for _ in range(count * 3):
            if len(out) >= count:
                break
            rows = [list(r) for r in rng.choice(self.examples)]
            # Links are read once from the example and kept up to date: a mutated input can be ambiguous.
            links = links_of(rows, self.fmt)
            # A few mutants are forced to maximum size: only they can expose programs that are too slow.
            resizable = [lk for lk in links if lk.kind != "pinned"]
            if len(out) < max(1, count // 10) and resizable:
                lk = rng.choice(resizable)
                self._resize(rows, lk, rng, grow=True)
                links = links_of(rows, self.fmt) if lk.kind == "rows" else links
            else:
                for _ in range(rng.choice((1, 1, 2, 3))):
                    links = self._mutate_once(rows, links, rng)
            out.append("\n".join(" ".join(r) for r in rows) + "\n")
        return out

    # --- one mutation step
    # -------------------------------------------------------------------------------------

    def _mutate_once(self, rows: Rows, links: list[Link], rng: random.Random) -> list[Link]:
        linked = {(lk.row, lk.col) for lk in links}
        sized = {lk.target: lk.inv for lk in links if lk.kind == "count"}
        strings = {lk.target for lk in links if lk.kind == "strlen"}
        ops = []
        resizable = [lk for lk in links if lk.kind != "pinned"]
        if resizable:
            ops += ["resize"] * 3 + ["grow"]
        free = [(i, j) for i, r in enumerate(rows) for j, t in enumerate(r) if (i, j) not in linked]
        if free:
            ops += ["token"] * 4
        arrays = [i for i, r in enumerate(rows) if len(r) >= 2 and all(token_kind(t) == "int" for t in r)]
        if arrays:
            ops += ["reorder"] * 2
        if not ops:
            return links
        op = rng.choice(ops)
        if op in ("resize", "grow"):
            lk = rng.choice(resizable)
            shift = self._resize(rows, lk, rng, grow=(op == "grow"))
            if shift:
                # Rows were added or removed after lk.target: later links move with them.
                end = lk.target
                links = [
                    replace(
                        x,
                        row=x.row + shift if x.row > end else x.row,
                        target=x.target + shift if x.target > end else x.target,
                    )
                    for x in links
                ]
        elif op == "token":
            i, j = rng.choice(free)
            if i in strings:
                rows[i][j] = self._mutate_word(rows[i][j], rng)
            elif token_kind(rows[i][j]) == "word":
                rows[i][j] = self._mutate_word(rows[i][j], rng, free_length=not fmt_fixed_word(rows, i))
            else:
                self._mutate_token(rows, i, j, rng, sized.get(i, frozenset()))
        else:
            self._reorder(rows, rng.choice(arrays), rng)
        return links

    def _legal(self, value: int) -> tuple[int, int]:
        spans = ranges_containing(value, self.constraints)
        if spans:
            return spans[0]
        return (min(0, value), max(abs(value) * 2, 10))

    def _mutate_token(self, rows: Rows, i: int, j: int, rng: random.Random, inv: frozenset[str]) -> None:
        tok = rows[i][j]
        kind = token_kind(tok)
        if kind == "int":
            v = int(tok)
            lo, hi = self._legal(v)
            if "perm" in inv:
                rng.shuffle(rows[i])
                return
            if "bounded" in inv:
                hi = min(hi, max(int(t) for t in rows[i]))
            choices = [lo, hi, lo + 1, hi - 1, v + 1, v - 1, v * 2, v // 2, rng.randint(lo, hi)]
            new = min(max(rng.choice(choices), lo), hi)
            rows[i][j] = str(new)
            if "distinct" in inv and len(set(rows[i])) < len(rows[i]):
                rows[i][j] = tok
            if "sorted" in inv:
                rows[i].sort(key=int)
        elif kind == "float":
            fv = float(tok)
            decimals = len(tok.split(".")[1]) if "." in tok else 0
            new_f = fv + rng.choice((-1, 1)) * rng.random() * max(1.0, abs(fv) / 4)
            rows[i][j] = f"{max(new_f, 0.0) if fv >= 0 else new_f:.{decimals}f}"
        else:
            rows[i][j] = self._mutate_word(tok, rng)

    def _mutate_word(self, w: str, rng: random.Random, free_length: bool = False) -> str:
        """A new word from `w`. Low-entropy words (two letters, palindromes, near-palindromes) hit the cases
        string problems hinge on far more often than uniformly random ones."""
        ops = ["random", "same", "reverse", "point", "two", "pal", "nearpal"]
        if free_length:
            ops += ["insert", "delete", "long", "short"]
        op = rng.choice(ops)
        n = len(w)
        if op == "long":
            n = rng.choice((rng.randint(n, 4 * n + 4), max(1, min(self.large_scale, 20 * n + 50))))
            return self._word_of_length(n, rng)
        if op == "short":
            return self._word_of_length(rng.randint(1, max(1, n // 2)), rng)
        if op == "insert":
            k = rng.randrange(n + 1)
            return w[:k] + rng.choice(self.alphabet) + w[k:]
        if op == "delete" and n > 1:
            k = rng.randrange(n)
            return w[:k] + w[k + 1 :]
        if op == "random":
            return "".join(rng.choice(self.alphabet) for _ in w)
        if op == "same":
            return rng.choice(self.alphabet) * n
        if op == "reverse":
            return w[::-1]
        if op in ("two", "pal", "nearpal"):
            return self._word_of_length(n, rng, style=op)
        k = rng.randrange(n)
        return w[:k] + rng.choice(self.alphabet) + w[k + 1 :]

    def _word_of_length(self, n: int, rng: random.Random, style: str | None = None) -> str:
        """A word of length n: uniform, two-letter, a palindrome, or a palindrome with one letter off."""
        style = style or rng.choice(("random", "two", "pal", "nearpal"))
        alpha = self.alphabet if style == "random" else rng.sample(self.alphabet, min(2, len(self.alphabet)))
        w = [rng.choice(alpha) for _ in range(n)]
        if style in ("pal", "nearpal"):
            for i in range(n // 2):
                w[n - 1 - i] = w[i]
            if style == "nearpal" and n > 1:
                k = rng.randrange(n + 1)
                w.insert(k, rng.choice(alpha))
                w.pop(rng.choice((0, len(w) - 1)) if n > 2 else 0)
        return "".join(w)

    def _reorder(self, rows: Rows, i: int, rng: random.Random) -> None:
        if "sorted" in _invariants(rows[i]) and len(rows[i]) >= 3:
            return
        op = rng.randrange(3)
        if op == 0:
            rng.shuffle(rows[i])
        elif op == 1:
            rows[i].sort(key=int)
        else:
            rows[i].sort(key=int, reverse=True)

    def _new_size(self, v: int, rng: random.Random, grow: bool, delta: int = 0) -> int:
        lo, hi = self._legal(v)
        # The sized thing keeps at least one element (its row must stay: later links point past it).
        lo = max(lo, 1 - delta)
        cap = max(min(hi, self.scale_cap), lo)
        if grow:
            return max(min(hi, self.large_scale), lo)
        return min(max(rng.choice((lo, lo + 1, v - 1, v + 1, v * 2, rng.randint(lo, cap))), lo), cap)

    def _resize(self, rows: Rows, lk: Link, rng: random.Random, grow: bool) -> int:
        """Resize what `lk` sizes; returns how many rows were added (negative: removed)."""
        old = int(rows[lk.row][lk.col])
        new = self._new_size(old, rng, grow, lk.delta)
        if new == old:
            return 0
        rows[lk.row][lk.col] = str(new)
        target = rows[lk.target]
        # From here on, lengths: what the sized thing holds (the value + delta).
        old, new = old + lk.delta, new + lk.delta
        if lk.kind == "count":
            rows[lk.target] = _resized_array(target, new, lk.inv, rng, self)
        elif lk.kind == "strlen":
            w = target[0]
            rows[lk.target] = [
                (w * (new // len(w) + 1))[:new] if rng.random() < 0.2 else self._word_of_length(new, rng)
            ]
        else:
            block = rows[lk.target : lk.target + old]
            extra = [list(rng.choice(block)) for _ in range(max(0, new - old))]
            # New rows vary the copied ones: numbers within their column's range in the block (an index stays
            # a valid index), words by the word mutations. Each column's range is the block's, found once: per
            # new row it made a resize quadratic (anagram-classes: 0.9 s for 30 mutants, a quarter of its test
            # inputs' time at -n 8).
            ranges = _int_ranges(block)
            for r in extra:
                for j, t in enumerate(r):
                    span = ranges.get(j)
                    if token_kind(t) == "int" and span is not None and rng.random() < 0.6:
                        r[j] = str(rng.randint(*span))
                    elif token_kind(t) == "word" and rng.random() < 0.8:
                        r[j] = self._mutate_word(t, rng, free_length=True)
            rows[lk.target : lk.target + old] = (block + extra)[:new]
            return new - old
        return 0


def fmt_fixed_word(rows: Rows, i: int) -> bool:
    """A word whose length may matter to the format: the only token on a row right after a lone integer."""
    return len(rows[i]) == 1 and i > 0 and len(rows[i - 1]) == 1 and token_kind(rows[i - 1][0]) == "int"


def _invariants(row: Sequence[str]) -> set[str]:
    """Properties of an integer array worth preserving when it is resized or edited."""
    if not row or any(token_kind(t) != "int" for t in row):
        return set()
    vals = [int(t) for t in row]
    inv: set[str] = set()
    if len(vals) >= 2 and sorted(vals) == list(range(1, len(vals) + 1)):
        inv.add("perm")
    if len(vals) >= 3 and vals == sorted(vals):
        inv.add("sorted")
    if len(vals) >= 3 and len(set(vals)) == len(vals):
        inv.add("distinct")
    if len(vals) >= 2 and max(vals) <= len(vals) and min(vals) >= 1:
        inv.add("bounded")
    return inv


def _int_ranges(block: Rows) -> dict[int, tuple[int, int]]:
    """Per column, the least and greatest integer in it over the block's rows (columns with none are absent)."""
    out: dict[int, tuple[int, int]] = {}
    for row in block:
        for j, t in enumerate(row):
            if token_kind(t) == "int":
                v = int(t)
                lo, hi = out.get(j, (v, v))
                out[j] = (min(lo, v), max(hi, v))
    return out


def _resized_array(
    row: list[str], new: int, inv: frozenset[str], rng: random.Random, m: StdioMutator
) -> list[str]:
    if row and all(token_kind(t) == "word" for t in row):
        return [m._mutate_word(rng.choice(row), rng) for _ in range(new)]
    if "perm" in inv:
        vals = list(range(1, new + 1))
        rng.shuffle(vals)
        return [str(v) for v in vals]
    if not row or any(token_kind(t) != "int" for t in row):
        return [rng.choice(row) for _ in range(new)] if row else []
    ints = [int(t) for t in row]
    lo, hi = m._legal(min(ints))
    lo2, hi2 = m._legal(max(ints))
    lo, hi = min(lo, lo2), max(hi, hi2)
    if "bounded" in inv:
        lo, hi = max(lo, 1), new
    if "distinct" in inv and hi - lo + 1 >= new:
        vals = rng.sample(range(lo, hi + 1), new)
    else:
        pool = ints + [lo, hi]
        vals = [rng.choice(pool) if rng.random() < 0.3 else rng.randint(lo, hi) for _ in range(new)]
    if "sorted" in inv:
        vals.sort()
    return [str(v) for v in vals]
