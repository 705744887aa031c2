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

from collections.abc import Iterator
from dataclasses import replace

from sandbox.interface import BatchExecutor, BatchRequest
from sandbox.values import Limits, Program, Result, Status

_Key = tuple[Program, bytes, Limits]


class RunMemo(BatchExecutor):
    """Wraps an executor; plain runs it has seen are answered from memory, the rest run (and are kept)."""

    def __init__(self, inner: BatchExecutor) -> None:
        self.inner = inner
        self._seen: dict[_Key, Result] = {}
        self._slow: dict[Limits, set[Program]] = {}
        """Per limits, the programs with a time-out among their known runs."""
        self._timeouts: dict[tuple[Program, Limits], list[bytes]] = {}
        """Per program and limits, the inputs it timed out on."""
        self._clean: dict[Limits, set[bytes]] = {}
        """Per limits, the inputs some program ran cleanly."""
        self.hits = 0
        """Runs answered from memory (what the memo saved)."""
        self.runs = 0
        """Plain runs that went to the inner executor."""

    @property
    def workers(self) -> int | None:
        """The inner executor's worker count, if it says one (how wide a batch the limit probe makes)."""
        workers = getattr(self.inner, "workers", None)
        return workers if isinstance(workers, int) else None

    def has(self, program: Program, text: str | bytes, limits: Limits) -> bool:
        """Whether this pair's plain run is known (a run of it now costs nothing): clustering runs the known ones
        first and never presumes a result it already has (alphagen.pipeline)."""
        return (program, text.encode() if isinstance(text, str) else bytes(text), limits) in self._seen

    def timed_out(self, program: Program, limits: Limits) -> bool:
        """Whether a known plain run of this program under these limits timed out (clustering then runs its other
        inputs at the tighter limits the test-input checks gave it: `cluster_runs._cluster_runs`)."""
        return program in self._slow.get(limits, ())

    def outrun_on(self, program: Program, limits: Limits) -> bytes | None:
        """The shortest input this program timed out on under these limits that some other program ran cleanly
        under the same limits, or None: proof, from runs already made, that it is slower than another survivor on
        an input the problem's programs can answer in time (the limit probe marks it without running it:
        `alphagen.limits.probe`)."""
        clean = self._clean.get(limits, set())
        outrun = [data for data in self._timeouts.get((program, limits), ()) if data in clean]
        return min(outrun, key=len) if outrun else None

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        """Same contract as BatchExecutor.execute: one Result per pair, any order, never raises for a run."""
        # A comparison or a stop on the first failure depends on more than the pair: those run as asked.
        if not request.plain:
            return self.inner.execute(request)
        return self._plain(request)

    def _plain(self, request: BatchRequest) -> Iterator[Result]:
        programs, limits = request.programs, request.limits
        data = [x.encode() if isinstance(x, str) else bytes(x) for x in request.inputs]
        missing: list[tuple[int, int]] = []
        for p, i in request.todo():
            known = self._seen.get((programs[p], data[i], limits))
            if known is None:
                missing.append((p, i))
                continue
            self.hits += 1
            # The stored result, renumbered for this batch's program and input.
            yield replace(known, program_index=p, input_index=i)
        if not missing:
            return
        for r in self.inner.execute(replace(request, pairs=missing)):
            self.runs += 1
            self._seen[(programs[r.program_index], data[r.input_index], limits)] = r
            if r.status is Status.TIME_LIMIT:
                self._slow.setdefault(limits, set()).add(programs[r.program_index])
                self._timeouts.setdefault((programs[r.program_index], limits), []).append(data[r.input_index])
            elif r.status is Status.OK:
                self._clean.setdefault(limits, set()).add(data[r.input_index])
            yield r
