"""Namespaces and capabilities of one zygote. Standard library only (the zygote loads it by path).

As root the zygote unshares network, IPC and PID namespaces. Without root it does the same inside a fresh user
namespace (which unprivileged users may create), adds a mount namespace in which the per-user directory that
holds every Executor's sandbox root is covered by an empty tmpfs showing only this slot's directory and the
compiled binaries, and drops every capability the user namespace gave it, so that children start with none.
Without user namespaces nothing of this is available and the caller warns.

Why each: network (no interface up: no network at all); IPC (System V objects a candidate might create stay in
this slot's namespace and die with it; seccomp denies creating them anyway); PID (the zygote becomes the init
of its namespace: `kill(-1)` from it reaches every process of the slot, and when it dies the kernel kills every
process in the namespace, including one that cleared its parent-death signal); mount (other slots' and other
Executors' scratch directories are simply not there).
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import struct
from typing import Any

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _errno() -> str:
    return os.strerror(ctypes.get_errno())


def enter(isolate: bool, sandbox_root: str, visible: list[str]) -> dict[str, Any]:
    """Unshare what the kernel lets us; returns what we got and warnings for what we did not. May fork: with a
    PID namespace the caller continues as that namespace's init (see _become_init)."""
    state: dict[str, Any] = {"netns": False, "ipcns": False, "pidns": False, "userns": False, "mountns": False}
    warnings: list[str] = []
    state["warnings"] = warnings
    if not isolate:
        return state
    flags = CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWPID
    if os.geteuid() == 0 and libc.unshare(flags) == 0:
        state.update(netns=True, ipcns=True, pidns=True)
    else:
        # Unprivileged: a user namespace grants the right to create the others (and a mount namespace).
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | flags) == 0:
            state.update(netns=True, ipcns=True, pidns=True, userns=True, mountns=True)
            try:
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"{uid} {uid} 1")
                _write("/proc/self/gid_map", f"{gid} {gid} 1")
            except OSError as exc:
                warnings.append(f"userns: id mapping failed ({exc})")
        else:
            warnings.append(
                f"namespaces: unshare failed ({_errno()}): network reachable, System V IPC shared, no PID "
                "namespace (a candidate that clears its parent-death signal can outlive the sandbox)"
            )
    if state["mountns"]:
        try:
            _show_only(sandbox_root, visible)
        except OSError as exc:
            state["mountns"] = False
            warnings.append(f"mount namespace: {exc}; slots can read each other's scratch")
    if state["pidns"]:
        _become_init()
    return state


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    enc = [None if x is None else x.encode() for x in (source, target, fstype, data)]
    if libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}: {_errno()}")


def _show_only(sandbox_root: str, visible: list[str]) -> None:
    """Cover the directory that holds sandbox_root (the per-user parent of every Executor's root, see
    _scratch.scratch_parent) with an empty tmpfs and bind back only `visible` (paths below sandbox_root): no
    other slot's scratch, and no other Executor's, is there to be read."""
    cover = os.path.dirname(os.path.abspath(sandbox_root))
    # Private propagation: nothing we mount leaks back to the host's namespace.
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    # Handles on the real directories, taken before the tmpfs hides them.
    fds = [os.open(path, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC) for path in visible]
    try:
        _mount("tmpfs", cover, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=64k")
        for path, fd in zip(visible, fds, strict=True):
            relative = os.path.relpath(os.path.abspath(path), cover)
            if relative.startswith(".."):
                raise OSError(f"{path} is not below {cover}")
            # The empty directories down to the mount point (the Executor's root, then the slot or bin).
            point = cover
            for part in relative.split(os.sep):
                point = os.path.join(point, part)
                if not os.path.isdir(point):
                    os.mkdir(point, 0o700)
            _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND, None)
    finally:
        for fd in fds:
            os.close(fd)


def _become_init() -> None:
    """Fork: the child is pid 1 of the new PID namespace and returns to run the zygote; this process stays
    outside, holds nothing of the protocol, and exits with the child's status. The child dies with it
    (PDEATHSIG), so killing the process the controller started kills the whole namespace."""
    alive_r, alive_w = os.pipe()
    pid = os.fork()
    if pid:
        os.close(alive_r)
        # The protocol pipes are the init's: the controller must see EOF as soon as it exits.
        os.close(0)
        os.close(1)
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    os.close(alive_w)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    # The parent may have died before the prctl: then the pipe is already at EOF.
    if select.select([alive_r], [], [], 0)[0]:
        os._exit(137)
    os.close(alive_r)


def drop_capabilities() -> bool:
    """Drop every capability (bounding, ambient, effective, permitted, inheritable): what a user namespace
    granted the zygote, its children must not hold. True when the kernel accepted it."""
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL past the last capability: ignored
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = ctypes.create_string_buffer(struct.pack("<Ii", _LINUX_CAPABILITY_VERSION_3, 0), 8)
    data = ctypes.create_string_buffer(bytes(24), 24)
    return bool(libc.capset(header, data) == 0)


def host_pid() -> int:
    """Our pid as the host sees it (/proc is the host's mount), for the controller's diagnostics."""
    try:
        return int(os.readlink("/proc/self"))
    except (OSError, ValueError):
        return os.getpid()
