"""One run_batch call: the scheduler that feeds the worker slots, pipelines requests and turns the zygotes'
replies into Results (checker runs and stop-on-first-failure included)."""

from __future__ import annotations

import hashlib
import itertools
import logging
import select
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import InitVar, dataclass, field, replace
from typing import Any

from sandbox import _protocol
from sandbox._slot import Slot, SlotError
from sandbox.compare import CompareOptions, compare_outputs
from sandbox.values import Limits, Result, Status, text_bytes

logger = logging.getLogger("sandbox")
PIPELINE_MAX_FRAME = 16 << 10
"""A second request is queued behind a running one only if this small: two such frames always fit in a pipe
buffer, so the controller never blocks writing while the zygote blocks writing its reply."""
GROUP_MAX_INPUT_BYTES = 8 << 10
"""Several tests go to one child only while their inputs stay this small together: a big input costs far more
to run than the ~1.5 ms a child costs, and small frames keep the pipelining above deadlock-free."""
WATCHDOG_SLACK_S = 10.0
"""How long past its wall limit a test may stay unanswered before the slot is declared hung and restarted."""
CHECKER_LIMITS = Limits(time_s=10.0, memory_mb=512)


@dataclass
class Job:
    """One request in flight: a candidate test, or the checker run that judges one."""

    program_index: int
    input_index: int
    req_id: int
    wall_s: float
    base: Result | None = None
    """For a checker job: the candidate's result waiting for its verdict."""


