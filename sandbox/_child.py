"""What runs in, or is measured of, one forked test child: the candidate's execution as `python main.py` would
run it, the wait under the CPU and wall limits, and the classification of how it ended. Standard library only:
the zygote loads this file by path.
"""

from __future__ import annotations

import builtins
import os
import select
import signal
import sys
import time
import traceback
import types
from typing import Any


def exec_python(code: types.CodeType, argv: list[str], final: bool = True) -> int:
    """Run the candidate like `python main.py` would, with fresh stdio on fds 0-2; return the exit status.

    final=False (several tests in one child): wait for the program's threads without marking the interpreter
    as shutting down, so that the next test can start threads again."""
    # open() rather than bare TextIOWrapper: real sys.stdin/stdout have .mode and .name, and fast-I/O
    # templates copied from Codeforces read them.
    stdin = open(0, encoding="utf-8", errors="surrogateescape", closefd=False)
    stdout = open(1, "w", encoding="utf-8", errors="surrogateescape", closefd=False)
    sys.stdin = sys.__stdin__ = stdin  # type: ignore[misc]
    sys.stdout = sys.__stdout__ = stdout  # type: ignore[misc]
    stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)
    sys.stderr = sys.__stderr__ = stderr  # type: ignore[misc]
    sys.argv = ["main.py", *argv]
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    main.__dict__["__file__"] = "main.py"
    sys.modules["__main__"] = main
    status = 0
    try:
        exec(code, main.__dict__)
    except SystemExit as exc:
        status = exit_status(exc.code)
    except BaseException as exc:  # noqa: BLE001 - report like the interpreter would
        try:
            # Skip our own frame: the traceback starts in the candidate's main.py, as with `python main.py`.
            traceback.print_exception(type(exc), exc, exc.__traceback__.tb_next if exc.__traceback__ else None)
        except BaseException:  # noqa: BLE001 - e.g. MemoryError while formatting
            os.write(2, b"MemoryError\n")
        status = 1
    # Like interpreter shutdown: wait for non-daemon threads, run atexit handlers, flush.
    try:
        threading = sys.modules.get("threading")
        if threading is not None and final:
            threading._shutdown()
        elif threading is not None:
            for thread in threading.enumerate():
                if thread is not threading.main_thread() and not thread.daemon:
                    thread.join()
        import atexit

        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001
        status = status or 1
    # sys.__stdout__ too: programs that swap sys.stdout for a buffer write the real one from atexit.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if getattr(stream, "closed", False):
            continue  # the program closed it itself (`with sys.stdout as f:`); CPython skips it too
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - closed or broken stdout: the interpreter exits 120 here
            status = status or 120
    return status


CTL_FD, GO_FD, INPUTS_FD = 3, 4, 5
"""In a several-tests child: it reports each test's end on CTL_FD and waits for the next on GO_FD; its tests'
inputs lie in the memory file INPUTS_FD (they are never in the zygote's heap, see _protocol)."""
CLEAN = b"\x01\x00"
"""The report of a test that exited 0 and left nothing behind (no thread, stdio intact)."""


def serve_many(code: types.CodeType, inputs: list[tuple[int, int]], argv: list[str]) -> int:
    """Run the candidate on each input in turn in this one (already isolated) process.

    Before each test stdin/stdout/stderr (memory files on fds 0-2) are emptied and stdin refilled; after it the
    child reports CLEAN or a failure and blocks until the zygote has read the outputs and says "g" (go on).
    Any failure ends the child: the zygote reruns that test, and the rest, one child per test.
    """
    stdio = [os.fstat(fd).st_ino for fd in (0, 1, 2)]
    for offset, size in inputs:
        for fd in (0, 1, 2):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        view = memoryview(os.pread(INPUTS_FD, size, offset))
        while view:
            view = view[os.write(0, view) :]
        os.lseek(0, 0, os.SEEK_SET)
        status = exec_python(code, argv, final=False)
        clean = status == 0 and _left_clean(stdio)
        # The program's functions reference its globals (a cycle the collector would free only later): empty
        # them now, so that this test's data is gone before the next test counts against the memory limit.
        sys.modules["__main__"].__dict__.clear()
        os.write(CTL_FD, CLEAN if clean else bytes([0, status & 0xFF]))
        if not clean:
            return status or 1
        if os.read(GO_FD, 1) != b"g":
            return 0  # no more tests (or the zygote gave up on us)
    return 0


