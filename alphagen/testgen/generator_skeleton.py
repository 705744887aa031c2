"""A generator-program skeleton derived from the learned input format: the model writes value choices, not I/O.

The program reads its seed from stdin (the sandbox passes stdin, not argv), calls `gen(rng)` (the only part the
model writes: it returns one test as a dict of named values) and prints the dict in the learned layout. Every
scalar that sizes something is printed from the length of what it sizes (n is len(a), t is len(cases)), so
sizes agree with what they size by construction; the model's body is cut at its first unindented line, so it
cannot add printing of its own. The docstring of `gen` names each value with its type and range and shows
the first example as such a dict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from alphagen.extract import python_syntax_ok
from alphagen.testgen.input_format import InputFormat
from alphagen.testgen.random_model import SlotModel, learn_models
from alphagen.testgen.structure import split_lines
from alphagen.testgen.template import Array, Block, Fixed, Item, Repeat, Str, Template, grid_width, sized, visit

# The printer appended after the model's `gen`: walks the layout (JSON) and prints the returned dict.
PRINTER = '''

def _emit(layout, d, out):
    for it in layout:
        if it["t"] == "fixed":
            row = []
            for c in it["cols"]:
                if c.get("len_of"):
                    row.append(str(len(d[c["len_of"]]) - c["delta"]))
                elif c.get("width_of"):
                    row.append(str(len(d[c["width_of"]][0]) if d[c["width_of"]] else 1))
                else:
                    row.append(str(d[c["name"]]))
            out.append(" ".join(row))
        elif it["t"] == "repeat":
            for case in d[it["name"]]:
                _emit(it["body"], case, out)
        elif it["t"] in ("array",):
            if d[it["name"]]:
                out.append(" ".join(str(x) for x in d[it["name"]]))
        elif it["t"] == "str":
            if d[it["name"]]:
                out.append(str(d[it["name"]]))
        else:
            for r in d[it["name"]]:
                out.append(" ".join(str(x) for x in r) if isinstance(r, (list, tuple)) else str(r))


def _as_test(v):
    # A small model often returns the test in another shape; take it when the meaning is unambiguous.
    if hasattr(v, "__next__"):
        v = next(v)  # a generator function (it yielded): its first test
    if isinstance(v, dict):
        return v
    keys = []  # the names in the docstring's order
    for it in LAYOUT:
        keys += [c["name"] for c in it["cols"] if "name" in c] if it["t"] == "fixed" else [it["name"]]
    if len(keys) == 1:
        return {keys[0]: v}  # the only value, returned bare
    if isinstance(v, tuple) and len(v) == len(keys):
        return dict(zip(keys, v))  # `return n, a`: the values in the docstring's order
    raise TypeError("gen must return a dict, got " + type(v).__name__)


_seed = int(sys.stdin.readline())
# The module-level `random` is seeded too: a body that calls random.choice instead of rng.choice stays
# deterministic for its seed.
random.seed(_seed)
_out = []
_emit(LAYOUT, _as_test(gen(random.Random(_seed))), _out)
sys.stdout.write("\\n".join(_out) + "\\n")
'''

BODY_STOPS: tuple[str, ...] = (
    "```", "\n\n\n", "\ndef ", "\nif ", "\n#", "\nprint", "\nclass ", "\nfor ", "\nwhile ", "\nmain",
    "\nimport ", "\nfrom ", "\nrng", "\ngen", "\ntest", "\nresult", "\n_", "\ntry", "\nwith ",
)
"""Stop strings for sampling a `gen` body: the usual ways a model starts code after the function (two blank
lines, a new `def`, a test, a print). `Skeleton.program` cuts the body at its first unindented line anyway;
stopping there saves the tokens a model spends on a `main` we would throw away (most of a generator's
sampling time before)."""


@dataclass(frozen=True)
class Skeleton:
    """The parts of a generator program around the model's `gen` body."""

    head: str
    """Imports and `def gen(rng):` with its docstring: the prompt's pre-filled code."""
    tail: str
    """The layout and the printer, appended after the body."""
    example: str
    """The first example as the dict `gen` returns (shown in the docstring)."""
    plain: str = ""
    """A plain `gen` body that draws a small test in the layout from the learned value ranges (shown in the
    prompt: a 0.5B model shown only the docstring mostly returned the wrong shape)."""

    def program(self, completion: str) -> str | None:
        """The full program for a model completion (its body up to the first unindented line, or a fence);
        None when it does not compile."""
        body: list[str] = []
        for line in completion.split("```", 1)[0].split("\n"):
            if line.strip() and not line[0].isspace():
                break  # the function ended: anything after it (its own printing) is not ours to run
            body.append(line)
        code = self.head + "\n".join(body).rstrip() + "\n" + self.tail
        # Total on hostile text (a model's 3000-term sum raises RecursionError in compile()).
        return code if python_syntax_ok(code) else None


