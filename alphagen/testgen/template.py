"""The skeleton of a stdin input, learned from the examples, for generating fresh inputs of the same format.

An example is read top-down as a list of items:

    Fixed  a row of scalars (each token its own slot: n, m, k, a word ...);
    Array  one row whose length is an earlier scalar (+ 0 or - 1): `a_1 ... a_n`, `p_2 ... p_n`;
    Str    one lone word whose length is an earlier scalar: `n` then `s`;
    Block  rows of one shape whose count is an earlier scalar (+ 0 or - 1): m edges, q queries, a grid (its
           rows one word each, of the length another scalar gives).

Sizes are matched against the scalars read so far (unused ones and the nearest first). One skeleton is learned
per example; the one that reads the most examples wins, and every example it reads contributes observations:
the values seen in each slot, and the scalars known at that point, from which `random_inputs` learns ranges and
relations (a vertex <= n, a column sorted, a block forming a tree) without being told the problem's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar, assert_never

from alphagen.testgen.structure import run_length, split_lines, token_kind

Rows = list[list[str]]


@dataclass(frozen=True)
class Fixed:
    slots: tuple[int, ...]
    """One slot per token."""
    kinds: tuple[str, ...]
    """int / float / word per token."""


@dataclass(frozen=True)
class Array:
    size: int
    """Slot of the scalar giving the length."""
    delta: int
    """Length = value(size) + delta."""
    slot: int
    kind: str


@dataclass(frozen=True)
class Str:
    size: int
    delta: int
    slot: int


@dataclass(frozen=True)
class Block:
    size: int
    delta: int
    slots: tuple[int, ...]
    """One slot per column (a grid row has one column)."""
    kinds: tuple[str, ...]
    width: int | None = None
    """For a grid: slot of the scalar giving every row's word length."""


@dataclass(frozen=True)
class Repeat:
    """`value(size)` test cases, each following `body` (scalars inside a case size things of that case only)."""

    size: int
    body: tuple[Fixed | Array | Str | Block, ...]


Item = Fixed | Array | Str | Block | Repeat
Flat = Fixed | Array | Str | Block
"""An item that is not a repeat (what a repeat's body holds)."""

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class ItemVisitor(Protocol[T_co]):
    """What to do with each kind of item; `visit` picks the method. The one dispatch on the `Item` union: a new
    kind of item is added here and to every visitor, and mypy names each visitor that lacks it."""

    def fixed(self, it: Fixed) -> T_co: ...
    def array(self, it: Array) -> T_co: ...
    def string(self, it: Str) -> T_co: ...
    def block(self, it: Block) -> T_co: ...
    def repeat(self, it: Repeat) -> T_co: ...


def visit(it: Item, visitor: ItemVisitor[T]) -> T:
    """`visitor`'s method for this kind of item, applied to it."""
    match it:
        case Fixed():
            return visitor.fixed(it)
        case Array():
            return visitor.array(it)
        case Str():
            return visitor.string(it)
        case Block():
            return visitor.block(it)
        case Repeat():
            return visitor.repeat(it)
    assert_never(it)


def sized(it: Item) -> tuple[int, int] | None:
    """(slot of the scalar giving its length or count, delta) of a sized item (a repeat: delta 0); None for a
    fixed row."""
    match it:
        case Fixed():
            return None
        case Repeat():
            return (it.size, 0)
        case _:
            return (it.size, it.delta)


def grid_width(it: Item) -> int | None:
    """The slot of the scalar giving a grid's row length; None for anything but a grid."""
    match it:
        case Block():
            return it.width
        case _:
            return None


def row_count(it: Item) -> int | None:
    """The slot of the scalar counting its rows: a block's (not a grid's: its rows are one long word each, what
    keeps an input small is their length too) or a repeat's test cases; None for anything else."""
    match it:
        case Block(width=None) | Repeat():
            return it.size
        case _:
            return None


def values_count(it: Item) -> int | None:
    """The slot of the scalar giving how many values each of its slots holds: an array's length, a block's rows;
    None for a row of scalars and a lone word (one value a slot) and a repeat (no slot of its own)."""
    match it:
        case Array() | Block():
            return it.size
        case _:
            return None


def slots_of(it: Flat) -> tuple[int, ...]:
    """The slots an item fills, in order (a block: one a column)."""
    match it:
        case Fixed() | Block():
            return it.slots
        case Array() | Str():
            return (it.slot,)
    assert_never(it)


