"""The typed seams between alphagen's stages and what executes their programs.

`BatchExecutor` is what every stage asks of an executor: `sandbox.Executor` (one machine) and
`alphagen.distributed.executor.RayExecutor` (a Ray cluster) both implement it, and fakes in tests may. It only
names sandbox types, so it can move into `sandbox` unchanged (issue #16: the Protocol belongs beside
`sandbox.Executor`; it lives here until the sandbox rewrite lands).

The sampler seam is `alphagen.sampling.factory.Sampler` (import it under TYPE_CHECKING: the sampling package
pulls in torch).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from sandbox import CompareOptions, Limits, Program, Result


class BatchExecutor(Protocol):
    """Runs programs on inputs in isolation and yields one Result per (program, input) pair, in any order."""

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
        """Yield a Result per pair as each finishes; a program's failure is a status, never an exception.

        `expected` (one per input) makes the executor compare outputs with `compare`; `pairs` restricts the
        (program index, input index) pairs run; `tests_per_child` caps how many tests of one program may share
        one isolated child (None: the executor's default; hidden-test judging asks for 1)."""
        ...