class _Namer:
    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, pool: Sequence[str]) -> str:
        for name in pool:
            if name not in self.used:
                self.used.add(name)
                return name
        name = f"{pool[0]}{len(self.used)}"
        self.used.add(name)
        return name


LayoutEntry = dict[str, Any]  # Any: one item of the printer's JSON layout; its keys depend on its "t"
"""An item's entry in the layout the printer walks: {"t": "fixed", "cols": [...]}, {"t": "array", "name": ...}."""

SIZE_NAMES = ("n", "m", "k", "q")
SCALAR_NAMES = ("x", "y", "z", "w", "u", "v")
ARRAY_NAMES = ("a", "b", "c", "p")
STR_NAMES = ("s", "t", "r")
BLOCK_NAMES = ("rows", "pairs", "queries")


class _Layout:
    """Names every item, builds the printer's layout and the docstring lines."""

    def __init__(self, t: Template, models: dict[int, SlotModel]) -> None:
        self.models = models
        self.names = _Namer()
        self.item_name: dict[int, str] = {}
        self.doc: list[str] = []

    def _range(self, slot: int) -> str:
        m = self.models.get(slot)
        if m is None:
            return ""
        if m.kind == "int":
            return f"{m.lo} <= value <= {m.hi}"
        if m.kind == "float":
            return f"{m.flo} <= value <= {m.fhi}, {m.decimals} decimals"
        if m.choices:
            return "one of " + ", ".join(repr(c) for c in m.choices)
        return f"letters from {m.alphabet!r}"

    def _len_range(self, size: int, delta: int) -> str:
        m = self.models.get(size)
        return f"{max(0, m.lo + delta)} <= len <= {m.hi + delta}" if m is not None else ""

    def build(self, items: Sequence[Item], indent: str) -> list[LayoutEntry]:
        # Name the sized items first, so a size column can say what it is the length of.
        names: dict[int, str] = {}
        for k, it in enumerate(items):
            pool = visit(it, _NAME_POOL)
            if pool is not None:
                names[k] = self.names.take(pool)
        first_sized: dict[int, tuple[str, int]] = {}
        widths: dict[int, str] = {}
        for k, it in enumerate(items):
            size, width = sized(it), grid_width(it)
            if size is not None:
                first_sized.setdefault(size[0], (names[k], size[1]))
            if width is not None:
                widths.setdefault(width, names[k])
        return [visit(it, _LayoutItem(self, names.get(k, ""), indent, first_sized, widths))
                for k, it in enumerate(items)]


class _NamePool:
    """Which names an item's variable is drawn from (a fixed row names its columns itself: None)."""

    def fixed(self, it: Fixed) -> Sequence[str] | None:
        return None

    def array(self, it: Array) -> Sequence[str] | None:
        return ARRAY_NAMES

    def string(self, it: Str) -> Sequence[str] | None:
        return STR_NAMES

    def block(self, it: Block) -> Sequence[str] | None:
        return ("grid",) if it.width is not None else BLOCK_NAMES

    def repeat(self, it: Repeat) -> Sequence[str] | None:
        return ("cases",)


