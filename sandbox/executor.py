"""The Executor: worker slots (one zygote each), C++ compile cache, and the run_batch scheduler."""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from sandbox import _scratch, _uids
from sandbox._batch import WATCHDOG_SLACK_S, Batch, py_key
from sandbox._slot import Slot, SlotError
from sandbox.compare import CompareOptions
from sandbox.compile import CppCompiler
from sandbox.interface import BatchExecutor, BatchRequest, check_tests_per_child
from sandbox.values import Language, Limits, Program, Result, text_bytes

logger = logging.getLogger("sandbox")
ISOLATION_MODES = ("auto", "strict", "none")
_WARNED: set[str] = set()
_WARN_LOCK = threading.Lock()


def _warn_once(message: str) -> None:
    """Degraded isolation is said loudly, once per process, on the 'sandbox' logger."""
    with _WARN_LOCK:
        if message in _WARNED:
            return
        _WARNED.add(message)
    logger.warning("sandbox: ISOLATION DEGRADED: %s", message)


def _as_bytes(data: str | bytes) -> bytes:
    return text_bytes(data)


class Executor(BatchExecutor):
    """Runs untrusted programs on inputs in parallel, isolated, with limits. One run_batch at a time (any
    thread).

    Args:
        workers: worker slots (zygotes); None means psutil.cpu_count(logical=True).
        python: interpreter that runs the zygotes and hence every Python candidate.
        isolation: "auto" (everything available; warn loudly once about what is missing), "strict" (refuse to
            start if any mechanism is missing) or "none" (debugging: rlimits and kill only).
        scratch_root: where per-slot scratch directories are created (default: the system temp dir).
        nproc: RLIMIT_NPROC per slot uid (threads count toward it).
        tests_per_child: default for run_batch: how many tests of one Python program may run in turn in one
            isolated child (1: a fresh child per test). Faster for short tests; a test that fails in any way is
            rerun in a child of its own, but a hostile program can shift its own output and CPU time between its
            own tests, so keep 1 for adversarial judging.
    """

    def __init__(
        self,
        workers: int | None = None,
        python: str = "/usr/bin/python3",
        isolation: str = "auto",
        scratch_root: str | None = None,
        nproc: int = 64,
        compiler: str = "g++",
        tests_per_child: int = 1,
    ) -> None:
        check_tests_per_child(tests_per_child)
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
        self.tests_per_child = tests_per_child
        self.isolation = isolation
        switch = os.geteuid() == 0 and isolation != "none"
        # As root: a uid range locked for this Executor's life, unique across threads and processes (_uids);
        # the slots' uids and the compiler's (base + count) lie in it. Released by close().
        self._uids = _uids.allocate(count + 1) if switch else None
        base = self._uids.first if self._uids is not None else -1
        try:
            # Every Executor's root lies in one per-user parent, which a non-root zygote's mount namespace
            # covers whole: no other Executor's scratch is visible to its candidates.
            self._root = Path(tempfile.mkdtemp(prefix="sandbox-", dir=_scratch.scratch_parent(scratch_root)))
        except BaseException:
            if self._uids is not None:
                self._uids.release()
            raise
        # 0711: slot uids may traverse to their own scratch dir but not list the others.
        os.chmod(self._root, 0o711)
        self.slot_uids = [base + i for i in range(count)] if switch else []
        """The unprivileged uids candidates run under (empty when not root or isolation='none')."""
        # Compiled binaries live here; each zygote is shown it (a non-root zygote sees nothing else of _root).
        (self._root / "bin").mkdir(mode=0o711)
        self._slots: list[Slot] = []
        for index in range(count):
            scratch = self._root / f"slot-{index}"
            # The slot directory stays ours (root-owned when we are root, so the slot uid cannot create or
            # chmod anything in it): each test gets a fresh directory inside it, handed to the slot uid.
            scratch.mkdir(mode=0o711 if switch else 0o700)
            self._slots.append(Slot(index, python, scratch, base + index if switch else -1, isolation, nproc))
        self._finalizer = weakref.finalize(self, _shutdown, self._slots, self._root, self._uids)
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
        self._compiler = CppCompiler(self._root, base + count if switch else -1, compiler, python=python)

    def _report_degradation(self) -> None:
        missing = list(self.capabilities.get("warnings", []))
        if self.isolation != "none" and os.geteuid() != 0:
            # In a user namespace (which a non-root PID namespace implies) the task cap is counted per slot.
            cap = "task cap per slot's user namespace" if self.capabilities.get("pidns") else "no per-slot task cap"
            missing.append(f"not root: one uid for all slots, {cap}")
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

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        """Yield a Result per (program, input) pair as each finishes (any order); never raises for one.

        request.tests_per_child overrides the Executor's default for this batch (see the class docstring)."""
        # Checked here, at the call: _batch is a generator and would raise late.
        if self._closed or not self._finalizer.alive:
            raise RuntimeError("Executor is closed")
        return self._batch(request)

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
    ) -> dict[int, tuple[str, str, str, int]]:
        """Per program: (key, language, payload, image bytes) where payload is Python source or a C++ binary
        path; a C++ compile error is returned as ("", "error", message, 0). C++ sources compile in parallel,
        once each."""
        used = sorted({p for p, _ in todo})
        cpp = [p for p in used if programs[p].language is Language.CPP]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            built = dict(
                zip(cpp, pool.map(lambda p: self._compiler.compile(programs[p].source), cpp), strict=True)
            )
        prepared: dict[int, tuple[str, str, str, int]] = {}
        for p in used:
            if p in built:
                compiled = built[p]
                # How it was linked travels with it: the zygote allows executing other files only for a
                # dynamic binary of a toolchain without static libraries.
                lang = "cpp" if compiled.static else "cpp-dynamic"
                prepared[p] = (
                    (f"{lang}:{compiled.binary}", lang, compiled.binary, compiled.image_bytes)
                    if compiled.binary
                    else ("", "error", compiled.error, 0)
                )
            else:
                source = programs[p].source
                prepared[p] = (py_key(source), "python", source, 0)
        return prepared

    def _batch(self, request: BatchRequest) -> Iterator[Result]:
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("run_batch is already running on this Executor (one batch at a time)")
        try:
            # The request as the scheduler takes it: texts as bytes, the defaults (comparison, tests per child)
            # filled in.
            todo = request.todo()
            prepared = self._prepare(request.programs, todo)
            expected = None if request.expected is None else [_as_bytes(x) for x in request.expected]
            per_child = self.tests_per_child if request.tests_per_child is None else request.tests_per_child
            batch = Batch(
                self._slots, prepared, [_as_bytes(x) for x in request.inputs], request.limits, expected,
                request.compare or CompareOptions(), request.stop_on_first_failure, todo, per_child,
                self._req_ids, lambda: self._closed,
            )
            yield from batch.run()
        finally:
            self._drain()
            # What a zygote said during the batch reaches the log now, not only when it stops (a long run).
            for slot in self._slots:
                slot.log.forward()
            self._replace_outgrown()
            self._busy.release()

    def _replace_outgrown(self) -> None:
        """A zygote that grew (see Slot.outgrown) would hand its size to every later child: start a fresh one."""
        if self._closed:
            return
        for slot in self._slots:
            if slot.outgrown():
                try:
                    slot.restart()
                except (SlotError, OSError) as exc:
                    logger.error("sandbox: worker slot %d could not restart: %s", slot.index, exc)

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


def _shutdown(slots: list[Slot], root: Path, uids: _uids.UidRange | None) -> None:
    """Never raises: close() must always leave nothing behind that it can remove."""
    for slot in slots:
        try:
            slot.stop()
        except Exception as exc:  # noqa: BLE001 - keep stopping the others
            logger.error("sandbox: stopping slot %d: %s", slot.index, exc)
    try:
        # Candidates wrote below root: never follow their symlinks, never recurse on their depth.
        _scratch.remove_path(str(root))
    except (OSError, RecursionError) as exc:
        logger.error("sandbox: could not remove %s: %s", root, exc)
    if uids is not None:
        try:
            # Last: whatever still runs under the range (a compiler mid-build) is killed, then it is free.
            uids.release()
        except Exception as exc:  # noqa: BLE001 - never raises (see above)
            logger.error("sandbox: releasing slot uids: %s", exc)
