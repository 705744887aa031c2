"""The in-code definition of one shipped problem, and small helpers the problem modules share.

A `ProblemSpec` holds what a human writes (statement, reference, brute force, test generators); `build.py`
turns it into `problems/<name>.json` by running the reference on every generated input.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

InputGen = Callable[[random.Random], list[str]]


@dataclass(frozen=True)
class ProblemSpec:
    """One problem as written by us, before its outputs are computed."""

    name: str
    """File-name-like identifier: the JSON lands in problems/<name>.json."""
    statement: str
    """Story, Input, Output and Constraints sections; build.py appends the Examples section itself."""
    rating: int
    """Codeforces-like difficulty, 800..1900."""
    tags: tuple[str, ...]
    """Topic tags (math, strings, greedy, sortings, dp, graphs, ...)."""
    solution: str
    """Reference Python 3 program (stdin -> stdout); its outputs become the expected outputs."""
    public: tuple[str, ...]
    """Inputs of the 1-3 examples shown in the statement."""
    private: InputGen
    """Builds the hidden inputs from a seeded RNG: edge cases, random cases, max-size cases."""
    validator: str
    """Body of the input validator (appended to validator_prelude.PRELUDE): checks format and bounds."""
    brute: str | None = None
    """Independent slow Python program; build.py checks it agrees with the reference on small inputs."""
    brute_max_chars: int = 3000
    """Only inputs up to this many characters are given to the brute force (it is slow)."""
    time_limit: float = 2.0
    """Seconds per test."""
    cpp_solution: str | None = None
    """Optional second reference in C++ (checked against the same expected outputs when g++ exists)."""

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise ValueError(f"name must be lowercase words joined by '-', got {self.name!r}")
        if not 800 <= self.rating <= 1900:
            raise ValueError(f"rating must be in 800..1900, got {self.rating}")
        if not 1 <= len(self.public) <= 3:
            raise ValueError(f"{self.name}: public must hold 1..3 inputs, got {len(self.public)}")
        if not self.tags:
            raise ValueError(f"{self.name}: tags must not be empty")
        for section in ("Input", "Output", "Constraints"):
            if f"\n{section}\n" not in f"\n{self.statement}\n":
                raise ValueError(f"{self.name}: statement must have a '{section}' section line")
        if "done()" not in self.validator:
            raise ValueError(f"{self.name}: validator must end by calling done() (rejects trailing lines)")
        if self.time_limit <= 0:
            raise ValueError(f"{self.name}: time_limit must be > 0, got {self.time_limit}")


def line(xs: Sequence[object]) -> str:
    """Space-separated values: the usual array line."""
    return " ".join(map(str, xs))


def ints(rng: random.Random, n: int, lo: int, hi: int) -> list[int]:
    """n uniform integers in [lo, hi]."""
    return [rng.randint(lo, hi) for _ in range(n)]


def array_input(xs: Sequence[int], head: str | None = None) -> str:
    """'n' (or a custom first line) then the array on one line."""
    first = head if head is not None else str(len(xs))
    return f"{first}\n{line(xs)}\n"


def word(rng: random.Random, length: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz") -> str:
    """A random string of the given length over the alphabet."""
    return "".join(rng.choice(alphabet) for _ in range(length))


def dedent(text: str) -> str:
    """Strip the common indentation of a triple-quoted statement or program, and surrounding blank lines."""
    import textwrap

    return textwrap.dedent(text).strip("\n") + "\n"