_NAME_POOL = _NamePool()


@dataclass
class _LayoutItem:
    """One item's entry in the printer's layout, its docstring lines appended to the layout's."""

    layout: _Layout
    name: str
    indent: str
    first_sized: dict[int, tuple[str, int]]
    """Size slot -> (name of the first item it sizes, that item's delta)."""
    widths: dict[int, str]
    """Width slot -> name of the grid whose row length it gives."""

    def fixed(self, it: Fixed) -> LayoutEntry:
        lay = self.layout
        cols: list[LayoutEntry] = []
        for s, kind in zip(it.slots, it.kinds, strict=True):
            if kind == "int" and s in self.first_sized:
                name, delta = self.first_sized[s]
                cols.append({"len_of": name, "delta": delta})
            elif kind == "int" and s in self.widths:
                cols.append({"width_of": self.widths[s]})
            else:
                name = lay.names.take(SCALAR_NAMES if kind != "word" else STR_NAMES)
                cols.append({"name": name})
                lay.doc.append(f'{self.indent}"{name}": {kind}, {lay._range(s)}')
        return {"t": "fixed", "cols": cols}

    def repeat(self, it: Repeat) -> LayoutEntry:
        cases = self.layout._len_range(it.size, 0)
        self.layout.doc.append(f'{self.indent}"{self.name}": list of test cases (dicts), {cases}, each:')
        body = self.layout.build(it.body, self.indent + "    ")
        return {"t": "repeat", "name": self.name, "body": body}

    def array(self, it: Array) -> LayoutEntry:
        lay = self.layout
        lay.doc.append(f'{self.indent}"{self.name}": list of {it.kind}, {lay._len_range(it.size, it.delta)}, '
                       f"each {lay._range(it.slot)}")
        return {"t": "array", "name": self.name}

    def string(self, it: Str) -> LayoutEntry:
        lay = self.layout
        lay.doc.append(f'{self.indent}"{self.name}": str, {lay._len_range(it.size, it.delta)}, {lay._range(it.slot)}')
        return {"t": "str", "name": self.name}

    def block(self, it: Block) -> LayoutEntry:
        lay = self.layout
        if it.width is not None:
            what = f"list of equal-length str rows, {lay._range(it.slots[0])}"
        else:
            cols_doc = "; ".join(f"{kind} {lay._range(s)}" for s, kind in zip(it.slots, it.kinds, strict=True))
            what = f"list of {len(it.slots)}-tuples ({cols_doc})"
        lay.doc.append(f'{self.indent}"{self.name}": {what}, {lay._len_range(it.size, it.delta)} rows')
        return {"t": "block", "name": self.name}


def _value(tok: str, kind: str) -> int | float | str:
    return int(tok) if kind == "int" else float(tok) if kind == "float" else tok


def _example_dict(
    layout: list[LayoutEntry], items: Sequence[Item], rows: list[list[str]], i: int
) -> tuple[dict[str, object], int]:
    """The example's rows as the dict `gen` returns (for the docstring); the next row."""
    reader = _ExampleReader(rows, i)
    for spec, it in zip(layout, items, strict=True):
        reader.spec = spec
        visit(it, reader)
    return reader.d, reader.i


