"""What each slot of a learned skeleton may hold: ranges, relations and shapes read from the examples.

`random_inputs` draws fresh values from these models. Every rule is read off the examples (and the statement's
parsed constraints), so a generated input stays within what the examples show is legal:

    range      a stated constraint holding every value seen in the slot (a scalar: the first free one in the
               statement's order; an array: the tightest, see _RangePicker); without one, a range widened
               from the values seen (kept as seen when the slot has many values: 0/1 flags stay 0/1);
    bounds     "value <= an earlier scalar" when every value seen obeys it (vertices <= n, s <= n);
    array      distinct / sorted / a permutation of 1..n / a parent array (p_i < i), when every instance was;
    block      rows with distinct tokens (no self-loops), sorted rows (l <= r), no repeated rows (no
               multi-edges), a tree (n - 1 edges connecting 1..n);
    words      the alphabet seen (all lowercase when the examples use more than two lowercase letters), a
               length range from a `|s|` constraint; words mixing digits and symbols ("10:15") are only ever
               chosen among the words seen;
    grids      characters that occur a fixed small number of times in every grid (S and T) keep that count.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from alphagen.testgen.constraints import Constraint, ranges_containing
from alphagen.testgen.template import (
    Array,
    Block,
    Flat,
    Observation,
    Template,
    flatten,
    grid_width,
    slots_of,
    values_count,
)

MANY = 6
"""A slot with at least this many values seen keeps its range as seen when the statement states none."""


@dataclass
class SlotModel:
    kind: str
    """int / float / word."""
    lo: int = 0
    hi: int = 0
    """Integer range (for words: the length range)."""
    bounds: list[tuple[int, int]] = field(default_factory=list)
    """(slot, offset): value <= value(slot) + offset."""
    flags: set[str] = field(default_factory=set)
    """distinct, sorted, perm, parent (arrays); strong_bounds (bounds seen on many values)."""
    alphabet: str = string.ascii_lowercase
    choices: tuple[str, ...] = ()
    """For words that must be one of those seen (categorical)."""
    decimals: int = 0
    flo: float = 0.0
    fhi: float = 1.0
    exact: dict[str, int] = field(default_factory=dict)
    """Grid characters with a fixed count per grid."""
    background: str = ""
    """The grid character the examples show most often, besides those with a fixed count ('.' in a maze)."""


@dataclass
class BlockModel:
    flags: set[str] = field(default_factory=set)
    """row_distinct, row_sorted, rows_unique, tree, connected."""
    vertices: int | None = None
    """For a connected edge list: the slot giving the vertex count."""


def _common_range(values: Sequence[int], constraints: Sequence[Constraint]) -> tuple[int, int] | None:
    spans = set(ranges_containing(min(values), constraints)) & set(ranges_containing(max(values), constraints))
    return min(spans, key=lambda s: (s[1] - s[0], s)) if spans else None


class _RangePicker:
    """Which stated constraint a slot's values follow. A scalar takes the first constraint in the statement's
    order (the Input section's before the legend's) that holds every value seen and that fewer scalars took
    than it names (`1 <= n <= 10^15, 1 <= k <= 10^9`: n the first, k the second, though `4 2` fits both), the
    tightest that holds them when all such are taken; an array avoids its own size's constraint and those the
    scalars took when another fits (`c_i <= 10^4`, not `n <= 50`), then takes the tightest."""

    def __init__(self, constraints: Sequence[Constraint]) -> None:
        self.cs = [c for c in constraints if c.hi is not None]
        self.uses: dict[int, int] = {}
        self.of_slot: dict[int, int] = {}

    def pick(self, slot: int, values: Sequence[int], element_of: int | None) -> tuple[int, int] | None:
        # An upper bound alone (`r <= 10^6`) starts at 1, or at the smallest value seen when that is lower.
        spans = [(min(1, min(values)) if c.lo is None else c.lo, c.hi or 0) for c in self.cs]
        fits = [k for k, (lo, hi) in enumerate(spans) if lo <= min(values) and max(values) <= hi]
        # Nonnegative values prefer a nonnegative range (`1 <= l <= r <= n` unparsed must not fall back on
        # `-10^4 <= a_i`); then the tightest.
        fits.sort(key=lambda k: (min(values) >= 0 > spans[k][0], spans[k][1] - spans[k][0], k))
        if not fits:
            return None
        if element_of is None:
            # A statement names the scalars, and states their ranges, in the order the input holds them
            # (parse_constraints keeps that order: a constraint's index here). The tightest free fit was used
            # before: on 762A (n <= 10^15, k <= 10^9, examples `4 2`, `12 5`) n took k's 10^9 and k took
            # n's 10^15, swapping the limit inputs, the random ranges and the grammar's exactly where limits
            # matter; on shipped problems n took a_i's range (n <= 20000, a_i <= 10^4, examples n = 4, 5).
            free = [k for k in fits if self.uses.get(k, 0) < len(self.cs[k].names)]
            # A range stated before the Input heading (the answer's modulus) comes after those of the input.
            k = min(free, key=lambda x: (min(values) >= 0 > spans[x][0], self.cs[x].in_legend, x)) if free else fits[0]
            self.uses[k] = self.uses.get(k, 0) + 1
        else:
            # An array's elements: a constraint nothing took yet (`1 <= n, k <= 10^4` belong to the scalars n
            # and k, so `-10^9 <= a_i` is a's even when the examples show only positive a_i), then a sign like
            # the values', then not its own size's, then the tightest (`fits`' order). Before, positive
            # examples handed a's range to k: every drawn a_i was <= 10^4, too few distinct values to make a
            # quadratic sort time out. Query rows `l r` after the array keep n's range: a's is taken.
            own = self.of_slot.get(element_of)
            taken = {x for x in fits if self.uses.get(x, 0) >= len(self.cs[x].names)}
            k = min(fits, key=lambda x: (x in taken, min(values) >= 0 > spans[x][0], x == own))
            self.uses[k] = self.uses.get(k, 0) + 1
        self.of_slot[slot] = k
        return spans[k]


def _int_range(values: Sequence[int], stated: tuple[int, int] | None) -> tuple[int, int]:
    if stated is not None:
        return stated
    lo, hi = min(values), max(values)
    if len(values) >= MANY:
        return lo, hi
    # Few values and no constraint: widen, keeping the sign the examples show.
    wide_hi = max(10, 2 * abs(hi))
    return (-wide_hi if lo < 0 else min(lo, 1)), wide_hi


def _bounds(obs: Sequence[Observation], values: Sequence[int]) -> list[tuple[int, int]]:
    common = set(obs[0].env)
    for o in obs[1:]:
        common &= set(o.env)
    out = []
    for b in sorted(common):
        if all(int(v) <= o.env[b] for o in obs for v in o.values):
            # 0-based values (some 0 seen) stop one below the bound: indices < n.
            out.append((b, -1 if min(values) < 1 and all(int(v) < o.env[b] for o in obs for v in o.values) else 0))
    return out


def _alphabet(words: Sequence[str]) -> str:
    chars = sorted({c for w in words for c in w})
    if set(chars) <= set(string.ascii_lowercase) and len(chars) > 2:
        return string.ascii_lowercase
    if set(chars) <= set(string.ascii_uppercase) and len(chars) > 2:
        return string.ascii_uppercase
    return "".join(chars) or string.ascii_lowercase


def _word_model(words: Sequence[str], constraints: Sequence[Constraint]) -> SlotModel:
    m = SlotModel("word", alphabet=_alphabet(words))
    mixed = any(any(c.isdigit() for c in w) and not w.isdigit() for w in words)
    if mixed:
        m.choices = tuple(sorted(set(words)))
    lengths = [len(w) for w in words]
    named = [c for c in constraints if any(n.startswith("|") for n in c.names)]
    stated = _common_range(lengths, named)
    m.lo, m.hi = stated if stated is not None else (1, max(10, 2 * max(lengths)))
    m.lo = max(m.lo, 1)
    return m


def _array_flags(obs: Sequence[Observation], item: Array | None) -> set[str]:
    rows = [[int(v) for v in o.values] for o in obs]
    long = [r for r in rows if len(r) >= 3]  # two values agree with anything by chance
    flags = set()
    if all(len(r) >= 2 and sorted(r) == list(range(1, len(r) + 1)) for r in rows):
        flags.add("perm")
    if long and all(r == sorted(r) for r in long):
        flags.add("sorted")
    if long and all(len(set(r)) == len(r) for r in long):
        flags.add("distinct")
    if item is not None and item.delta == -1 and all(1 <= v <= j + 1 for r in rows for j, v in enumerate(r)):
        flags.add("parent")
    return flags


def _components(rows: Sequence[Sequence[str]], n: int) -> int | None:
    """Connected components of the graph on 1..n with these edges (None: an endpoint outside 1..n)."""
    parent = list(range(n + 1))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    parts = n
    for r in rows:
        a, b = int(r[0]), int(r[1])
        if not (1 <= a <= n and 1 <= b <= n):
            return None
        if find(a) != find(b):
            parent[find(a)] = find(b)
            parts -= 1
    return parts


def _is_tree(rows: Sequence[Sequence[str]], n: int) -> bool:
    """n - 1 edges that connect all of 1..n (so no cycle, no self-loop, no repeated edge)."""
    return len(rows) == n - 1 and _components(rows, n) == 1


def _block_flags(item: Block, obs: Sequence[Observation]) -> set[str]:
    instances = [o.rows for o in obs if o.rows]
    rows = [r for inst in instances for r in inst]
    if not rows or any(k != "int" for k in item.kinds):
        return set()
    flags = set()
    if len(item.kinds) >= 2 and all(len(set(r)) == len(r) for r in rows):
        flags.add("row_distinct")
    if len(item.kinds) >= 2 and all([int(x) for x in r] == sorted(int(x) for x in r) for r in rows):
        flags.add("row_sorted")
    if all(len({tuple(sorted(r)) for r in inst}) == len(inst) for inst in instances):
        flags.add("rows_unique")
    if (
        len(item.kinds) == 2
        and item.delta == -1
        and all(_is_tree(o.rows, o.env.get(item.size, -1)) for o in obs if o.rows)
    ):
        flags.add("tree")
    return flags


def flat_items(t: Template) -> list[Flat]:
    """The template's items with each repeat's body in its place (the repeat itself left out)."""
    return flatten(t.items)


def learn_models(t: Template, constraints: Sequence[Constraint]) -> tuple[dict[int, SlotModel], dict[int, BlockModel]]:
    """Slot models by slot id, and block models by the id of the block's first slot."""
    owner: dict[int, Flat] = {}
    for item in flat_items(t):
        for s in slots_of(item):
            owner[s] = item
    models: dict[int, SlotModel] = {}
    picker = _RangePicker(constraints)
    for s, kind in t.slot_kinds.items():
        obs = t.observations.get(s, [])
        values = [v for o in obs for v in o.values]
        if not values:
            continue
        it = owner.get(s)
        digits_as_text = kind == "int" and any(len(v) >= 2 and v.startswith("0") for v in values)
        if kind == "word" or digits_as_text:
            m = _word_model(values, constraints)
            if it is not None and grid_width(it) is not None:
                grids = ["".join(o.values) for o in obs]
                first = grids[0]
                if len(m.alphabet) > 2:
                    # Characters placed a fixed small number of times in every grid (a start S, an exit T).
                    m.exact = {
                        c: first.count(c)
                        for c in sorted(set(first))
                        if 1 <= first.count(c) <= 2 and all(g.count(c) == first.count(c) for g in grids)
                    }
                cells = Counter(c for g in grids for c in g if c not in m.exact)
                m.background = min(cells, key=lambda c: (-cells[c], c)) if cells else ""
        elif kind == "float":
            fs = [float(v) for v in values]
            m = SlotModel("float", flo=min(0.0, min(fs)), fhi=max(1.0, 2 * max(fs)))
            m.decimals = max((len(v.split(".")[1]) if "." in v else 0) for v in values)
        else:
            ints = [int(v) for v in values]
            m = SlotModel("int")
            size_of = values_count(it) if it is not None else None
            m.lo, m.hi = _int_range(ints, picker.pick(s, ints, size_of))
            m.bounds = _bounds(obs, ints)
            if len(ints) >= MANY:
                m.flags.add("strong_bounds")
            if isinstance(it, Array):
                m.flags |= _array_flags(obs, it)
        models[s] = m
    blocks: dict[int, BlockModel] = {}
    for it in flat_items(t):
        if not isinstance(it, Block):
            continue
        obs = t.observations.get(it.slots[0], [])
        bm = BlockModel(_block_flags(it, obs))
        if len(it.slots) == 2 and all(s in models for s in it.slots):
            # An edge list whose every example connects all of 1..n (n: a bound both endpoints obey).
            common = {b for b, off in models[it.slots[0]].bounds if off == 0}
            common &= {b for b, off in models[it.slots[1]].bounds if off == 0}
            for b in sorted(common):
                if obs and all(o.rows and b in o.env and _components(o.rows, o.env[b]) == 1 for o in obs):
                    bm.flags.add("connected")
                    bm.vertices = b
                    break
        blocks[it.slots[0]] = bm
    return models, blocks
