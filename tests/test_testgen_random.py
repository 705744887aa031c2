"""The random source: skeletons learned from examples, fresh inputs that follow them and the statement's
bounds, and the wrong programs they separate."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from alphagen.problems import load_problem
from alphagen.references import runnable
from alphagen.testgen import TestGenConfig, generate_test_inputs
from alphagen.testgen.constraints import TOTAL_LENGTH, Constraint, parse_constraints
from alphagen.testgen.random_inputs import RandomInputs
from alphagen.testgen.structure import split_lines
from alphagen.testgen.template import Array, Block, Fixed, Repeat, Str, learn_template, read
from sandbox.values import Limits, Program
from tests.testgen_fakes import RIGHT, VIEW, FakeExecutor, run_source

ARRAY_EXAMPLES = ["3\n1 5 2\n", "4\n7 7 1 2\n"]
ARRAY_BOUNDS = [Constraint(("n",), 1, 100), Constraint(("a",), 1, 1000)]


def _fresh(examples: list[str], constraints: list[Constraint], count: int = 30, seed: int = 0) -> list[str]:
    gen = RandomInputs(examples, constraints, scale_cap=2000, large_scale=20_000, max_bytes=400_000)
    return gen.propose(count, random.Random(seed))


def test_skeletons_of_common_formats() -> None:
    t = learn_template(["5 3\n2 -1 3 5 -4\n1 3\n2 5\n4 4\n"])
    assert t is not None and [type(x) for x in t.items] == [Fixed, Array, Block]
    grid = learn_template(["3 4\nS.#.\n.##T\n....\n", "2 2\nS#\n#T\n"])
    assert grid is not None and isinstance(grid.items[1], Block) and grid.items[1].width == 1
    assert grid.examples_read == 2
    tree = learn_template(["4 1\n1 1 0 0\n1 2\n1 3\n1 4\n"])
    assert tree is not None and isinstance(tree.items[2], Block) and tree.items[2].delta == -1
    s = learn_template(["9 12 4\nbbaaababb\nabbbabbaaaba\n", "3 2 2\nabc\nab\n"])
    assert s is not None and [type(x) for x in s.items] == [Fixed, Str, Str]
    cases = learn_template(["2\n3 3\n1 2\n2 3\n3 1\n4 3\n1 2\n2 3\n3 4\n"])
    assert cases is not None and isinstance(cases.items[1], Repeat)


def test_generated_inputs_follow_the_learned_format_and_the_bounds() -> None:
    inputs = _fresh(ARRAY_EXAMPLES, ARRAY_BOUNDS)
    assert len(inputs) >= 20
    template = learn_template(ARRAY_EXAMPLES)
    assert template is not None
    for text in inputs:
        rows = split_lines(text)
        assert read(template, rows) is not None, text
        n, values = int(rows[0][0]), [int(v) for v in rows[1]]
        assert 1 <= n <= 100 and len(values) == n
        assert all(1 <= v <= 1000 for v in values)
    # Profiles reach both ends: n = 1 and the largest n the statement allows.
    sizes = {int(split_lines(t)[0][0]) for t in inputs}
    assert 1 in sizes and 100 in sizes


def test_same_seed_same_inputs_other_seed_other_inputs() -> None:
    assert _fresh(ARRAY_EXAMPLES, ARRAY_BOUNDS, seed=3) == _fresh(ARRAY_EXAMPLES, ARRAY_BOUNDS, seed=3)
    assert _fresh(ARRAY_EXAMPLES, ARRAY_BOUNDS, seed=3) != _fresh(ARRAY_EXAMPLES, ARRAY_BOUNDS, seed=4)


def test_relations_seen_in_examples_are_kept() -> None:
    # Edges of a tree on 1..n: every generated edge list is again a tree (n - 1 edges, all connected).
    examples = ["4\n1 2\n1 3\n3 4\n", "5\n2 1\n3 2\n4 2\n5 4\n"]
    for text in _fresh(examples, [Constraint(("n",), 2, 50)]):
        rows = split_lines(text)
        n = int(rows[0][0])
        edges = [(int(a), int(b)) for a, b in rows[1:]]
        assert len(edges) == n - 1
        seen = {1}
        for _ in range(n):
            seen |= {b for a, b in edges if a in seen} | {a for a, b in edges if b in seen}
        assert seen == set(range(1, n + 1)), text
    # A grid keeps exactly one S and one T, and rows as long as m says.
    for text in _fresh(["3 4\nS.#.\n.##T\n....\n", "2 2\nS#\n#T\n"], [Constraint(("n", "m"), 1, 30)]):
        rows = split_lines(text)
        grid = "".join(r[0] for r in rows[1:])
        assert grid.count("S") == 1 and grid.count("T") == 1
        assert all(len(r[0]) == int(rows[0][1]) for r in rows[1:])


def test_scraped_statement_constraints_parse() -> None:
    # Superscripts lost in scraping (10^5 written 105), a dot operator, powers of two with a correction.
    assert parse_constraints("(1 ≤ n ≤ 2·105, 0 ≤ x ≤ 1012)") == [
        Constraint(("n",), 1, 200_000),
        Constraint(("x",), 0, 10**12),
    ]
    assert parse_constraints("n (2 ≤ n ≤ 3 ⋅ 10^5), a_i (0 ≤ a_i < 2^{20})") == [
        Constraint(("n",), 2, 300_000),
        Constraint(("a",), 0, 2**20 - 1),
    ]
    assert parse_constraints("2 ≤ a_i ≤ 2^{25} - 1") == [Constraint(("a",), 2, 2**25 - 1)]
    # With a "^" elsewhere the statement is not scraped: 105 stays 105.
    assert parse_constraints("1 ≤ n ≤ 105 and 1 ≤ k ≤ 10^9") == [
        Constraint(("n",), 1, 105),
        Constraint(("k",), 1, 10**9),
    ]


# Passes both examples, wrong only when n == 1 (skips the first element).
OFF_BY_ONE = "n = int(input())\na = list(map(int, input().split()))\nprint(max(a[1:]) if n > 1 else 0)\n"


def test_random_source_separates_an_off_by_one_on_n_equal_1() -> None:
    survivors = [Program(RIGHT), Program(OFF_BY_ONE)]
    cfg = TestGenConfig(sources=("random",), num_random=12, max_inputs=12)
    ti = generate_test_inputs(VIEW, survivors, FakeExecutor(), Limits(time_s=1.0), cfg, seed=0)
    assert ti.counts["random_proposed"] == 12 and ti.inputs and set(ti.sources) == {"random"}
    assert any(split_lines(t)[0] == ["1"] for t in ti.inputs)
    # Clustering on these inputs puts the two programs apart.
    outputs = [[run_source(p.source, t) for t in ti.inputs] for p in survivors]
    assert outputs[0] != outputs[1]


def test_config_rejects_negative_random_count() -> None:
    with pytest.raises(ValueError, match="num_random must be >= 0"):
        TestGenConfig(num_random=-1)
    assert "random" in TestGenConfig().sources


def test_an_array_takes_its_own_stated_range_not_a_scalars() -> None:
    # `1 <= n, k <= 10^4` belong to n and k; the examples show only positive a_i, yet a_i may be negative and
    # up to 10^9 (with a's range handed to k, no input held more than 10^4 distinct values).
    bounds = [Constraint(("n",), 1, 10_000), Constraint(("k",), 1, 10_000), Constraint(("a",), -(10**9), 10**9)]
    inputs = _fresh(["6 2\n5 1 5 3 1 9\n", "3 3\n7 7 2\n"], bounds, count=40)
    values = [int(v) for t in inputs for v in split_lines(t)[1]]
    assert min(values) < 0 and max(values) > 10_000
    assert all(-(10**9) <= v <= 10**9 for v in values)
    # Query rows after the array keep n's range (positions are >= 1): a's range is the array's.
    bounds = [Constraint(("n", "q"), 1, 10_000), Constraint(("a",), -(10**4), 10**4)]
    for text in _fresh(["5 3\n2 -1 3 5 -4\n1 3\n2 5\n4 4\n"], bounds):
        assert all(1 <= int(v) <= 10_000 for row in split_lines(text)[2:] for v in row), text[:80]


WORDS = ["5\nlisten\nsilent\ncat\nact\ndog\n"]
WORD_BOUNDS = [Constraint(("n",), 1, 20_000), Constraint((TOTAL_LENGTH,), 1, 100_000)]


def test_strings_share_out_the_stated_total_length() -> None:
    inputs = _fresh(WORDS, WORD_BOUNDS, count=40)
    totals = [sum(len(r[0]) for r in split_lines(t)[1:]) for t in inputs]
    assert max(totals) <= 100_000
    # The largest inputs are both shapes: many short words, and a few words as long as the total allows.
    rows = [split_lines(t) for t in inputs]
    assert any(int(r[0][0]) == 20_000 for r in rows)
    assert any(int(r[0][0]) <= 3 and max(len(w[0]) for w in r[1:]) >= 20_000 for r in rows)


def test_exhaustive_small_inputs() -> None:
    gen = RandomInputs(WORDS, WORD_BOUNDS, scale_cap=2000, large_scale=20_000, max_bytes=400_000)
    text = gen.generate("allsmall", random.Random(1))
    assert text is not None
    rows = split_lines(text)
    words = [r[0] for r in rows[1:]]
    # Many short strings, all over the same two letters: anagrams, repeats and shared substrings are likely.
    assert len(words) == int(rows[0][0]) and all(1 <= len(w) <= 10 for w in words)
    assert len(set("".join(words))) <= 2
    pairs = RandomInputs(["4\n4 1 4 2\n", "3\n5 5 1\n"], ARRAY_BOUNDS, 2000, 20_000, 400_000)
    values = [split_lines(pairs.generate("allsmall", random.Random(s)) or "")[1] for s in range(10)]
    # Values small, and equal values common (a third are copies of one drawn before).
    assert all(1 <= int(v) <= 10 for vs in values for v in vs)
    assert sum(len(vs) - len(set(vs)) for vs in values) >= 5


# The shipped maze problem: its examples and its reference solution.
MAZE_PROBLEM = load_problem(Path(__file__).resolve().parents[1] / "problems" / "maze-shortest-path.json")
MAZE_EXAMPLES = [t.input for t in MAZE_PROBLEM.public_tests]
MAZE = runnable(MAZE_PROBLEM)[0].code


def test_grids_keep_the_examples_background_and_put_start_and_exit_on_opposite_edges() -> None:
    # A move up from the top row that wraps to the bottom one (r >= 0): only a grid open enough for a path, with
    # the start near one edge and the exit near the opposite one, shows it. Separated on every seed.
    wraps = MAZE.replace("(v - m, r > 0)", "(v - m, r >= 0)")
    assert wraps != MAZE
    for seed in range(5):
        inputs = _fresh(MAZE_EXAMPLES, [Constraint(("n", "m"), 1, 300)], seed=seed)
        assert any(run_source(MAZE, t) != run_source(wraps, t) for t in inputs), seed
        grids = [[r[0] for r in split_lines(t)[1:]] for t in inputs]
        # Mostly '.' (the examples' most common free cell), not walls.
        assert sum("".join(g).count(".") > "".join(g).count("#") for g in grids) > len(grids) / 2
        opposite = [g for g in grids if len(g) > 2 and ("S" in g[0] and "T" in g[-1] or "T" in g[0] and "S" in g[-1])]
        assert opposite, seed
