"""Constraint parsing: the boundary values mutation uses and the span validation enforces."""

from __future__ import annotations

import pytest

from alphagen.testgen.constraints import (
    TOTAL_LENGTH,
    Constraint,
    bounds_for,
    overall_span,
    parse_constraints,
    parse_number,
    ranges_containing,
)


@pytest.mark.parametrize(
    ("text", "names", "lo", "hi"),
    [
        ("1 <= n <= 10^5", ("n",), 1, 10**5),
        ("1 ≤ a_i ≤ 10^9", ("a",), 1, 10**9),
        (r"$1 \le n \le 2 \cdot 10^5$", ("n",), 1, 2 * 10**5),
        (r"$1 \leq t \leq 10^{4}$", ("t",), 1, 10**4),
        ("-10^9 ≤ a_i ≤ 10^9", ("a",), -(10**9), 10**9),
        ("1 ≤ n, m ≤ 200 000", ("n", "m"), 1, 200_000),
        ("1 ≤ |s| ≤ 100", ("|s|",), 1, 100),
        ("1 < k < 10", ("k",), 2, 9),
        (r"$1 \le x_{i} \le 10^{18}$", ("x",), 1, 10**18),
    ],
)
def test_statement_spellings_parse_to_inclusive_ranges(
    text: str, names: tuple[str, ...], lo: int, hi: int
) -> None:
    assert parse_constraints(f"Input. The constraints are {text}. Output.") == [Constraint(names, lo, hi)]


def test_one_constraint_per_line_keeps_lower_bounds() -> None:
    cs = parse_constraints("Constraints\n1 <= n <= 20000\n0 <= d <= 10^9\n-5 <= a_i <= 10^6\n")
    assert cs == [Constraint(("n",), 1, 20000), Constraint(("d",), 0, 10**9), Constraint(("a",), -5, 10**6)]


def test_upper_bound_only_and_order_of_appearance() -> None:
    cs = parse_constraints("n ≤ 5000. Then 1 ≤ q ≤ 10.")
    assert cs == [Constraint(("n",), None, 5000), Constraint(("q",), 1, 10)]


def test_unparseable_bounds_are_skipped_not_errors() -> None:
    assert parse_constraints("0 ≤ q ≤ min(n·m, 200 000)") == []
    assert parse_constraints("the sum of n does not exceed two hundred thousand") == []


def test_parse_number_forms() -> None:
    assert parse_number("2 · 10^5") == 200_000
    assert parse_number("200 000") == 200_000
    assert parse_number("-10^9") == -(10**9)
    assert parse_number("10^400") is None
    assert parse_number("n") is None


def test_lookups() -> None:
    cs = parse_constraints("1 ≤ n ≤ 100, 1 ≤ a_i ≤ 10^9, -5 ≤ x ≤ 5")
    assert bounds_for("a", cs) == (1, 10**9)
    assert bounds_for("zz", cs) == (None, None)
    assert ranges_containing(50, cs)[0] == (1, 100)  # tightest first
    assert ranges_containing(10**6, cs) == [(1, 10**9)]
    assert overall_span(cs) == (-5, 10**9)


def test_constraint_rejects_inverted_range() -> None:
    with pytest.raises(ValueError, match="lo must be <= hi"):
        Constraint(("n",), 5, 1)


def test_a_bound_on_the_total_length_of_the_strings() -> None:
    total = Constraint((TOTAL_LENGTH,), 1, 100_000)
    assert parse_constraints("The total length of all words does not exceed 100000.") == [total]
    assert parse_constraints("the sum of lengths of the strings is at most $2 \\cdot 10^5$") == [
        Constraint((TOTAL_LENGTH,), 1, 200_000)
    ]
    # A sum of numbers is not a length.
    assert parse_constraints("The sum of n over all test cases does not exceed 2·10^5") == []