def repeat_counts(items: Iterable[Item]) -> set[int]:
    """The slots of the scalars that count test cases (a repeat's size) among `items`: a scalar drawn (and
    enumerated) as a number of cases, kept to a few."""
    out: set[int] = set()
    for it in items:
        match it:
            case Repeat():
                out.add(it.size)
    return out


def flatten(items: Sequence[Item]) -> list[Flat]:
    """The items with each repeat's body in its place (the repeat itself left out)."""
    out: list[Flat] = []
    for it in items:
        match it:
            case Repeat():
                out += it.body
            case _:
                out.append(it)
    return out


@dataclass
class Observation:
    """Values one slot took in one example, with the scalars known when it was read."""

    values: list[str]
    """Every token of the slot in this instance (one for a scalar, all elements for an array or column)."""
    env: dict[int, int]
    """Scalar slot -> value, for scalars read before this instance."""
    rows: list[list[str]] = field(default_factory=list)
    """For a block: its rows (to learn row-level relations)."""


@dataclass
class Template:
    items: list[Item]
    slot_kinds: dict[int, str]
    observations: dict[int, list[Observation]] = field(default_factory=dict)
    examples_read: int = 0

    def sizes(self) -> set[int]:
        """Slots used as a length or count by some item."""
        out: set[int] = set()
        # The top-level items for the repeats' counts, the flattened ones for what sizes things inside a case.
        for x in [*self.items, *flatten(self.items)]:
            size, width = sized(x), grid_width(x)
            if size is not None:
                out.add(size[0])
            if width is not None:
                out.add(width)
        return out

    def smallest_sizes(self) -> dict[int, int]:
        """Per sizing scalar: the smallest value that leaves nothing it sizes negative (n - 1 arrays need n >= 1;
        a repeat's count is not among them)."""
        out: dict[int, int] = {}
        for it in flatten(self.items):
            size = sized(it)
            if size is not None:
                out[size[0]] = max(out.get(size[0], 0), -size[1])
        return out


def _stringish(tok: str) -> bool:
    # A binary "0110" is a string to generate, not a number, when its length is an earlier scalar.
    return token_kind(tok) == "word" or (tok.isdigit() and len(tok) >= 2)


class _Slots:
    """Allocates slot ids and remembers each slot's token kind."""

    def __init__(self) -> None:
        self.kinds: dict[int, str] = {}

    def new(self, kind: str) -> int:
        self.kinds[len(self.kinds)] = kind
        return len(self.kinds) - 1


def _sized_item(
    rows: Rows, i: int, env: list[tuple[int, int]], used: set[int], nearest: bool, slots: _Slots
) -> tuple[Fixed | Array | Str | Block, int, int] | None:
    """Row i (and maybe more) as something an earlier scalar sizes: (item, rows taken, sizing slot)."""
    r = rows[i]
    uniform = len({token_kind(t) for t in r}) == 1
    run = run_length(rows, i)
    order = list(reversed(env)) if nearest else list(env)
    # Unused scalars first (a size usually sizes one thing); an exact size before "size - 1".
    candidates = [c for c in order if c[0] not in used] + [c for c in order if c[0] in used]
    lone_word = len(r) == 1 and _stringish(r[0])
    sizes = [(slot, v + delta, delta) for delta in (0, -1) for slot, v in candidates if v + delta >= 1]
    grid_sizes = [(slot, v + delta, delta) for delta in (0, -1) for slot, v in env if v + delta >= 1]
    for slot, n, delta in grid_sizes if lone_word else ():
        # A grid first: n rows of one word each, all as long as another scalar says (rows before columns
        # when both fit: statements say "n m" for rows and columns).
        widths = {len(rows[i + k][0]) for k in range(min(n, run))}
        width = next((s for s, w in reversed(env) if s != slot and {w} == widths), None)
        if run >= n and width is not None:
            return Block(slot, delta, (slots.new("word"),), ("word",), width), n, slot
    for slot, n, delta in sizes:
        if n >= 2 and run >= n and (run == n or len(r) != n):
            ks = tuple(token_kind(t) for t in r)
            return Block(slot, delta, tuple(slots.new(k) for k in ks), ks), n, slot
        if lone_word and len(r[0]) == n:
            return Str(slot, delta, slots.new("word")), 1, slot
        if n >= 2 and uniform and len(r) == n:
            return Array(slot, delta, slots.new(token_kind(r[0])), token_kind(r[0])), 1, slot
    return None


