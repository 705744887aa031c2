"""Output comparison, pure: token-wise like testlib's wcmp, with optional float tolerance and case folding.

The external checker (CompareOptions.checker) is not run here: the Executor runs it in the sandbox, because a
checker is a program too. compare_outputs() is the pure token comparison used when no checker is given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sandbox.values import Language, Program, text_bytes


@dataclass(frozen=True)
class CompareOptions:
    """How a program's stdout is judged against the expected output."""

    float_abs: float | None = None
    """Accept numeric tokens within this absolute difference (None: numbers compare as text)."""
    float_rel: float | None = None
    """Accept numeric tokens within this relative difference of the expected value (None: off)."""
    case_insensitive: bool = False
    """Compare tokens ignoring ASCII case (YES == yes)."""
    checker: Program | None = None
    """External checker (Python), run in the sandbox as `checker input_file output_file answer_file`;
    exit status 0 accepts. When set, it replaces the token comparison."""

    def __post_init__(self) -> None:
        for name in ("float_abs", "float_rel"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value < 0 or math.isnan(value)):
                raise ValueError(f"{name} must be None or a number >= 0, got {value!r}")
        if self.checker is not None:
            if not isinstance(self.checker, Program):
                raise ValueError(f"checker must be a Program or None, got {type(self.checker).__name__}")
            if self.checker.language is not Language.PYTHON:
                raise ValueError(f"checker must be a Python program, got {self.checker.language.value}")


def _as_bytes(text: str | bytes) -> bytes:
    return text_bytes(text)


def _parse_float(token: bytes) -> float | None:
    """A finite number, or None. Rejects nan/inf spellings so 'nan' never equals anything by tolerance."""
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _tokens_equal(expected: bytes, actual: bytes, opts: CompareOptions) -> bool:
    if expected == actual:
        return True
    if opts.case_insensitive and expected.lower() == actual.lower():
        return True
    if opts.float_abs is None and opts.float_rel is None:
        return False
    want, got = _parse_float(expected), _parse_float(actual)
    if want is None or got is None:
        return False
    diff = abs(want - got)
    if opts.float_abs is not None and diff <= opts.float_abs:
        return True
    return opts.float_rel is not None and diff <= opts.float_rel * abs(want)


def compare_outputs(expected: str | bytes, actual: str | bytes, opts: CompareOptions | None = None) -> bool:
    """True when actual matches expected token by token (any ASCII whitespace separates tokens)."""
    options = opts or CompareOptions()
    want = _as_bytes(expected).split()
    got = _as_bytes(actual).split()
    if len(want) != len(got):
        return False
    return all(_tokens_equal(w, g, options) for w, g in zip(want, got, strict=True))