@dataclass
class _ExampleReader:
    """Reads an example's rows item by item into the dict `gen` returns, from row `i` on."""

    rows: list[list[str]]
    i: int
    env: dict[int, int] = field(default_factory=dict)
    """Slot -> value of the integers read so far (the sizes)."""
    d: dict[str, object] = field(default_factory=dict)
    spec: LayoutEntry = field(default_factory=dict)
    """The layout entry of the item being read."""

    def _count(self, size: int, delta: int) -> int:
        return max(self.env.get(size, 0) + delta, 0)

    def fixed(self, it: Fixed) -> None:
        for c, s, kind, tok in zip(self.spec["cols"], it.slots, it.kinds, self.rows[self.i], strict=True):
            if kind == "int":
                self.env[s] = int(tok)
            if "name" in c:
                self.d[c["name"]] = _value(tok, kind)
        self.i += 1

    def repeat(self, it: Repeat) -> None:
        cases = []
        for _ in range(self.env.get(it.size, 0)):
            case, self.i = _example_dict(self.spec["body"], it.body, self.rows, self.i)
            cases.append(case)
        self.d[self.spec["name"]] = cases

    def array(self, it: Array) -> None:
        n = self._count(it.size, it.delta)
        self.d[self.spec["name"]] = [_value(x, it.kind) for x in self.rows[self.i]] if n > 0 else []
        self.i += 1 if n > 0 else 0

    def string(self, it: Str) -> None:
        n = self._count(it.size, it.delta)
        self.d[self.spec["name"]] = self.rows[self.i][0] if n > 0 else ""
        self.i += 1 if n > 0 else 0

    def block(self, it: Block) -> None:
        n = self._count(it.size, it.delta)
        block = self.rows[self.i : self.i + n]
        if it.width is not None:
            self.d[self.spec["name"]] = [r[0] for r in block]
        else:
            self.d[self.spec["name"]] = [tuple(_value(x, k) for x, k in zip(r, it.kinds, strict=True)) for r in block]
        self.i += n


SMALL = 8
"""The plain body draws sizes up to this (or the stated maximum, if smaller): it shows the shape, not scale."""


def _int_expr(m: SlotModel, var: dict[int, str]) -> str:
    """An integer in the slot's range, below the earlier scalars it was seen bounded by (vertices <= n)."""
    hi = str(m.hi)
    caps = [f"{var[b]}{off:+d}" if off else var[b] for b, off in m.bounds if b in var]
    if caps:
        # max(lo, ...): a bound read off few examples may be a coincidence; never an empty range.
        hi = f"max({m.lo}, min({m.hi}, {', '.join(caps)}))"
    return f"rng.randint({m.lo}, {hi})"


def _value_expr(m: SlotModel | None, kind: str, var: dict[int, str]) -> str:
    """A Python expression drawing one value of a slot from its learned model."""
    if m is None:
        return "rng.randint(1, 10)" if kind == "int" else "rng.choice('ab')"
    if kind == "int" or m.kind == "int":
        return _int_expr(m, var)
    if kind == "float" or m.kind == "float":
        return f"round(rng.uniform({m.flo}, {m.fhi}), {m.decimals})"
    if m.choices:
        return f"rng.choice({list(m.choices)!r})"
    return _word_expr(m, f"rng.randint({max(1, m.lo)}, {max(1, min(m.hi, m.lo + SMALL))})")


def _word_expr(m: SlotModel | None, length: str) -> str:
    alphabet = m.alphabet if m is not None and m.alphabet else "ab"
    return f"''.join(rng.choice({alphabet!r}) for _ in range({length}))"


def _small(m: SlotModel | None, delta: int = 0) -> str:
    lo, hi = (m.lo, m.hi) if m is not None else (1, SMALL)
    lo, hi = max(0, lo + delta), max(0, hi + delta)
    return f"rng.randint({lo}, {max(lo, min(hi, lo + SMALL))})"


def _plain_dict(
    layout: list[LayoutEntry], items: Sequence[Item], models: dict[int, SlotModel], var: dict[int, str]
) -> str:
    """A dict literal drawing one test in the layout; `var` names the scalars already drawn (slot -> variable)."""
    parts: list[str] = []
    for spec, it in zip(layout, items, strict=True):
        parts += visit(it, _PlainEntry(spec, models, var))
    return "{" + ", ".join(parts) + "}"


