"""Which stated range each slot of a learned input format takes (#29: on CodeContests 762A the two scalars of
`n k` took each other's range, so inputs at the stated limits were wrong exactly where limits matter)."""

from __future__ import annotations

import random

from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.input_format import learn_input_format
from alphagen.testgen.random_inputs import RandomInputs
from alphagen.testgen.random_model import SlotModel, flat_items, learn_models
from alphagen.testgen.template import Fixed

KTH_DIVISOR = """You are given two integers n and k. Find k-th smallest divisor of n, or report that it doesn't exist.

Input

The first line contains two integers n and k (1 ≤ n ≤ 10^15, 1 ≤ k ≤ 10^9).

Output

If n has less than k divisors, output -1. Otherwise, output the k-th smallest divisor of n.
"""
KTH_EXAMPLES = ["4 2\n", "5 3\n", "12 5\n"]


def _first_row(statement: str, examples: list[str]) -> list[SlotModel]:
    fmt = learn_input_format(examples, parse_constraints(statement))
    assert fmt.template is not None
    models, _ = learn_models(fmt.template, fmt.constraints)
    row = flat_items(fmt.template)[0]
    assert isinstance(row, Fixed)
    return [models[s] for s in row.slots]


def test_each_scalar_takes_its_own_range_when_every_value_fits_both() -> None:
    # Every value seen (4, 5, 12 and 2, 3, 5) fits both ranges: the tighter one used to go to n.
    n, k = _first_row(KTH_DIVISOR, KTH_EXAMPLES)
    assert (n.lo, n.hi) == (1, 10**15)
    assert (k.lo, k.hi) == (1, 10**9)


def test_inputs_at_the_limits_put_n_past_k_s_bound() -> None:
    # What limits.limit_inputs writes: the random source's "limit" profile over the same format.
    gen = RandomInputs(KTH_EXAMPLES, parse_constraints(KTH_DIVISOR), 2000, 200_000, 4 << 20)
    rng = random.Random(0)
    pairs = [tuple(int(x) for x in (gen.generate("limit", rng) or "").split()) for _ in range(8)]
    assert all(len(p) == 2 and 1 <= p[0] <= 10**15 and 1 <= p[1] <= 10**9 for p in pairs)
    assert max(p[0] for p in pairs) > 10**9  # n reaches past k's bound (it could not before)


def test_a_scalar_row_follows_the_statement_order_not_the_tightest_range() -> None:
    # A shipped problem's layout: n took a_i's 10^4 and s took n's 20000 (values 5 and 7 fit them all).
    statement = (
        "Input\nThe first line contains two integers n and s.\nThe second line contains n integers a_1, ..., a_n.\n"
        "Output\nPrint one integer.\nConstraints\n1 <= n <= 20000\n1 <= s <= 10^9\n1 <= a_i <= 10000\n"
    )
    fmt = learn_input_format(["5 7\n2 3 1 5 1\n", "3 2\n3 4 5\n"], parse_constraints(statement))
    assert fmt.template is not None
    models, _ = learn_models(fmt.template, fmt.constraints)
    n, s, a = (models[x] for x in sorted(models))
    assert [(m.lo, m.hi) for m in (n, s, a)] == [(1, 20000), (1, 10**9), (1, 10000)]


def test_a_range_stated_before_the_input_heading_comes_last() -> None:
    # CodeContests 1172C2: the story's `0 <= r <= 998244352` (the answer's range) is stated first.
    statement = (
        "Print r, the answer modulo 998244353 (0 ≤ r ≤ 998244352).\n\nInput\n\n"
        "The first line contains two integers n and m (1 ≤ n ≤ 2 ⋅ 10^5, 1 ≤ m ≤ 3000).\n\nOutput\n\nPrint r.\n"
    )
    cs = parse_constraints(statement)
    assert [(c.names, c.in_legend) for c in cs] == [(("r",), True), (("n",), False), (("m",), False)]
    n, m = _first_row(statement, ["2 1\n", "1 2\n", "3 3\n"])
    assert (n.lo, n.hi) == (1, 200_000)
    assert (m.lo, m.hi) == (1, 3000)


def test_without_an_input_heading_nothing_is_the_legend_s() -> None:
    assert not any(c.in_legend for c in parse_constraints("Given 1 <= n <= 10 and 1 <= k <= 5, print n."))