def _learn_flat(
    rows: Rows, start: int, end: int, nearest: bool, slots: _Slots, outer: list[tuple[int, int]]
) -> list[Fixed | Array | Str | Block]:
    """Items for rows[start:end] (no nested test cases); `outer` are scalars read before `start`."""
    items: list[Fixed | Array | Str | Block] = []
    env = list(outer)
    used: set[int] = set()
    i = start
    while i < end:
        got = _sized_item(rows[:end], i, env, used, nearest, slots)
        if got is not None:
            item, step, slot = got
            used.add(slot)
            items.append(item)
            i += step
            continue
        ks = tuple(token_kind(t) for t in rows[i])
        ids = tuple(slots.new(k) for k in ks)
        items.append(Fixed(ids, ks))
        env += [(s, int(t)) for s, t in zip(ids, rows[i], strict=True) if token_kind(t) == "int"]
        i += 1
    return items


def _learn_repeat(rows: Rows, nearest: bool) -> Template | None:
    """`t` on the first line, then t cases of one skeleton: try each length of the first case."""
    if len(rows[0]) != 1 or token_kind(rows[0][0]) != "int" or not 2 <= int(rows[0][0]) < len(rows):
        return None
    t = int(rows[0][0])
    for first_len in range(1, len(rows) - t + 1):
        slots = _Slots()
        head = slots.new("int")
        body = tuple(_learn_flat(rows, 1, 1 + first_len, nearest, slots, []))
        if first_len == 1 and sized(body[0]) is None:
            continue  # one plain row per case (it sizes nothing): the flat reading (a block of rows) says the same
        cand = Template([Fixed((head,), ("int",)), Repeat(head, body)], slots.kinds)
        if read(cand, rows) is not None:
            return cand
    return None


def _learn(rows: Rows, nearest: bool) -> Template | None:
    """The skeleton of one example (see the module docstring for the order of preference)."""
    rep = _learn_repeat(rows, nearest)
    if rep is not None:
        return rep
    slots = _Slots()
    items: list[Item] = list(_learn_flat(rows, 0, len(rows), nearest, slots, []))
    return Template(items, slots.kinds) if items else None


@dataclass(frozen=True)
class SizeLink:
    """Where, in one input, a scalar sizes something after it (what mutation resizes together)."""

    row: int
    col: int
    kind: str
    """count (an array row), strlen (a lone word), rows (a block of rows), pinned (a test-case count or a grid
    width: sizes something mutation does not resize, so it must not change alone)."""
    target: int
    """Row of the sized thing (the first row of a block); -1 for pinned."""
    delta: int = 0
    """Length of the sized thing = value + delta."""