def _left_clean(stdio: list[int]) -> bool:
    """Nothing of this test may reach the next: no thread still running, fds 0-2 still our memory files."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return False
    try:
        return [os.fstat(fd).st_ino for fd in (0, 1, 2)] == stdio
    except OSError:
        return False


def process_cpu(pid: int, host_pid: int) -> float:
    """CPU seconds (all threads, nanosecond resolution) of a live process: its POSIX CPU-time clock, the
    clockid that clock_getcpuclockid(pid) returns (MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)); /proc (which
    knows it as host_pid) where that clock is refused."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        return proc_cpu(host_pid)


def exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except BaseException:  # noqa: BLE001
        pass
    return 1


def classify(
    lang: str,
    code: int | None,
    sig: int | None,
    cpu: float,
    killed: str,
    out_len: int,
    out_of_memory: bool,
    maxrss_kb: int,
    lim: tuple[Any, ...],
) -> tuple[str, str]:
    """The verdict from how the child ended. out_len: the size of its stdout; out_of_memory: whether its
    stderr tail holds the language's out-of-memory marker (MemoryError, bad_alloc)."""
    time_s, wall_s, mem_mb, out_bytes, _ = lim
    if killed == "wall":
        return "time_limit", f"wall clock limit {wall_s:g}s exceeded"
    if killed == "cpu" or cpu > time_s or sig == signal.SIGXCPU:
        return "time_limit", f"CPU limit {time_s:g}s exceeded ({cpu:.3f}s)"
    if sig == signal.SIGXFSZ or out_len > out_bytes:
        return "output_limit", f"output exceeded {out_bytes} bytes"
    failed = sig is not None or code != 0
    if failed and (out_of_memory or maxrss_kb >= 0.95 * (mem_mb << 10)):
        return "memory_limit", f"memory limit {mem_mb} MiB exceeded"
    if sig is not None:
        return "runtime_error", f"killed by signal {signal.Signals(sig).name if sig < 65 else sig}"
    if code != 0:
        return "runtime_error", f"exit code {code}"
    return "ok", ""


def wait_limits(pid: int, time_s: float, wall_s: float) -> str:
    """Wait for the child to exit; SIGKILL it at the wall limit or as soon as its CPU time passes time_s.

    Returns "" (exited by itself), "wall" or "cpu". A fast program costs one select(); /proc is read only once
    the CPU budget could have been spent, so RLIMIT_CPU (whole seconds) is just the backstop.
    """
    pidfd = os.pidfd_open(pid)
    # /proc is the host's: in a PID namespace the child's pid there differs from the one fork() gave us
    # (looked up only once the CPU budget could be spent: most tests end before).
    host_pid = 0
    try:
        deadline = time.monotonic() + wall_s
        budget = time_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                reason = "wall"
                break
            ready, _, _ = select.select([pidfd], [], [], min(remaining, budget + 0.005))
            if ready:
                return ""
            host_pid = host_pid or outer_pid(pidfd) or pid
            budget = time_s - proc_cpu(host_pid)
            if budget <= 0:
                reason = "cpu"
                break
    finally:
        os.close(pidfd)
    os.kill(pid, signal.SIGKILL)
    return reason


def outer_pid(pidfd: int) -> int | None:
    """The pid /proc knows a child by (/proc is the host's mount; we may be in a PID namespace), from its
    pidfd's fdinfo."""
    try:
        with open(f"/proc/self/fdinfo/{pidfd}", "rb") as f:
            for line in f:
                if line.startswith(b"Pid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process, all threads (fields 14 and 15 of /proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


_CLK_TCK = os.sysconf("SC_CLK_TCK")
