"""Sandbox execution as Ray tasks: a drop-in for `sandbox.Executor.run_batch` spread over a cluster.

Each task runs a chunk of programs on the inputs with the node-local `sandbox.Executor` (kept alive per
worker process, so zygotes are not re-forked per task). Chunks are split by program, so per-program semantics
such as stop-on-first-failure are unchanged. A task lost with its node is re-run by Ray (`max_retries`); the
driver only consumes finished chunks, so nothing is counted twice.

Logs: what the worker's sandbox logs during a task (its warnings, its zygotes' lines on 'sandbox.zygote') travels
back with the task's results and is logged again on the driver, so it reaches `--log-file` like a local run's.
Ray's own forwarding of worker stderr (log_to_driver) would show it on the console only, never in the file.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from alphagen.distributed.cluster import RayOptions, connect, cpu_count
from sandbox import BatchExecutor, BatchRequest, CompareOptions, Executor, Limits, Program, Result

log = logging.getLogger("alphagen.distributed")

# One executor per Ray worker process: built on its first task, reused by every later one.
_LOCAL: Executor | None = None

LogLine = tuple[str, int, str]
"""A log record as it travels from a worker to the driver: logger name, level, formatted message."""


class _TaskLog(logging.Handler):
    """In a worker process: keeps the 'sandbox' logger's records until a task returns them to the driver."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        # Bounded: records logged between tasks (none are expected) must not pile up without end.
        self.records: deque[LogLine] = deque(maxlen=1000)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))

    def take(self) -> list[LogLine]:
        taken = list(self.records)
        self.records.clear()
        return taken


_TASK_LOG = _TaskLog()


def _capture_sandbox_logs() -> None:
    """Route this worker's 'sandbox' records to _TASK_LOG only (idempotent). Not propagated: Ray would also
    forward them as stderr lines, and the driver would show each twice."""
    sandbox_log = logging.getLogger("sandbox")
    if _TASK_LOG not in sandbox_log.handlers:
        sandbox_log.addHandler(_TASK_LOG)
        sandbox_log.propagate = False


def _local_executor() -> Executor:
    global _LOCAL
    _capture_sandbox_logs()  # before the executor exists: its start-up warnings (ISOLATION DEGRADED) count too
    if _LOCAL is None:
        # One slot: Ray already gives each task its own CPU, so parallelism comes from tasks, not slots.
        _LOCAL = Executor(workers=1)
    return _LOCAL


def run_chunk(
    programs: list[Program],
    inputs: list[str | bytes],
    limits: Limits,
    expected: list[str | bytes] | None,
    compare: CompareOptions | None,
    stop_on_first_failure: bool,
    pairs: list[tuple[int, int]] | None,
    tests_per_child: int | None,
) -> tuple[str, list[Result], list[LogLine]]:
    """The body of one execution task (runs on a worker node); returns the node's id, the results and what the
    sandbox logged meanwhile."""
    import ray

    results = list(
        _local_executor().run_batch(
            programs, inputs, limits, expected, compare, stop_on_first_failure, pairs, tests_per_child
        )
    )
    # Deterministic order inside a chunk: the local executor yields in finishing order.
    results.sort(key=lambda r: (r.program_index, r.input_index))
    return ray.get_runtime_context().get_node_id(), results, _TASK_LOG.take()


class RayExecutor(BatchExecutor):
    """`run_batch` like `sandbox.Executor`, with every chunk of programs a Ray task on any node."""

    def __init__(self, options: RayOptions) -> None:
        import ray

        resources = connect(options)
        self.options = options
        # Back-pressure: never more chunks in the object store than the cluster can run, times two.
        self.workers = cpu_count(resources)
        """The cluster's CPUs: how many programs run at once (how wide a batch the limit probe makes)."""
        self.max_in_flight = options.max_in_flight or 2 * self.workers
        # SPREAD: chunks go round the nodes even when one node could queue them all (cluster-wide throughput).
        self._task = ray.remote(num_cpus=1, max_retries=options.max_retries, scheduling_strategy="SPREAD")(
            run_chunk
        )
        self.executions = 0
        """(program, input) pairs executed so far, for throughput measurements."""
        self.by_node: dict[str, int] = {}
        """Executions per Ray node id: shows where the work ran."""
        self._logged: set[LogLine] = set()
        """Worker log lines already logged here: every worker says the same once (ISOLATION DEGRADED)."""

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        """Yield a Result per (program, input) pair, chunk by chunk in program order (sandbox.BatchExecutor).

        request.tests_per_child goes to each worker's executor (None: its default, one test per child). The
        request validated itself on the driver, before anything is put in the object store: a wrong argument does
        not surface as a task failure on some worker node."""
        return self._run(request)

    def _chunks(
        self, programs: list[Program], pairs: Sequence[tuple[int, int]] | None
    ) -> Iterator[tuple[int, list[Program], list[tuple[int, int]] | None]]:
        # Split by program so that one program's inputs (and its stop-on-first-failure) stay in one task.
        step = self.options.programs_per_task
        for start in range(0, len(programs), step):
            chunk = programs[start : start + step]
            if pairs is None:
                yield start, chunk, None
                continue
            local = [(p - start, i) for p, i in pairs if start <= p < start + len(chunk)]
            if local:
                yield start, chunk, local

    def _run(self, request: BatchRequest) -> Iterator[Result]:
        import ray

        if not request.programs or not request.inputs:
            return
        # Inputs are shared by every chunk: put them in the object store once.
        inputs_ref = ray.put(list(request.inputs))
        expected_ref = ray.put(None if request.expected is None else list(request.expected))
        pending: deque[tuple[int, Any]] = deque()  # Any: a ray ObjectRef (ray is untyped)
        chunks = self._chunks(list(request.programs), request.pairs)
        exhausted = False
        while True:
            # Keep at most max_in_flight tasks submitted: the bounded queue of this stage.
            while not exhausted and len(pending) < self.max_in_flight:
                nxt = next(chunks, None)
                if nxt is None:
                    exhausted = True
                    break
                start, chunk, local = nxt
                ref = self._task.remote(chunk, inputs_ref, request.limits, expected_ref, request.compare,
                                        request.stop_on_first_failure, local, request.tests_per_child)
                pending.append((start, ref))
            if not pending:
                return
            # Oldest first keeps the output order deterministic; later chunks keep running meanwhile.
            start, ref = pending.popleft()
            node, results, lines = ray.get(ref)
            self._log_worker_lines(node, lines)
            self.by_node[node] = self.by_node.get(node, 0) + len(results)
            for r in results:
                self.executions += 1
                yield replace(r, program_index=r.program_index + start)

    def _log_worker_lines(self, node: str, lines: list[LogLine]) -> None:
        """Log a task's worker records here, on their own logger and level, each distinct line once."""
        for name, level, message in lines:
            if (name, level, message) in self._logged:
                continue
            self._logged.add((name, level, message))
            logging.getLogger(name).log(level, "ray node %s: %s", node[:8], message)

    def close(self) -> None:
        """Leave the cluster: this driver's actors end with it; worker executors end with their Ray workers."""
        from alphagen.distributed.cluster import shutdown

        log.debug("ray executor closed after %d executions (pid %d)", self.executions, os.getpid())
        shutdown()

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
