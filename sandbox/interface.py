"""What every executor offers: the BatchExecutor Protocol, and the one request type it runs (BatchRequest).

`sandbox.Executor` (one machine), `alphagen.distributed.executor.RayExecutor` (a Ray cluster) and
`alphagen.run_memo.RunMemo` implement BatchExecutor (`execute(request)`), and fakes in tests may; every stage that
runs programs asks for a BatchExecutor, never for one of them. A request validates itself when built, so a wrong
argument fails the same way, at the call, on every executor, and before any work starts (a Ray executor would
otherwise only fail on a worker node).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from sandbox.compare import CompareOptions
from sandbox.values import Limits, Program, Result

MAX_TESTS_PER_CHILD = 64
"""The most tests of one program that may share one isolated child."""


@dataclass(frozen=True)
class BatchRequest:
    """One batch as a value: which programs run on which inputs, under which limits, compared how. Validated when
    built (TypeError for a wrong type, ValueError for a wrong value; linear in its size, once per batch:
    negligible beside running even one test); its sequences are kept as tuples."""

    programs: Sequence[Program]
    inputs: Sequence[str | bytes]
    limits: Limits
    expected: Sequence[str | bytes] | None = None
    """One expected output per input: the executor compares outputs (with `compare`) and sets `passed`."""
    compare: CompareOptions | None = None
    stop_on_first_failure: bool = False
    """A program's remaining tests are skipped after its first failure (needs one child per program's tests)."""
    pairs: Sequence[tuple[int, int]] | None = None
    """The (program index, input index) pairs to run; None: every program on every input."""
    tests_per_child: int | None = None
    """How many tests of one program may share one isolated child (None: the executor's default; hidden-test
    judging asks for 1)."""

    def __post_init__(self) -> None:
        # Strings are sequences too: a bare str for programs or inputs would otherwise run character by character.
        for name, value in (("programs", self.programs), ("inputs", self.inputs)):
            if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
                raise TypeError(f"{name} must be a sequence (list or tuple), got {type(value).__name__}")
        for program in self.programs:
            if not isinstance(program, Program):
                raise TypeError(f"programs must contain Program values, got {type(program).__name__}")
        _check_texts("inputs", self.inputs)
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a Limits, got {type(self.limits).__name__}")
        self._check_comparison()
        if not isinstance(self.stop_on_first_failure, bool):
            raise TypeError(f"stop_on_first_failure must be a bool, got {type(self.stop_on_first_failure).__name__}")
        if self.pairs is not None:
            _check_pairs(self.pairs, len(self.programs), len(self.inputs))
        if self.tests_per_child is not None:
            check_tests_per_child(self.tests_per_child)
        # A value: later changes to the caller's lists cannot change what runs.
        object.__setattr__(self, "programs", tuple(self.programs))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        if self.expected is not None:
            object.__setattr__(self, "expected", tuple(self.expected))
        if self.pairs is not None:
            object.__setattr__(self, "pairs", tuple((p, i) for p, i in self.pairs))

    def _check_comparison(self) -> None:
        expected, compare = self.expected, self.compare
        if expected is not None:
            if not isinstance(expected, Sequence) or isinstance(expected, (str, bytes)):
                raise TypeError(f"expected must be a sequence (list or tuple) or None, got {type(expected).__name__}")
            if len(expected) != len(self.inputs):
                raise ValueError(f"expected must have one entry per input ({len(self.inputs)}), got {len(expected)}")
            _check_texts("expected", expected)
        # Options that compare outputs without outputs to compare with would be silently ignored: say so instead.
        if compare is not None:
            if not isinstance(compare, CompareOptions):
                raise TypeError(f"compare must be a CompareOptions or None, got {type(compare).__name__}")
            if expected is None:
                raise ValueError("compare must come with expected outputs, got compare without expected")

    @property
    def plain(self) -> bool:
        """Outputs only: no comparison, no stop on the first failure (each pair's result is a fact of the pair)."""
        return self.expected is None and not self.stop_on_first_failure

    def todo(self) -> list[tuple[int, int]]:
        """The pairs this request runs (`batch_pairs`)."""
        return batch_pairs(len(self.programs), len(self.inputs), self.pairs)


class BatchExecutor(Protocol):
    """Runs programs on inputs in isolation and yields one Result per (program, input) pair, in any order.

    An executor implements `execute`; `run_batch` (the callers' form) builds the request and is inherited by an
    executor that subclasses this Protocol."""

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        """Yield a Result per pair as each finishes; a program's failure is a status, never an exception."""
        ...

    def run_batch(
        self,
        programs: Sequence[Program],
        inputs: Sequence[str | bytes],
        limits: Limits,
        expected: Sequence[str | bytes] | None = None,
        compare: CompareOptions | None = None,
        stop_on_first_failure: bool = False,
        pairs: Sequence[tuple[int, int]] | None = None,
        tests_per_child: int | None = None,
    ) -> Iterator[Result]:
        """`execute` of the request these arguments make (see BatchRequest). Wrong arguments raise here, at the
        call, before anything runs."""
        return self.execute(BatchRequest(programs, inputs, limits, expected, compare, stop_on_first_failure, pairs,
                                         tests_per_child))


def check_tests_per_child(value: int) -> int:
    """The per-batch cap and the Executor's default take the same values."""
    if not isinstance(value, int) or not 1 <= value <= MAX_TESTS_PER_CHILD:
        raise ValueError(f"tests_per_child must be an int in 1..{MAX_TESTS_PER_CHILD}, got {value!r}")
    return value


def _check_texts(name: str, values: Sequence[str | bytes]) -> None:
    for value in values:
        if not isinstance(value, (str, bytes)):
            raise TypeError(f"{name} must contain str or bytes values, got {type(value).__name__}")


def batch_pairs(programs: int, inputs: int, pairs: Sequence[tuple[int, int]] | None) -> list[tuple[int, int]]:
    """The (program index, input index) pairs a run_batch call runs: `pairs` as given, or every program on every
    input, program by program (so an executor can run one program's consecutive tests in one child)."""
    if pairs is not None:
        return list(pairs)
    return [(p, i) for p in range(programs) for i in range(inputs)]


def _check_pairs(pairs: Sequence[tuple[int, int]], programs: int, inputs: int) -> None:
    # Every pair must name a program and an input that exist: an out-of-range one would fail deep in a
    # scheduler (or, with Ray, be dropped silently when chunks are split by program).
    for pair in pairs:
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(x, int) for x in pair)):
            raise TypeError(f"pairs must contain (program index, input index) tuples of ints, got {pair!r}")
        p, i = pair
        if not (0 <= p < programs and 0 <= i < inputs):
            raise ValueError(f"pairs must index programs and inputs, got ({p}, {i})")
