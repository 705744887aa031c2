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
from dataclasses import dataclass
from typing import Any

from alphagen.extract import python_syntax_ok
from alphagen.testgen.input_format import InputFormat
from alphagen.testgen.random_model import SlotModel, learn_models
from alphagen.testgen.structure import split_lines
from alphagen.testgen.template import Array, Block, Fixed, Item, Repeat, Str, Template

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

    def build(self, items: Sequence[Item], indent: str) -> list[dict[str, Any]]:
        # Name the sized items first, so a size column can say what it is the length of.
        names: dict[int, str] = {}
        for k, it in enumerate(items):
            if isinstance(it, Array):
                names[k] = self.names.take(ARRAY_NAMES)
            elif isinstance(it, Str):
                names[k] = self.names.take(STR_NAMES)
            elif isinstance(it, Block):
                names[k] = self.names.take(("grid",) if it.width is not None else BLOCK_NAMES)
            elif isinstance(it, Repeat):
                names[k] = self.names.take(("cases",))
        first_sized: dict[int, tuple[str, int]] = {}
        widths: dict[int, str] = {}
        for k, it in enumerate(items):
            if isinstance(it, (Array, Str, Block)):
                first_sized.setdefault(it.size, (names[k], it.delta))
            if isinstance(it, Repeat):
                first_sized.setdefault(it.size, (names[k], 0))
            if isinstance(it, Block) and it.width is not None:
                widths.setdefault(it.width, names[k])
        layout: list[dict[str, Any]] = []
        for k, it in enumerate(items):
            if isinstance(it, Fixed):
                cols: list[dict[str, Any]] = []
                for s, kind in zip(it.slots, it.kinds, strict=True):
                    if kind == "int" and s in first_sized:
                        name, delta = first_sized[s]
                        cols.append({"len_of": name, "delta": delta})
                    elif kind == "int" and s in widths:
                        cols.append({"width_of": widths[s]})
                    else:
                        name = self.names.take(SCALAR_NAMES if kind != "word" else STR_NAMES)
                        cols.append({"name": name})
                        self.doc.append(f'{indent}"{name}": {kind}, {self._range(s)}')
                layout.append({"t": "fixed", "cols": cols})
            elif isinstance(it, Repeat):
                cases = self._len_range(it.size, 0)
                self.doc.append(f'{indent}"{names[k]}": list of test cases (dicts), {cases}, each:')
                body = self.build(it.body, indent + "    ")
                layout.append({"t": "repeat", "name": names[k], "body": body})
            elif isinstance(it, Array):
                self.doc.append(
                    f'{indent}"{names[k]}": list of {it.kind}, {self._len_range(it.size, it.delta)}, '
                    f"each {self._range(it.slot)}"
                )
                layout.append({"t": "array", "name": names[k]})
            elif isinstance(it, Str):
                self.doc.append(
                    f'{indent}"{names[k]}": str, {self._len_range(it.size, it.delta)}, {self._range(it.slot)}'
                )
                layout.append({"t": "str", "name": names[k]})
            else:
                assert isinstance(it, Block)
                if it.width is not None:
                    what = f"list of equal-length str rows, {self._range(it.slots[0])}"
                else:
                    cols_doc = "; ".join(f"{kind} {self._range(s)}" for s, kind in zip(it.slots, it.kinds, strict=True))
                    what = f"list of {len(it.slots)}-tuples ({cols_doc})"
                self.doc.append(f'{indent}"{names[k]}": {what}, {self._len_range(it.size, it.delta)} rows')
                layout.append({"t": "block", "name": names[k]})
        return layout


def _value(tok: str, kind: str) -> Any:
    return int(tok) if kind == "int" else float(tok) if kind == "float" else tok


def _example_dict(
    layout: list[dict[str, Any]], items: Sequence[Item], rows: list[list[str]], i: int
) -> tuple[dict[str, Any], int]:
    """The example's rows as the dict `gen` returns (for the docstring); the next row."""
    d: dict[str, Any] = {}
    env: dict[int, int] = {}
    for spec, it in zip(layout, items, strict=True):
        if isinstance(it, Fixed):
            for c, s, kind, tok in zip(spec["cols"], it.slots, it.kinds, rows[i], strict=True):
                if kind == "int":
                    env[s] = int(tok)
                if "name" in c:
                    d[c["name"]] = _value(tok, kind)
            i += 1
        elif isinstance(it, Repeat):
            cases = []
            for _ in range(env.get(it.size, 0)):
                case, i = _example_dict(spec["body"], it.body, rows, i)
                cases.append(case)
            d[spec["name"]] = cases
        else:
            n = env.get(it.size, 0) + it.delta
            if isinstance(it, Array):
                d[spec["name"]] = [_value(x, it.kind) for x in rows[i]] if n > 0 else []
                i += 1 if n > 0 else 0
            elif isinstance(it, Str):
                d[spec["name"]] = rows[i][0] if n > 0 else ""
                i += 1 if n > 0 else 0
            else:
                block = rows[i : i + max(n, 0)]
                if it.width is not None:
                    d[spec["name"]] = [r[0] for r in block]
                else:
                    d[spec["name"]] = [tuple(_value(x, k) for x, k in zip(r, it.kinds, strict=True)) for r in block]
                i += max(n, 0)
    return d, i


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
    layout: list[dict[str, Any]], items: Sequence[Item], models: dict[int, SlotModel], var: dict[int, str]
) -> str:
    """A dict literal drawing one test in the layout; `var` names the scalars already drawn (slot -> variable)."""

    def count(size: int, delta: int) -> str:
        if size in var:
            return f"max(0, {var[size]}{delta:+d})" if delta else var[size]
        return _small(models.get(size), delta)

    parts: list[str] = []
    for spec, it in zip(layout, items, strict=True):
        if isinstance(it, Fixed):
            for c, slot, kind in zip(spec["cols"], it.slots, it.kinds, strict=True):
                if "name" in c:
                    value = var.get(slot) or _value_expr(models.get(slot), kind, var)
                    parts.append(f"{c['name']!r}: {value}")
        elif isinstance(it, Repeat):
            inner = _plain_dict(spec["body"], it.body, models, {})
            parts.append(f"{spec['name']!r}: [{inner} for _ in range({count(it.size, 0)})]")
        elif isinstance(it, Array):
            value = _value_expr(models.get(it.slot), it.kind, var)
            parts.append(f"{spec['name']!r}: [{value} for _ in range({count(it.size, it.delta)})]")
        elif isinstance(it, Str):
            parts.append(f"{spec['name']!r}: {_word_expr(models.get(it.slot), count(it.size, it.delta))}")
        elif it.width is not None:
            row = _word_expr(models.get(it.slots[0]), count(it.width, 0))
            parts.append(f"{spec['name']!r}: [{row} for _ in range({count(it.size, it.delta)})]")
        else:
            cols = ", ".join(
                _value_expr(models.get(sl), k, var) for sl, k in zip(it.slots, it.kinds, strict=True)
            )
            parts.append(f"{spec['name']!r}: [({cols},) for _ in range({count(it.size, it.delta)})]")
    return "{" + ", ".join(parts) + "}"


def _plain_body(layout: list[dict[str, Any]], items: Sequence[Item], models: dict[int, SlotModel]) -> str:
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
