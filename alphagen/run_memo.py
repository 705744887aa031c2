"""A BatchExecutor that remembers plain runs, so that one solve never runs the same program on the same input twice.

The test-input stage runs a sample of the survivors on candidate inputs to see whether most run cleanly; the
clustering stage then runs every survivor on the inputs kept. Those runs overlap (with at most
`TestGenConfig.clean_check_programs` survivors, every check run on a kept input is a clustering run), and the ones
that repeat are the expensive ones: programs on the largest inputs (shipped primes-in-range at -n 16: 36 s of
clustering, every run a repeat, before the check ran in waves). A program's outcome on an input is a fact of that
program and input, so the second stage reads it back instead.

Only plain runs are remembered: no expected outputs (a judge's verdict depends on them), no stop on the first
failure (that changes which pairs run). The key is the program (source and language), the input bytes and the
limits. One memo lives for one solve: it holds the outputs of at most a few thousand runs, then goes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from sandbox import BatchExecutor
from sandbox.compare import CompareOptions
from sandbox.interface import batch_pairs, check_batch_args
from sandbox.values import Limits, Program, Result

_Key = tuple[Program, bytes, Limits]


class RunMemo:
    """Wraps an executor; plain runs it has seen are answered from memory, the rest run (and are kept)."""

    def __init__(self, inner: BatchExecutor) -> None:
        self.inner = inner
        self._seen: dict[_Key, Result] = {}
        self.hits = 0
        """Runs answered from memory (what the memo saved)."""
        self.runs = 0
        """Plain runs that went to the inner executor."""

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
        """Same contract as BatchExecutor.run_batch: one Result per pair, any order, never raises for a run."""
        # Wrong arguments fail here, at the call, as on every executor (the body below is a generator).
        check_batch_args(programs, inputs, limits, expected, compare, stop_on_first_failure, pairs, tests_per_child)
        if expected is not None or stop_on_first_failure:
            return self.inner.run_batch(
                programs, inputs, limits, expected, compare, stop_on_first_failure, pairs, tests_per_child
            )
        return self._plain(programs, inputs, limits, pairs, tests_per_child)

    def _plain(
        self,
        programs: Sequence[Program],
        inputs: Sequence[str | bytes],
        limits: Limits,
        pairs: Sequence[tuple[int, int]] | None,
        tests_per_child: int | None,
    ) -> Iterator[Result]:
        data = [x.encode() if isinstance(x, str) else bytes(x) for x in inputs]
        todo = batch_pairs(len(programs), len(data), pairs)
        missing: list[tuple[int, int]] = []
        for p, i in todo:
            known = self._seen.get((programs[p], data[i], limits))
            if known is None:
                missing.append((p, i))
                continue
            self.hits += 1
            # The stored result, renumbered for this batch's program and input.
            yield replace(known, program_index=p, input_index=i)
        if not missing:
            return
        for r in self.inner.run_batch(programs, inputs, limits, pairs=missing, tests_per_child=tests_per_child):
            self.runs += 1
            self._seen[(programs[r.program_index], data[r.input_index], limits)] = r
            yield r
