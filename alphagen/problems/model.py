"""The typed, frozen problem every stage reads.

Hidden tests live in `HiddenTests`, whose repr and str reveal nothing, and prompts are only ever built from
`Problem.public_view()`: a `PublicView` has no hidden tests at all, so they cannot leak into a model prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Kind = Literal["stdio", "function"]

# Documented defaults for problems that give no limits (CodeContests rows often don't).
DEFAULT_TIME_LIMIT_S = 2.0
DEFAULT_MEMORY_LIMIT_MB = 256


@dataclass(frozen=True)
class Test:
    """One test. For `stdio` problems: stdin text and expected stdout text.
    For `function` problems: `input` is a JSON array of arguments, `output` the JSON of the return value."""

    input: str
    output: str

    __test__ = False  # not a pytest test class, despite the name


@dataclass(frozen=True)
class Checker:
    """How outputs are compared (see sandbox.compare)."""

    mode: Literal["tokens", "external"] = "tokens"
    """tokens: whitespace-insensitive token comparison (testlib wcmp); external: run `program`."""
    float_abs: float | None = None
    """Absolute tolerance for tokens that parse as floats (None: exact tokens)."""
    float_rel: float | None = None
    """Relative tolerance for tokens that parse as floats."""
    case_insensitive: bool = False
    """Compare tokens ignoring case (YES / yes)."""
    program: str | None = None
    """Source of an external checker (Python): argv = input_file output_file answer_file; exit 0 accepts."""


@dataclass(frozen=True)
class Solution:
    language: Literal["python", "cpp"]
    code: str


class HiddenTests:
    """Private tests. Iterable and sized, but never printed: repr/str show only the count."""

    __slots__ = ("_tests",)

    def __init__(self, tests: tuple[Test, ...] = ()) -> None:
        self._tests = tuple(tests)

    def __iter__(self) -> Iterator[Test]:
        return iter(self._tests)

    def __len__(self) -> int:
        return len(self._tests)

    def __getitem__(self, i: int) -> Test:
        return self._tests[i]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HiddenTests) and other._tests == self._tests

    def __hash__(self) -> int:
        return hash(self._tests)

    def __repr__(self) -> str:
        return f"HiddenTests(<{len(self._tests)} hidden>)"

    __str__ = __repr__


@dataclass(frozen=True)
class PublicView:
    """Everything a model may see: no hidden tests, no reference solutions."""

    name: str
    description: str
    kind: Kind
    public_tests: tuple[Test, ...]
    entry_point: str | None
    signature: str | None
    """For function problems: the prompt stub (signature + docstring) the model completes."""
    time_limit_s: float
    memory_limit_mb: int
    rating: int | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    name: str
    """Unique, file-name-like identifier."""
    description: str
    """Full statement, including input/output format and constraints."""
    kind: Kind = "stdio"
    public_tests: tuple[Test, ...] = ()
    """The statement's examples: the only tests a model or the filter stage sees."""
    private_tests: HiddenTests = field(default_factory=HiddenTests)
    """Hidden tests used only to judge picks."""
    generated_tests: HiddenTests = field(default_factory=HiddenTests)
    """Extra hidden tests (CodeContests' generated_tests); judged like private ones."""
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    rating: int | None = None
    tags: tuple[str, ...] = ()
    checker: Checker = field(default_factory=Checker)
    entry_point: str | None = None
    """Function problems: the name of the function to call."""
    entry_class: str | None = None
    """LeetCode-style function problems: the class whose method is the entry point (`Solution`: the judge calls
    `Solution().entry_point(...)`). None: a top-level function, as HumanEval's harness requires."""
    signature: str | None = None
    """Function problems: the stub shown to the model (HumanEval `prompt`)."""
    test_code: str | None = None
    """Function problems: optional hidden harness code defining `check(candidate)` (HumanEval `test`)."""
    solutions: tuple[Solution, ...] = ()
    """Reference solutions (never shown to a model)."""
    validator: str | None = None
    """Optional Python program reading a test input on stdin, exit 0 iff valid."""
    multiple_answers: bool = False
    """The statement admits several valid outputs (exact comparison unreliable without a checker)."""
    source: str = ""
    """Where it came from: 'path' or 'path:line' and the importer (our, codecontests, apps, humaneval)."""
    difficulty: str | None = None
    """Free-form difficulty label: the Codeforces letter for CodeContests rows, APPS' level, ours if given."""
    limits_given: bool = True
    """False when the source stated no time limit and the documented default applies (CodeContests rows)."""
    released: date | None = None
    """The day the problem was published, when the source says (LiveCodeBench's contest_date): `--since` keeps
    the problems released on or after a model's training cutoff."""

    def __post_init__(self) -> None:
        # Hidden tests passed as a plain tuple would print in repr: wrap them so they stay hidden.
        for key in ("private_tests", "generated_tests"):
            value = getattr(self, key)
            if not isinstance(value, HiddenTests):
                object.__setattr__(self, key, HiddenTests(tuple(value)))
        if self.kind not in ("stdio", "function"):
            raise ValueError(f"kind must be 'stdio' or 'function', got {self.kind!r}")
        if self.time_limit_s <= 0:
            raise ValueError(f"time_limit_s must be > 0, got {self.time_limit_s}")
        if self.memory_limit_mb < 16:
            raise ValueError(f"memory_limit_mb must be >= 16, got {self.memory_limit_mb}")
        if self.kind == "function" and not self.entry_point:
            raise ValueError("function problems need an entry_point")
        if self.entry_class is not None and (self.kind != "function" or not self.entry_class.isidentifier()):
            raise ValueError(
                f"entry_class must be a Python identifier on a function problem, got {self.entry_class!r}"
            )

    def public_view(self) -> PublicView:
        return PublicView(
            name=self.name,
            description=self.description,
            kind=self.kind,
            public_tests=self.public_tests,
            entry_point=self.entry_point,
            signature=self.signature,
            time_limit_s=self.time_limit_s,
            memory_limit_mb=self.memory_limit_mb,
            rating=self.rating,
            tags=self.tags,
        )

    def hidden_tests(self) -> tuple[Test, ...]:
        """Private then generated tests: what a pick is judged on."""
        return tuple(self.private_tests) + tuple(self.generated_tests)
