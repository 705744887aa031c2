"""Output comparison: token-wise (wcmp), float tolerance, case folding, option validation."""

from __future__ import annotations

import pytest

from sandbox import CompareOptions, Language, Program, compare_outputs


def test_whitespace_insensitive_tokens() -> None:
    assert compare_outputs("1 2\n3\n", "1\n2   3")
    assert compare_outputs(b"a b", "a\tb\r\n")
    assert not compare_outputs("1 2 3", "1 2")
    assert not compare_outputs("12", "1 2")


def test_exact_by_default() -> None:
    assert not compare_outputs("0.5", "0.50")
    assert not compare_outputs("YES", "yes")


def test_float_tolerance_absolute_and_relative() -> None:
    assert compare_outputs("0.5", "0.5000001", CompareOptions(float_abs=1e-6))
    assert not compare_outputs("0.5", "0.51", CompareOptions(float_abs=1e-6))
    assert compare_outputs("1000000", "1000000.5", CompareOptions(float_rel=1e-6))
    assert not compare_outputs("1000000", "1000002", CompareOptions(float_rel=1e-6))
    # Non-numeric tokens still compare as text; nan never matches by tolerance.
    assert not compare_outputs("abc", "abd", CompareOptions(float_abs=1.0))
    assert not compare_outputs("nan", "1", CompareOptions(float_abs=1e9))


def test_case_insensitive() -> None:
    assert compare_outputs("YES\nNo", "yes NO", CompareOptions(case_insensitive=True))


def test_non_utf8_bytes_compare() -> None:
    assert compare_outputs(b"\xff\xfe x", b"\xff\xfe   x")
    assert not compare_outputs(b"\xff", b"\xfe")


@pytest.mark.parametrize("kwargs", [{"float_abs": -1.0}, {"float_rel": float("nan")}, {"float_abs": "0.1"}])
def test_invalid_tolerances_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be None or a number"):
        CompareOptions(**kwargs)  # type: ignore[arg-type]


def test_checker_must_be_python_program() -> None:
    with pytest.raises(ValueError, match="checker must be a Python program"):
        CompareOptions(checker=Program("int main(){}", Language.CPP))