@dataclass
class _PlainEntry:
    """The dict entries (`'name': expression`) drawing one item of a plain `gen` body."""

    spec: LayoutEntry
    models: dict[int, SlotModel]
    var: dict[int, str]

    def _count(self, size: int, delta: int) -> str:
        if size in self.var:
            return f"max(0, {self.var[size]}{delta:+d})" if delta else self.var[size]
        return _small(self.models.get(size), delta)

    def fixed(self, it: Fixed) -> list[str]:
        parts = []
        for c, slot, kind in zip(self.spec["cols"], it.slots, it.kinds, strict=True):
            if "name" in c:
                value = self.var.get(slot) or _value_expr(self.models.get(slot), kind, self.var)
                parts.append(f"{c['name']!r}: {value}")
        return parts

    def repeat(self, it: Repeat) -> list[str]:
        inner = _plain_dict(self.spec["body"], it.body, self.models, {})
        return [f"{self.spec['name']!r}: [{inner} for _ in range({self._count(it.size, 0)})]"]

    def array(self, it: Array) -> list[str]:
        value = _value_expr(self.models.get(it.slot), it.kind, self.var)
        return [f"{self.spec['name']!r}: [{value} for _ in range({self._count(it.size, it.delta)})]"]

    def string(self, it: Str) -> list[str]:
        return [f"{self.spec['name']!r}: {_word_expr(self.models.get(it.slot), self._count(it.size, it.delta))}"]

    def block(self, it: Block) -> list[str]:
        count = self._count(it.size, it.delta)
        if it.width is not None:
            row = _word_expr(self.models.get(it.slots[0]), self._count(it.width, 0))
            return [f"{self.spec['name']!r}: [{row} for _ in range({count})]"]
        cols = ", ".join(_value_expr(self.models.get(sl), k, self.var)
                         for sl, k in zip(it.slots, it.kinds, strict=True))
        return [f"{self.spec['name']!r}: [({cols},) for _ in range({count})]"]


def _plain_body(layout: list[LayoutEntry], items: Sequence[Item], models: dict[int, SlotModel]) -> str:
    """A plain `gen` body: the top-level integers first, as variables (so sizes and bounds can use them), then
    the returned dict."""
    var: dict[int, str] = {}
    lines: list[str] = []
    for spec, it in zip(layout, items, strict=True):
        if not isinstance(it, Fixed):
            continue
        for c, slot, kind in zip(spec["cols"], it.slots, it.kinds, strict=True):
            if kind != "int":
                continue
            m = models.get(slot)
            name = c.get("name") or f"n{slot}"
            # A size is drawn small (the printer writes it as the length); a value over its whole range.
            expr = _int_expr(m, var) if "name" in c and m is not None else _small(m)
            lines.append(f"    {name} = {expr}\n")
            var[slot] = name
    return "".join(lines) + "    return " + _plain_dict(layout, items, models, var) + "\n"


def generator_skeleton(fmt: InputFormat, first_example: str) -> Skeleton | None:
    """The skeleton for this format; None without a learned skeleton (the caller uses the free-form prompt)."""
    t = fmt.template
    if t is None:
        return None
    models, _ = learn_models(t, fmt.constraints)
    lay = _Layout(t, models)
    layout = lay.build(t.items, "        ")
    try:
        example, _ = _example_dict(layout, t.items, split_lines(first_example), 0)
        shown = repr(example)
    except (IndexError, ValueError, KeyError):
        shown = ""
    shown = shown if len(shown) <= 400 else shown[:400] + " ..."
    doc = "\n".join(lay.doc)
    head = (
        "import random\nimport sys\n\n\n"
        "def gen(rng):\n"
        '    """Return one random test as a dict with these keys (sizes are printed from the lengths):\n'
        f"{doc}\n"
        + (f"    Example: {shown}\n" if shown else "")
        + "    Use only rng (a random.Random) for randomness. Vary sizes and values: tiny, boundary, large.\n"
        '    """\n'
    )
    tail = "\n\nLAYOUT = " + json.dumps(layout) + "\n" + PRINTER
    plain = _plain_body(layout, t.items, models)
    return Skeleton(head, tail, shown, plain)
