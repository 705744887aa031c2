"""What a forked test child applies to itself before the candidate's first instruction (limits, uid, Landlock,
seccomp), and how the zygote kills whatever a test left running. Standard library only (loaded by the zygote).
"""

from __future__ import annotations

import ctypes
import math
import os
import resource
import signal
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # Types only: at run time the zygote loads this module by path and passes itself in.
    from sandbox._zygote import Zygote

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PY_STACK_MB = 64
"""Main-thread stack for Python candidates (threads get theirs from threading.stack_size, not this)."""
AS_SLACK_MB = 32
USERNS_TASKS = 2
"""Tasks of the slot's user namespace besides the test's own: the process that created it (and only waits)
and the zygote."""


def _kernel_at_least(major: int, minor: int) -> bool:
    try:
        release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    except ValueError:
        return False
    return release >= (major, minor)


_PER_NAMESPACE_NPROC = _kernel_at_least(5, 14)
"""Linux 5.14 counts RLIMIT_NPROC per user namespace (ucounts); before, per uid across the whole system."""
"""Address space on top of the memory limit and the interpreter's own mappings (arenas, libraries)."""


def isolate(
    z: Zygote,
    entry: tuple[str, Any],
    fds: list[int],
    lim: tuple[Any, ...],
    test_dir: str,
    keep: tuple[int, ...] = (),
    tests: int = 1,
) -> None:
    """Apply every limit and isolation mechanism to this (child) process. fds become 0-2 and `keep` becomes
    3, 4, ... (the several-tests control pipes); everything else is closed."""
    time_s, _, mem_mb, out_bytes, _ = lim
    # Own session and process group: the candidate cannot signal our group by accident.
    os.setsid()
    # Park the control pipes far above 0-2 first, so the dup2s below cannot clobber one of them.
    parked = [os.dup2(fd, 100 + k) for k, fd in enumerate(keep)]
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.chdir(test_dir)
    # Several tests in one child: the zygote enforces each test's CPU limit; this is only the backstop.
    cpu = max(1, math.ceil(time_s * tests))
    mem = mem_mb << 20
    address_space = mem + (AS_SLACK_MB << 20) + (z.base_as if entry[0] == "py" else 0)
    stack = min(mem, PY_STACK_MB << 20) if entry[0] == "py" else mem
    limits = [
        (resource.RLIMIT_CORE, 0, 0),
        # Soft limit sends SIGXCPU at the rounded-up time; the hard one SIGKILLs a program that ignores
        # it.
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_AS, address_space, address_space),
        # C++ gets the whole memory limit as stack (deep DFS is common); Python only recurses on the C
        # stack
        # through builtins, where a smaller stack turns runaway recursion into a quick, honest segfault.
        (resource.RLIMIT_STACK, stack, stack),
        # One byte over the cap is enough to know the program wanted to write more.
        (resource.RLIMIT_FSIZE, out_bytes + 1, out_bytes + 1),
        (resource.RLIMIT_NOFILE, 64, 64),
    ]
    if z.switch_uid:
        # Per-uid process count: meaningful only for a uid that nothing else uses (threads count too).
        limits.append((resource.RLIMIT_NPROC, z.nproc, z.nproc))
    elif z.spaces.get("userns") and _PER_NAMESPACE_NPROC:
        # One uid for everything, but the kernel (>= 5.14) counts RLIMIT_NPROC per user *per user namespace*:
        # in the slot's namespace that uid runs only the namespace's creator (which waits), the zygote and this
        # child, so the cap counts this test's tasks (threads too) and never the user's other processes.
        limits.append((resource.RLIMIT_NPROC, z.nproc + USERNS_TASKS, z.nproc + USERNS_TASKS))
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))
    if z.switch_uid:
        os.setgroups([])
        os.setgid(z.uid)
        os.setuid(z.uid)
    # Die with the zygote (set after setuid: a credential change clears it), and catch the race where the
    # zygote already died.
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != z.pid:
        os._exit(137)
    if z.isolation != "none":
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        ruleset = z.py_ruleset if entry[0] == "py" else entry[1][1]
        if ruleset >= 0:
            z.landlock_module.restrict_self(ruleset)
    # Only now (the Landlock ruleset fd is used up) do the control pipes take their places 3, 4, ...
    for k, fd in enumerate(parked):
        os.dup2(fd, 3 + k)
    # Nothing but stdin/stdout/stderr (and our own control pipes) survives: no pipe to the controller, no
    # ruleset, no other memfds.
    os.closerange(3 + len(keep), 1 << 16)
    installer = z.seccomp_py if entry[0] == "py" else z.seccomp_cpp
    if installer is not None:
        installer.install()
    if entry[0] == "cpp":
        # Python ignores these; an exec'd binary would inherit "ignored", so restore the defaults.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)

def kill_strays(z: Zygote) -> None:
    """Kill whatever the candidate left running. Fast path: waitpid says we have no children at all."""
    deadline = time.monotonic() + 5.0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid:
            continue  # reaped a zombie stray; look again
        if time.monotonic() > deadline:
            return
        _kill_round(z)
        time.sleep(0.001)

def _kill_round(z: Zygote) -> None:
    if z.spaces["pidns"]:
        # We are the init of our PID namespace: kill(-1) reaches every other process in it, and only those.
        os.kill(-1, signal.SIGKILL)
        return
    if z.switch_uid:
        # A helper that becomes the slot uid and kills -1 reaches every process of that uid, wherever it
        # hid.
        helper = os.fork()
        if helper == 0:
            try:
                os.setgroups([])
                os.setgid(z.uid)
                os.setuid(z.uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(helper, 0)
        return
    # Same uid as us: find our re-parented children in /proc and kill them (and their groups).
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
            if ppid == z.pid:
                os.kill(int(entry), signal.SIGKILL)
        except (OSError, ValueError):
            continue
