"""The Executor: worker slots (one zygote each), C++ compile cache, and the run_batch scheduler."""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import select
import shutil
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psutil

from sandbox import _protocol
from sandbox._slot import Slot, SlotError
from sandbox.compare import CompareOptions, compare_outputs
from sandbox.compile import CppCompiler
from sandbox.types import Language, Limits, Program, Result, Status

logger = logging.getLogger("sandbox")
ISOLATION_MODES = ("auto", "strict", "none")
PIPELINE_MAX_FRAME = 16 << 10
"""A second request is queued behind a running one only if this small: two such frames always fit in a pipe
buffer, so the controller never blocks writing while the zygote blocks writing its reply."""
WATCHDOG_SLACK_S = 10.0
"""How long past its wall limit a test may stay unanswered before the slot is declared hung and restarted."""
CHECKER_LIMITS = Limits(time_s=10.0, memory_mb=512)
_WARNED: set[str] = set()
_WARN_LOCK = threading.Lock()
_instances = itertools.count()


def _warn_once(message: str) -> None:
    """Degraded isolation is said loudly, once per process, on the 'sandbox' logger."""
    with _WARN_LOCK:
        if message in _WARNED:
            return
        _WARNED.add(message)
    logger.warning("sandbox: ISOLATION DEGRADED: %s", message)


