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
                out.append(r if isinstance(r, str) else " ".join(str(x) for x in r))


_out = []
_emit(LAYOUT, gen(random.Random(int(sys.stdin.readline()))), _out)
sys.stdout.write("\\n".join(_out) + "\\n")
'''


@dataclass(frozen=True)
class Skeleton:
    """The parts of a generator program around the model's `gen` body."""

    head: str
    """Imports and `def gen(rng):` with its docstring: the prompt's pre-filled code."""
    tail: str
    """The layout and the printer, appended after the body."""
    example: str
    """The first example as the dict `gen` returns (shown in the docstring)."""

    def program(self, completion: str) -> str | None:
        """The full program for a model completion (its body up to the first unindented line, or a fence);
        None when it does not compile."""
        body: list[str] = []
        for line in completion.split("```", 1)[0].split("\n"):
            if line.strip() and not line[0].isspace():
                break  # the function ended: anything after it (its own printing) is not ours to run
            body.append(line)
        code = self.head + "\n".join(body).rstrip() + "\n" + self.tail
        try:
            compile(code, "<generator>", "exec")
        except (SyntaxError, ValueError):
            return None
        return code


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
    return Skeleton(head, tail, shown)
