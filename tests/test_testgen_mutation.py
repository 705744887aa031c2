"""Example mutation is type-aware: sizes and what they size move together, values stay within constraints."""

from __future__ import annotations

import json
import random

from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.input_format import Leniency, learn_input_format
from alphagen.testgen.mutate_args import ArgsMutator, args_problem
from alphagen.testgen.mutate_stdio import Link, StdioMutator, find_links, links_of
from alphagen.testgen.structure import learn_format, split_lines, structure_problem


def _where(links: list[Link]) -> list[tuple[int, int, str, int]]:
    return [(lk.row, lk.col, lk.kind, lk.target) for lk in links]


def test_links_find_counts_rows_and_string_lengths() -> None:
    assert _where(find_links(split_lines("5\n1 2 3 4 5\n"))) == [(0, 0, "count", 1)]
    assert _where(find_links(split_lines("3 7\n1 2\n3 4\n5 6\n"))) == [(0, 0, "rows", 1)]
    assert _where(find_links(split_lines("4\nabcd\n"))) == [(0, 0, "strlen", 1)]
    assert _where(find_links(split_lines("6\n010011\n"))) == [(0, 0, "strlen", 1)]
    # The array's invariants are recorded so that resizing keeps it a sorted permutation.
    assert find_links(split_lines("5\n1 2 3 4 5\n"))[0].inv == {"perm", "sorted", "distinct", "bounded"}


def test_links_come_from_the_shared_skeleton() -> None:
    # One format model for the problem: its skeleton (learned from all examples) says what sizes what, including
    # "n - 1" arrays and test-case counts that the one-example reading cannot see.
    examples = ["4\n1 1 2\n", "3\n1 2\n"]
    fmt = learn_input_format(examples)
    got = links_of(split_lines(examples[0]), fmt)
    assert [(lk.row, lk.col, lk.kind, lk.target, lk.delta) for lk in got] == [(0, 0, "count", 1, -1)]
    for m in StdioMutator(examples, parse_constraints("2 ≤ n ≤ 30"), 1000, fmt=fmt).propose(40, random.Random(0)):
        assert fmt.problem(m, 10_000, Leniency.EXACT) is None, m
    cases = learn_input_format(["2\n3\n1 2 3\n2\n5 6\n"])
    kinds = [lk.kind for lk in links_of(split_lines("2\n3\n1 2 3\n2\n5 6\n"), cases)]
    assert kinds == ["pinned", "count", "count"]
    for m in StdioMutator(["2\n3\n1 2 3\n2\n5 6\n"], [], 50, fmt=cases).propose(30, random.Random(1)):
        assert cases.problem(m, 10_000, Leniency.EXACT) is None, m


def test_stdio_mutants_keep_the_format_and_respect_constraints() -> None:
    examples = ["5\n1 2 3 4 5\n", "3\n10 1 2\n"]
    statement = "1 ≤ n ≤ 50\n1 ≤ a_i ≤ 1000"
    cs = parse_constraints(statement)
    fmt = learn_format(examples, cs)
    assert fmt is not None
    mutants = StdioMutator(examples, cs, scale_cap=1000).propose(60, random.Random(3))
    assert len(mutants) == 60
    well_formed = [m for m in mutants if structure_problem(fmt, m, 10_000) is None]
    # Nearly all mutants must stay well formed (the arrays are resized together with n).
    assert len(well_formed) >= 55
    for m in well_formed:
        rows = split_lines(m)
        assert 1 <= int(rows[0][0]) <= 50 and len(rows[1]) == int(rows[0][0])
        assert all(1 <= int(t) <= 1000 for t in rows[1])
    # Boundary values from the constraints appear: n = 50 (grown to the maximum) and n = 1.
    sizes = {int(split_lines(m)[0][0]) for m in well_formed}
    assert 50 in sizes and 1 in sizes
    assert len(set(mutants)) > 30


def test_permutations_stay_permutations() -> None:
    examples = ["4\n2 4 1 3\n"]
    for m in StdioMutator(examples, parse_constraints("1 ≤ n ≤ 30"), 1000).propose(40, random.Random(1)):
        rows = split_lines(m)
        assert sorted(int(t) for t in rows[1]) == list(range(1, int(rows[0][0]) + 1))


def test_strings_mutate_within_the_examples_alphabet() -> None:
    examples = ["6\n010011\n"]
    for m in StdioMutator(examples, parse_constraints("1 ≤ n ≤ 20"), 1000).propose(30, random.Random(2)):
        n_line, s_line = split_lines(m)
        assert set(s_line[0]) <= {"0", "1"} and len(s_line[0]) == int(n_line[0])


def test_mutation_is_deterministic_for_a_seed() -> None:
    m = StdioMutator(["3\n1 2 3\n"], [], 100)
    assert m.propose(20, random.Random(7)) == m.propose(20, random.Random(7))
    assert m.propose(20, random.Random(7)) != m.propose(20, random.Random(8))


def test_function_arguments_mutate_by_type_and_keep_arity() -> None:
    examples = ['[[3, 1, 2], "ab", true, 1.5]']
    mutants = ArgsMutator(examples, [], 50).propose(80, random.Random(0))
    assert all(args_problem(examples, m, 100_000) is None for m in mutants)
    args = [json.loads(m) for m in mutants]
    assert all(len(a) == 4 for a in args)
    assert any(a[0] == [] for a in args) and any(len(a[0]) > 3 for a in args)
    assert any(a[2] is False for a in args) and any(a[1] != "ab" for a in args)