@dataclass(eq=False, repr=False)
class Batch:
    """The state of one run_batch: pending pairs, parked checker runs, stopped programs, in-flight jobs."""

    slots: list[Slot]
    prepared: dict[int, tuple[str, str, str, int]]
    """Per program: (key, language, payload, image bytes), as Executor._prepare makes them."""
    inputs: list[bytes]
    limits: Limits
    expected: list[bytes] | None
    opts: CompareOptions
    stop: bool
    todo: InitVar[list[tuple[int, int]]]
    """The (program, input) pairs to run, in order: the first `work`."""
    tests_per_child: int
    req_ids: Iterator[int]
    closed: Callable[[], bool]
    work: deque[tuple[int, int]] = field(init=False)
    checks: deque[Result] = field(init=False, default_factory=deque)
    stopped: set[int] = field(init=False, default_factory=set)
    started: dict[int, float] = field(init=False, default_factory=dict)
    lim: tuple[float, float, int, int, int] = field(init=False)
    """The candidates' limits as a request carries them (see _many.LimitTuple)."""
    chk_lim: tuple[float, float, int, int, int] = field(init=False)

    def __post_init__(self, todo: list[tuple[int, int]]) -> None:
        self.work = deque(todo)
        limits = self.limits
        self.lim = (
            limits.time_s,
            limits.effective_wall_s,
            limits.memory_mb,
            limits.output_bytes,
            limits.stderr_tail_bytes,
        )
        self.chk_lim = (
            CHECKER_LIMITS.time_s,
            CHECKER_LIMITS.effective_wall_s,
            max(CHECKER_LIMITS.memory_mb, limits.memory_mb),
            1 << 20,
            4096,
        )

    def run(self) -> Iterator[Result]:
        while self.work or self.checks or any(s.outstanding for s in self.slots):
            if self.closed():
                raise RuntimeError("Executor was closed during run_batch")
            # 1. Dispatch: checker runs first (their candidates wait on them), then pending pairs.
            for slot in self.slots:
                yield from self._dispatch(slot)
            # 2. Wait for replies (bounded by the earliest watchdog deadline).
            yield from self._collect()

    def _emit(self, result: Result) -> Result | None:
        # Stopped programs yield nothing more; a failure stops its program when asked.
        if result.program_index in self.stopped:
            return None
        if self.stop and (not result.ok or result.passed is False):
            self.stopped.add(result.program_index)
        return result

    # ---- sending
    # ----------------------------------------------------------------------------------------------
    def _dispatch(self, slot: Slot) -> Iterator[Result]:
        while len(slot.outstanding) < 2 and (self.checks or self.work):
            if self.checks:
                frame, jobs = self._checker_frame(self.checks[0])
            else:
                p, i = self.work[0]
                if p in self.stopped:
                    self.work.popleft()
                    continue
                if self.prepared[p][1] == "error":
                    self.work.popleft()
                    judged = None if self.expected is None else False
                    res = self._emit(Result(p, i, Status.COMPILE_ERROR, detail=self.prepared[p][2], passed=judged))
                    if res is not None:
                        yield res
                    continue
                if self.prepared[p][3] > self.limits.memory_mb << 20:
                    # Its static data alone exceeds the limit: the kernel could not even map it (SIGSEGV).
                    self.work.popleft()
                    judged = None if self.expected is None else False
                    detail = f"memory limit {self.limits.memory_mb} MiB exceeded by the binary's static data"
                    res = self._emit(Result(p, i, Status.MEMORY_LIMIT, detail=detail, passed=judged))
                    if res is not None:
                        yield res
                    continue
                frame, jobs = self._test_frame(p)
            if slot.outstanding and len(frame) > PIPELINE_MAX_FRAME:
                break
            # The frame is going out: take what it carries off the queues.
            if jobs[0].base is not None:
                self.checks.popleft()
            else:
                for _ in jobs:
                    self.work.popleft()
            if not slot.outstanding:
                self.started[slot.index] = time.monotonic()
            slot.outstanding.extend(jobs)
            try:
                slot.send_frame(frame)
            except SlotError as exc:
                yield from self._fail_slot(slot, exc)
                break

    def _test_frame(self, p: int) -> tuple[bytes, list[Job]]:
        """The next tests of program p at the head of the queue: several in one child when allowed."""
        key, lang, payload, _ = self.prepared[p]
        group: list[int] = []
        size = 0
        limit = self.tests_per_child if lang == "python" else 1
        for q, i in itertools.islice(self.work, limit):
            if q != p or (group and size + len(self.inputs[i]) > GROUP_MAX_INPUT_BYTES):
                break
            group.append(i)
            size += len(self.inputs[i])
        wall = self.limits.effective_wall_s
        jobs = [Job(p, i, next(self.req_ids), wall) for i in group]
        # Inputs and a Python program's source travel as blobs: the zygote keeps them out of its heap, which
        # every child inherits (see _protocol); a C++ binary is named by its path.
        header, source = _program_parts(lang, payload)
        if len(jobs) == 1:
            message: tuple[Any, ...] = ("run", jobs[0].req_id, key, lang, header, self.lim, [], [])
            return _protocol.encode(message, [self.inputs[group[0]], source]), jobs
        message = ("runmany", key, lang, header, [job.req_id for job in jobs], self.lim, [], self.stop)
        return _protocol.encode(message, [*(self.inputs[job.input_index] for job in jobs), source]), jobs

    def _checker_frame(self, base: Result) -> tuple[bytes, list[Job]]:
        if self.opts.checker is None or self.expected is None:
            raise RuntimeError("internal: checker job without a checker or expected outputs")
        names = ["input.txt", "output.txt", "answer.txt"]
        source = self.opts.checker.source
        blobs = [b"", self.inputs[base.input_index], base.stdout, self.expected[base.input_index], _utf8(source)]
        req = next(self.req_ids)
        # Blobs: stdin (empty), the checker's files, named in the message, written fresh in its scratch, and its
        # source.
        message = ("run", req, py_key(source), "python", "", self.chk_lim, names, names)
        job = Job(base.program_index, base.input_index, req, CHECKER_LIMITS.effective_wall_s, base)
        return _protocol.encode(message, blobs), [job]

    # ---- receiving
    # --------------------------------------------------------------------------------------------
    def _collect(self) -> Iterator[Result]:
        busy = [s for s in self.slots if s.outstanding]
        if not busy:
            return
        now = time.monotonic()
        deadlines = {s.index: self.started[s.index] + s.outstanding[0].wall_s + WATCHDOG_SLACK_S for s in busy}
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
                        res = self._complete(slot, reply)
                        self.started[slot.index] = time.monotonic()
                        if res is not None and (out := self._emit(res)) is not None:
                            yield out
                elif time.monotonic() > deadlines[slot.index]:
                    raise SlotError(f"zygote {slot.index} did not answer within the watchdog deadline")
            except SlotError as exc:
                yield from self._fail_slot(slot, exc)

    def _complete(self, slot: Slot, reply: tuple[Any, ...]) -> Result | None:
        """Turn a zygote reply into a Result; a candidate needing a checker verdict is parked in `checks`."""
        if not slot.outstanding:
            raise SlotError(f"zygote {slot.index} answered a request that was never sent")
        job = slot.outstanding.popleft()
        req_id, status, code, sig, cpu, wall, rss, detail, out, err, note = reply
        if note:
            # The child's own report (a compile error's message): candidate text, decoded only here.
            detail = note.decode("utf-8", "replace")
        if req_id != job.req_id:
            raise SlotError(f"zygote {slot.index} answered request {req_id}, expected {job.req_id}")
        if status == "skipped":
            # Stop on first failure: the zygote did not run tests after an earlier failure of this program.
            return None
        if job.base is not None:
            # Checker verdict: exit 0 accepts; any other outcome rejects (with the checker's reason kept).
            accepted = status == "ok"
            note = "" if accepted else f"checker: {status} {detail} {err[-500:].decode('utf-8', 'replace')}".strip()
            return replace(job.base, passed=accepted, detail=job.base.detail or note)
        result = Result(
            job.program_index, job.input_index, Status(status), out, err, code, sig, cpu, wall, rss, None, detail
        )
        if self.expected is None:
            return result
        if not result.ok:
            return replace(result, passed=False)
        if self.opts.checker is not None:
            self.checks.append(result)
            return None
        return replace(result, passed=compare_outputs(self.expected[job.input_index], out, self.opts))

    def _fail_slot(self, slot: Slot, exc: Exception) -> Iterator[Result]:
        """Infrastructure failure: every request the slot held becomes sandbox_error; the slot restarts."""
        if self.closed():
            raise RuntimeError("Executor was closed during run_batch") from exc
        lost = list(slot.outstanding)
        logger.error("sandbox: worker slot %d failed: %s", slot.index, exc)
        try:
            slot.restart()
        except (SlotError, OSError) as restart_exc:
            logger.error("sandbox: worker slot %d could not restart: %s", slot.index, restart_exc)
            raise RuntimeError(f"sandbox worker slot {slot.index} is broken: {restart_exc}") from restart_exc
        judged = self.expected is not None
        for job in lost:
            base = job.base or Result(job.program_index, job.input_index, Status.SANDBOX_ERROR)
            failed = replace(
                base, status=Status.SANDBOX_ERROR, detail=str(exc)[-2000:], passed=False if judged else None
            )
            res = self._emit(failed)
            if res is not None:
                yield res


def _utf8(text: str) -> bytes:
    return text_bytes(text)


def _program_parts(lang: str, payload: str) -> tuple[str, bytes]:
    """(what the request header names, the program blob): a binary's path, or a Python source as a blob."""
    return ("", _utf8(payload)) if lang == "python" else (payload, b"")


def py_key(source: str) -> str:
    """Cache key of a Python program in the zygotes: a content hash (equal sources share a code object)."""
    return "py:" + hashlib.sha256(text_bytes(source)).hexdigest()
