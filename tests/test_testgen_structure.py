"""Structure validation: inputs must look like the examples (token kinds, line counts, sized arrays,
spans)."""

from __future__ import annotations

from alphagen.testgen.constraints import parse_constraints
from alphagen.testgen.distinguish import distinguishing
from alphagen.testgen.mutate_args import args_problem
from alphagen.testgen.structure import learn_format, structure_problem, token_kind

ARRAY_EXAMPLES = ["5\n1 2 3 4 5\n", "3\n7 1 2\n"]
ARRAY_STATEMENT = "1 ≤ n ≤ 100, 1 ≤ a_i ≤ 1000"


def _check(examples: list[str], text: str, statement: str = "") -> str | None:
    fmt = learn_format(examples, parse_constraints(statement))
    assert fmt is not None
    return structure_problem(fmt, text, 10_000)


def test_token_kinds() -> None:
    assert [token_kind(t) for t in ("12", "-3", "1.5", "1e9", "abc", "0101")] == [
        "int",
        "int",
        "float",
        "float",
        "word",
        "int",
    ]


def test_array_inputs_follow_n() -> None:
    assert _check(ARRAY_EXAMPLES, "4\n9 9 9 9\n", ARRAY_STATEMENT) is None
    assert "length" in (_check(ARRAY_EXAMPLES, "4\n9 9 9\n", ARRAY_STATEMENT) or "")
    assert "kinds" in (_check(ARRAY_EXAMPLES, "4\nx y z w\n", ARRAY_STATEMENT) or "")
    assert "lines" in (_check(ARRAY_EXAMPLES, "4\n1 2 3 4\n1 2 3 4\n", ARRAY_STATEMENT) or "")


def test_an_array_length_may_come_from_any_earlier_line() -> None:
    # Queries after an array (range-sum-queries' layout): each pair's length 2 is given by no number on the line
    # before it but by one further up; the set of earlier numbers is grown line by line, not rebuilt per line
    # (rebuilt, a 30,000-line input took 150 s to check).
    examples = ["3 2\n1 2 3\n1 2\n2 3\n", "4 2\n5 6 7 8\n1 4\n2 3\n"]
    fmt = learn_format(examples, parse_constraints(""))
    assert fmt is not None and fmt.arrays_sized_by_earlier
    pairs = [f"{i} {i + 1}\n" for i in range(1, 2001)]
    assert structure_problem(fmt, "3 2000\n1 2 3\n" + "".join(pairs), 1 << 20) is None
    # The last query has 3000 numbers, a length no earlier line gives.
    bad = "3 2000\n1 2 3\n" + "".join(pairs[:-1]) + " ".join(["1"] * 3000) + "\n"
    assert "length" in (structure_problem(fmt, bad, 1 << 20) or "")


def test_numbers_outside_the_stated_span_are_rejected() -> None:
    assert "outside" in (_check(ARRAY_EXAMPLES, "2\n1 5000\n", ARRAY_STATEMENT) or "")
    assert "outside" in (_check(ARRAY_EXAMPLES, "2\n-1 5\n", ARRAY_STATEMENT) or "")


def test_line_count_may_follow_a_leading_integer() -> None:
    examples = ["2\n1 2\n3 4\n", "3\n1 1\n2 2\n3 3\n"]
    assert _check(examples, "4\n1 2\n1 2\n1 2\n1 2\n") is None
    assert _check(examples, "4\n1 2\n1 2\n") is not None


def test_strings_and_blank_lines() -> None:
    examples = ["3\nabc\n", "5\nhello\n"]
    assert _check(examples, "2\nzz\n") is None
    assert "string" in (_check(examples, "2\nzzz\n") or "")
    assert "blank" in (_check(examples, "2\n\nzz\n") or "")
    assert _check(examples, "") == "empty"
    assert "non-printable" in (_check(examples, "2\nz\x00\n") or "")


def test_float_slots_accept_ints_but_not_words() -> None:
    examples = ["1.5 2.25\n"]
    assert _check(examples, "3 4.5\n") is None
    assert _check(examples, "3 x\n") is not None


def test_function_arguments_keep_arity_and_types() -> None:
    ex = ["[[1, 2, 3], 2]", "[[], 0]"]
    assert args_problem(ex, "[[4, 5], 1]", 1000) is None
    assert args_problem(ex, "[[4, 5], 1, 2]", 1000) is not None
    assert args_problem(ex, '["ab", 1]', 1000) is not None
    assert args_problem(ex, "not json", 1000) == "not a JSON array"


def test_distinguishing_normalizes_whitespace() -> None:
    outs = [["1\n", "2", "<time_limit>"], ["1", "2 ", "3"], [" 1", "2\n", "3"]]
    assert distinguishing(outs) == [False, False, True]
    assert distinguishing([]) == []
    assert distinguishing([["a"]]) == [False]


def test_distinguishing_rejects_ragged_outputs() -> None:
    import pytest

    with pytest.raises(ValueError, match="one output per input"):
        distinguishing([["a", "b"], ["a"]])