def _as_bytes(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")


@dataclass
class _Job:
    """One request in flight: a candidate test, or the checker run that judges one."""

    program_index: int
    input_index: int
    req_id: int
    wall_s: float
    base: Result | None = None
    """For a checker job: the candidate's result waiting for its verdict."""


class Executor:
    """Runs untrusted programs on inputs in parallel, isolated, with limits. One run_batch at a time (any
    thread).

    Args:
        workers: worker slots (zygotes); None means psutil.cpu_count(logical=True).
        python: interpreter that runs the zygotes and hence every Python candidate.
        isolation: "auto" (everything available; warn loudly once about what is missing), "strict" (refuse to
            start if any mechanism is missing) or "none" (debugging: rlimits and kill only).
        scratch_root: where per-slot scratch directories are created (default: the system temp dir).
        nproc: RLIMIT_NPROC per slot uid (threads count toward it).
    """

    def __init__(
        self,
        workers: int | None = None,
        python: str = "/usr/bin/python3",
        isolation: str = "auto",
        scratch_root: str | None = None,
        nproc: int = 64,
        compiler: str = "g++",
    ) -> None:
        if isolation not in ISOLATION_MODES:
            raise ValueError(f"isolation must be one of {ISOLATION_MODES}, got {isolation!r}")
        count = workers if workers is not None else (psutil.cpu_count(logical=True) or 1)
        if not isinstance(count, int) or not 1 <= count <= 1000:
            raise ValueError(f"workers must be an int in 1..1000 or None, got {workers!r}")
        if not (os.path.isfile(python) and os.access(python, os.X_OK)):
            raise ValueError(f"python must be an executable interpreter path, got {python!r}")
        if nproc < 1:
            raise ValueError(f"nproc must be >= 1, got {nproc}")
        self.workers = count
        self.isolation = isolation
        self._root = Path(tempfile.mkdtemp(prefix="sandbox-", dir=scratch_root))
        # 0711: slot uids may traverse to their own scratch dir but not list the others.
        os.chmod(self._root, 0o711)
        switch = os.geteuid() == 0 and isolation != "none"
        base = 100_000 + ((os.getpid() % 200_000) * 8 + next(_instances) % 8) * 1024 if switch else -1
        self.slot_uids = [base + i for i in range(count)] if switch else []
        """The unprivileged uids candidates run under (empty when not root or isolation='none')."""
        self._slots: list[Slot] = []
        for index in range(count):
            scratch = self._root / f"slot-{index}"
            scratch.mkdir(mode=0o700)
            if switch:
                os.chown(scratch, base + index, base + index)
            self._slots.append(Slot(index, python, scratch, base + index if switch else -1, isolation, nproc))
        self._finalizer = weakref.finalize(self, _shutdown, self._slots, self._root)
        self._busy = threading.Lock()
        self._closed = False
        self._req_ids = itertools.count()
        try:
            for slot in self._slots:
                slot.start()
            self.capabilities = [slot.wait_ready() for slot in self._slots][0]
            self._report_degradation()
        except BaseException:
            self.close()
            raise
        self._compiler = CppCompiler(self._root, base + count if switch else -1, compiler)

    def _report_degradation(self) -> None:
        missing = list(self.capabilities.get("warnings", []))
        if self.isolation != "none" and os.geteuid() != 0:
            missing.append("not root: one uid for all slots, no per-slot RLIMIT_NPROC")
        if self.isolation == "strict" and missing:
            raise RuntimeError("isolation='strict' but unavailable: " + "; ".join(missing))
        if self.isolation == "none":
            _warn_once(
                "isolation='none': candidates run without namespaces, Landlock, seccomp or uid separation"
            )
        for message in missing:
            _warn_once(message)

    # ---- public API
    # --------------------------------------------------------------------------------------------
    def run(self, program: Program, input: str | bytes, limits: Limits | None = None) -> Result:
        """Run one program on one input (convenience around run_batch)."""
        return next(iter(self.run_batch([program], [input], limits or Limits())))

    def run_batch(
        self,
        programs: Sequence[Program],
        inputs: Sequence[str | bytes],
        limits: Limits,
        expected: Sequence[str | bytes] | None = None,
        compare: CompareOptions | None = None,
        stop_on_first_failure: bool = False,
        pairs: Sequence[tuple[int, int]] | None = None,
    ) -> Iterator[Result]:
        """Yield a Result per (program, input) pair as each finishes (any order); never raises for one."""
        if self._closed or not self._finalizer.alive:
            raise RuntimeError("Executor is closed")
        if not isinstance(limits, Limits):
            raise ValueError(f"limits must be a Limits, got {type(limits).__name__}")
        for program in programs:
            if not isinstance(program, Program):
                raise ValueError(f"programs must contain Program values, got {type(program).__name__}")
        if expected is not None and len(expected) != len(inputs):
            raise ValueError(f"expected must have one entry per input ({len(inputs)}), got {len(expected)}")
        todo = (
            list(pairs)
            if pairs is not None
            else [(p, i) for p in range(len(programs)) for i in range(len(inputs))]
        )
        for p, i in todo:
            if not (0 <= p < len(programs) and 0 <= i < len(inputs)):
                raise ValueError(f"pairs must index programs and inputs, got ({p}, {i})")
        return self._batch(
            programs,
            [_as_bytes(x) for x in inputs],
            limits,
            None if expected is None else [_as_bytes(x) for x in expected],
            compare or CompareOptions(),
            stop_on_first_failure,
            todo,
        )

    def zygote_pids(self) -> list[int]:
        """Process ids of the running zygotes (diagnostics and leak checks)."""
        return [pid for pid in (slot.pid for slot in self._slots) if pid is not None]

    def close(self) -> None:
        """Stop every zygote, kill every child, remove the scratch directories. Idempotent; a batch running in
        another thread ends with RuntimeError."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- scheduling
    # --------------------------------------------------------------------------------------------
    def _prepare(
        self, programs: Sequence[Program], todo: list[tuple[int, int]]
    ) -> dict[int, tuple[str, str, str]]:
        """Per program: (key, language, payload) where payload is Python source or a C++ binary path; a C++
        compile error is returned as ("", "error", message). C++ sources compile in parallel, once each."""
        used = sorted({p for p, _ in todo})
        cpp = [p for p in used if programs[p].language is Language.CPP]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            built = dict(
                zip(cpp, pool.map(lambda p: self._compiler.compile(programs[p].source), cpp), strict=True)
            )
        prepared: dict[int, tuple[str, str, str]] = {}
        for p in used:
            if p in built:
                compiled = built[p]
                prepared[p] = (
                    ("cpp:" + compiled.binary, "cpp", compiled.binary)
                    if compiled.binary
                    else ("", "error", compiled.error)
                )
            else:
                source = programs[p].source
                prepared[p] = (_py_key(source), "python", source)
        return prepared

    def _batch(
        self,
        programs: Sequence[Program],
        inputs: list[bytes],
        limits: Limits,
        expected: list[bytes] | None,
        opts: CompareOptions,
        stop: bool,
        todo: list[tuple[int, int]],
    ) -> Iterator[Result]:
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("run_batch is already running on this Executor (one batch at a time)")
        try:
            prepared = self._prepare(programs, todo)
            work: deque[tuple[int, int]] = deque(todo)
            checks: deque[tuple[Result, bytes]] = deque()
            stopped: set[int] = set()
            lim = (
                limits.time_s,
                limits.effective_wall_s,
                limits.memory_mb,
                limits.output_bytes,
                limits.stderr_tail_bytes,
            )
            chk_lim = (
                CHECKER_LIMITS.time_s,
                CHECKER_LIMITS.effective_wall_s,
                max(CHECKER_LIMITS.memory_mb, limits.memory_mb),
                1 << 20,
                4096,
            )
            started: dict[int, float] = {}

            def emit(result: Result) -> Result | None:
                # Stopped programs yield nothing more; a failure stops its program when asked.
                if result.program_index in stopped:
                    return None
                if stop and (not result.ok or result.passed is False):
                    stopped.add(result.program_index)
                return result

            checker_key = _py_key(opts.checker.source) if opts.checker is not None else ""

            def frame_for(job_pi: int, job_ii: int, data: bytes, base: Result | None) -> tuple[bytes, _Job]:
                req = next(self._req_ids)
                message: tuple[Any, ...]
                if base is None:
                    key, lang, payload = prepared[job_pi]
                    message = ("run", req, key, lang, payload, data, lim, None, [])
                    wall = limits.effective_wall_s
                else:
                    if opts.checker is None or expected is None:
                        raise RuntimeError("internal: checker job without a checker or expected outputs")
                    files = {
                        "input.txt": inputs[base.input_index],
                        "output.txt": base.stdout,
                        "answer.txt": expected[base.input_index],
                    }
                    source = opts.checker.source
                    message = (
                        "run",
                        req,
                        checker_key,
                        "python",
                        source,
                        b"",
                        chk_lim,
                        files,
                        ["input.txt", "output.txt", "answer.txt"],
                    )
                    wall = CHECKER_LIMITS.effective_wall_s
                return _protocol.encode(message), _Job(job_pi, job_ii, req, wall, base)

            while work or checks or any(s.outstanding for s in self._slots):
                if self._closed:
                    raise RuntimeError("Executor was closed during run_batch")
                # 1. Dispatch: checker runs first (their candidates wait on them), then pending pairs.
                for slot in self._slots:
                    while len(slot.outstanding) < 2 and (checks or work):
                        if checks:
                            base, _ = checks[0]
                            frame, job = frame_for(base.program_index, base.input_index, b"", base)
                        else:
                            p, i = work[0]
                            if p in stopped:
                                work.popleft()
                                continue
                            if prepared[p][1] == "error":
                                work.popleft()
                                res = emit(
                                    Result(
                                        p,
                                        i,
                                        Status.COMPILE_ERROR,
                                        detail=prepared[p][2],
                                        passed=None if expected is None else False,
                                    )
                                )
                                if res is not None:
                                    yield res
                                continue
                            frame, job = frame_for(p, i, inputs[i], None)
                        if slot.outstanding and len(frame) > PIPELINE_MAX_FRAME:
                            break
                        (checks.popleft() if checks and job.base is not None else work.popleft())
                        if not slot.outstanding:
                            started[slot.index] = time.monotonic()
                        try:
                            slot.send_frame(frame)
                            slot.outstanding.append(job)
                        except SlotError as exc:
                            slot.outstanding.append(job)
                            yield from self._fail_slot(slot, exc, emit, expected is not None)
                            break
                # 2. Wait for replies (bounded by the earliest watchdog deadline).
                busy = [s for s in self._slots if s.outstanding]
                if not busy:
                    continue
                now = time.monotonic()
                deadlines = {
                    s.index: started[s.index] + s.outstanding[0].wall_s + WATCHDOG_SLACK_S for s in busy
                }
                timeout = max(0.0, min(deadlines.values()) - now)
                try:
                    ready, _, _ = select.select([s.fileno() for s in busy], [], [], timeout)
                except (SlotError, OSError, ValueError) as exc:
                    # Only close() from another thread pulls the pipes from under us.
                    raise RuntimeError("Executor was closed during run_batch") from exc
                for slot in busy:
                    try:
                        if slot.fileno() in ready:
                            for reply in slot.read_available():
                                res = self._complete(slot, reply, expected, opts, checks)
                                started[slot.index] = time.monotonic()
                                if res is not None and (out := emit(res)) is not None:
                                    yield out
                        elif time.monotonic() > deadlines[slot.index]:
                            raise SlotError(
                                f"zygote {slot.index} did not answer within the watchdog deadline"
                            )
                    except SlotError as exc:
                        yield from self._fail_slot(slot, exc, emit, expected is not None)
        finally:
            self._drain()
            self._busy.release()

    def _complete(
        self,
        slot: Slot,
        reply: tuple[Any, ...],
        expected: list[bytes] | None,
        opts: CompareOptions,
        checks: deque[tuple[Result, bytes]],
    ) -> Result | None:
        """Turn a zygote reply into a Result; a candidate needing a checker verdict is parked in `checks`."""
        if not slot.outstanding:
            raise SlotError(f"zygote {slot.index} answered a request that was never sent")
        job = slot.outstanding.popleft()
        req_id, status, out, err, code, sig, cpu, wall, rss, detail = reply
        if req_id != job.req_id:
            raise SlotError(f"zygote {slot.index} answered request {req_id}, expected {job.req_id}")
        if job.base is not None:
            # Checker verdict: exit 0 accepts; any other outcome rejects (with the checker's reason kept).
            accepted = status == "ok"
            note = (
                ""
                if accepted
                else f"checker: {status} {detail} {err[-500:].decode('utf-8', 'replace')}".strip()
            )
            return replace(job.base, passed=accepted, detail=job.base.detail or note)
        result = Result(
            job.program_index,
            job.input_index,
            Status(status),
            out,
            err,
            code,
            sig,
            cpu,
            wall,
            rss,
            None,
            detail,
        )
        if expected is None:
            return result
        if not result.ok:
            return replace(result, passed=False)
        if opts.checker is not None:
            checks.append((result, b""))
            return None
        return replace(result, passed=compare_outputs(expected[job.input_index], out, opts))

    def _fail_slot(self, slot: Slot, exc: Exception, emit: Any, judged: bool) -> Iterator[Result]:
        """Infrastructure failure: every request the slot held becomes sandbox_error; the slot restarts."""
        if self._closed:
            raise RuntimeError("Executor was closed during run_batch") from exc
        lost = list(slot.outstanding)
        logger.error("sandbox: worker slot %d failed: %s", slot.index, exc)
        try:
            slot.restart()
        except (SlotError, OSError) as restart_exc:
            logger.error("sandbox: worker slot %d could not restart: %s", slot.index, restart_exc)
            raise RuntimeError(f"sandbox worker slot {slot.index} is broken: {restart_exc}") from restart_exc
        for job in lost:
            base = job.base or Result(job.program_index, job.input_index, Status.SANDBOX_ERROR)
            res = emit(
                replace(
                    base,
                    status=Status.SANDBOX_ERROR,
                    detail=str(exc)[-2000:],
                    passed=False if judged else None,
                )
            )
            if res is not None:
                yield res

    def _drain(self) -> None:
        """An abandoned batch leaves requests in flight: wait for (and drop) their replies, or restart."""
        if self._closed:
            return
        for slot in self._slots:
            deadline = (
                time.monotonic() + max((j.wall_s for j in slot.outstanding), default=0) + WATCHDOG_SLACK_S
            )
            try:
                while slot.outstanding:
                    if time.monotonic() > deadline:
                        raise SlotError("drain timeout")
                    for _ in slot.poll(0.1):
                        slot.outstanding.popleft()
            except (SlotError, OSError):
                try:
                    slot.restart()
                except (SlotError, OSError) as exc:
                    logger.error("sandbox: worker slot %d could not restart: %s", slot.index, exc)


def _py_key(source: str) -> str:
    """Cache key of a Python program in the zygotes: a content hash (equal sources share a code object)."""
    return "py:" + hashlib.sha256(source.encode("utf-8", "surrogateescape")).hexdigest()


def _shutdown(slots: list[Slot], root: Path) -> None:
    for slot in slots:
        try:
            slot.stop()
        except Exception as exc:  # noqa: BLE001 - keep stopping the others
            logger.error("sandbox: stopping slot %d: %s", slot.index, exc)
    shutil.rmtree(root, ignore_errors=True)