class _Reader:
    """Reads rows with items (an `ItemVisitor[bool]`): each method takes its item's rows from row `i` on and says
    whether they follow it. With `pos` and `links`, it also records where each scalar sat and what it sized."""

    def __init__(
        self,
        rows: Rows,
        i: int,
        env: dict[int, int],
        out: list[tuple[int, Observation]],
        pos: dict[int, tuple[int, int]],
        links: list[SizeLink] | None,
    ) -> None:
        self.rows, self.i, self.env, self.out, self.pos, self.links = rows, i, env, out, pos, links

    def read(self, items: Sequence[Item]) -> int | None:
        """The row after `items`, or None when the rows do not follow them."""
        for it in items:
            if not visit(it, self):
                return None
        return self.i

    def _count(self, size: int, delta: int, kind: str) -> int | None:
        """How many things the scalar in slot `size` (+ delta) says; None when it was not read or is too small.
        Links the scalar to what it sizes (a pinned one even when it says 0: it must not change alone)."""
        n = self.env.get(size, -1) + delta
        if n < 0:
            return None
        if self.links is not None and size in self.pos:
            r, c = self.pos[size]
            if kind == "pinned":
                self.links.append(SizeLink(r, c, "pinned", -1))
            elif n > 0:
                self.links.append(SizeLink(r, c, kind, self.i, delta))
        return n

    def fixed(self, it: Fixed) -> bool:
        rows, i = self.rows, self.i
        if i >= len(rows) or len(rows[i]) != len(it.slots):
            return False
        for s, k, tok in zip(it.slots, it.kinds, rows[i], strict=True):
            if token_kind(tok) != k and not (k == "float" and token_kind(tok) == "int"):
                return False
            self.out.append((s, Observation([tok], dict(self.env))))
        # The row's observations see only earlier rows' scalars; its own join them once the whole row reads.
        for c, (s, k, tok) in enumerate(zip(it.slots, it.kinds, rows[i], strict=True)):
            if k == "int":
                self.env[s] = int(tok)
                self.pos[s] = (i, c)
        self.i += 1
        return True

    def repeat(self, it: Repeat) -> bool:
        n = self._count(it.size, 0, "pinned")
        if n is None:
            return False
        for _ in range(n):
            # Each case reads with its own copy of the scalars: a case's sizes size things of that case only.
            nxt = _Reader(self.rows, self.i, dict(self.env), self.out, dict(self.pos), self.links).read(it.body)
            if nxt is None:
                return False
            self.i = nxt
        return True

    def array(self, it: Array) -> bool:
        return self._one_row(it.size, it.delta, "count", it.slot,
                             lambda row, n: len(row) == n and all(token_kind(x) == it.kind for x in row))

    def string(self, it: Str) -> bool:
        return self._one_row(it.size, it.delta, "strlen", it.slot, lambda row, n: len(row) == 1 and len(row[0]) == n)

    def _one_row(self, size: int, delta: int, kind: str, slot: int, fits: Callable[[list[str], int], bool]) -> bool:
        """An array or a lone word: one row that `fits` the length its scalar says (none for length 0)."""
        n = self._count(size, delta, kind)
        if n is None:
            return False
        if n == 0:
            return True  # an empty array or string takes no row
        rows, i = self.rows, self.i
        if i >= len(rows) or not fits(rows[i], n):
            return False
        self.out.append((slot, Observation(list(rows[i]), dict(self.env))))
        self.i += 1
        return True

    def block(self, it: Block) -> bool:
        n = self._count(it.size, it.delta, "rows")
        if n is None:
            return False
        if self.links is not None and it.size in self.pos and it.width is not None and it.width in self.pos:
            self.links.append(SizeLink(*self.pos[it.width], "pinned", -1))  # a grid's width changes with no row
        if n == 0:
            return True  # an empty block takes no row
        block = self.rows[self.i : self.i + n]
        if len(block) != n or any(tuple(token_kind(x) for x in r) != it.kinds for r in block):
            return False
        if it.width is not None and any(len(r[0]) != self.env.get(it.width, -1) for r in block):
            return False
        for c, s in enumerate(it.slots):
            self.out.append((s, Observation([r[c] for r in block], dict(self.env), [list(r) for r in block])))
        self.i += n
        return True


def read(t: Template, rows: Rows) -> list[tuple[int, Observation]] | None:
    """Observations of every slot when `rows` follows skeleton `t`; None when it does not."""
    out: list[tuple[int, Observation]] = []
    end = _Reader(rows, 0, {}, out, {}, None).read(t.items)
    return out if end == len(rows) else None


def size_links(t: Template, rows: Rows) -> list[SizeLink] | None:
    """Which scalars of `rows` size what, read with skeleton `t`; None when `rows` does not follow it."""
    links: list[SizeLink] = []
    end = _Reader(rows, 0, {}, [], {}, links).read(t.items)
    if end != len(rows):
        return None
    # A scalar sizing several things (n for an array and a block) is resized through its first one only.
    first: dict[tuple[int, int], SizeLink] = {}
    for lk in links:
        first.setdefault((lk.row, lk.col), lk)
    return list(first.values())


def learn_template(example_inputs: Sequence[str]) -> Template | None:
    """The skeleton reading the most examples (ties: the earliest example's, nearest sizes first), with the
    observations of every example it reads."""
    examples = [split_lines(e) for e in example_inputs]
    examples = [ex for ex in examples if ex and all(r for r in ex)]  # blank inner lines: no skeleton
    best: Template | None = None
    best_obs: list[list[tuple[int, Observation]]] = []
    for ex in examples:
        for nearest in (True, False):
            t = _learn(ex, nearest)
            if t is None:
                continue
            got = [o for o in (read(t, e) for e in examples) if o is not None]
            if len(got) > len(best_obs):
                best, best_obs = t, got
    if best is None:
        return None
    for o in best_obs:
        for s, ob in o:
            best.observations.setdefault(s, []).append(ob)
    best.examples_read = len(best_obs)
    return best
