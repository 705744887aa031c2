"""Landlock rulesets through raw syscalls (444-446) with ctypes. Standard library only (loaded by the zygote).

A ruleset is created once per (slot, program kind) in the zygote and applied in each child with one
landlock_restrict_self call. It allows reading only what programs need (system libraries, the interpreter's
prefix and stdlib, a few devices, /proc, the program's own scratch and binary: never the user's files, home,
/tmp or a terminal), writing only beneath the slot's scratch directory, executing only the one file we name
(C++), no TCP bind/connect (ABI >= 4) and no signals or abstract-socket connections outside the child's own
domain (ABI >= 6: the candidate cannot kill the zygote or the controller even when it runs under the same uid).

Run as a script (`launch_argv`), this file restricts itself the same way and then executes a command: the
C++ compiler runs under it, so an `#include` of a user's file fails like a candidate's open() does.
"""

from __future__ import annotations

import ctypes
import os
import platform
import stat
import struct
import sys
from typing import Any

SYS_CREATE_RULESET = 444
SYS_ADD_RULE = 445
SYS_RESTRICT_SELF = 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1

EXECUTE = 1 << 0
WRITE_FILE = 1 << 1
READ_FILE = 1 << 2
READ_DIR = 1 << 3
REMOVE_DIR = 1 << 4
REMOVE_FILE = 1 << 5
MAKE_CHAR = 1 << 6
MAKE_DIR = 1 << 7
MAKE_REG = 1 << 8
MAKE_SOCK = 1 << 9
MAKE_FIFO = 1 << 10
MAKE_BLOCK = 1 << 11
MAKE_SYM = 1 << 12
REFER = 1 << 13
TRUNCATE = 1 << 14
IOCTL_DEV = 1 << 15
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1
READ = READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
"""The only rights a rule on a non-directory may carry."""
PR_SET_NO_NEW_PRIVS = 38

Reads = list[tuple[str, int]]
"""(path, rights) pairs: what a ruleset lets its process read besides its scratch and its binary."""
_reads: Reads | None = None
_bin_dir: str | None = None

_libc = ctypes.CDLL(None, use_errno=True)


def abi_version() -> int:
    """The kernel's Landlock ABI (0 when Landlock is absent, disabled, or the arch numbers differ)."""
    # The syscall numbers 444-446 are shared by x86_64 and aarch64 (the generic table); other arches: treat as
    # absent.
    if platform.machine() not in ("x86_64", "aarch64"):
        return 0
    version = _libc.syscall(
        SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION)
    )
    return max(int(version), 0)


def _write_rights(abi: int) -> int:
    """Every write-like filesystem right the kernel knows at this ABI."""
    rights = (
        WRITE_FILE
        | REMOVE_DIR
        | REMOVE_FILE
        | MAKE_CHAR
        | MAKE_DIR
        | MAKE_REG
        | MAKE_SOCK
        | MAKE_FIFO
        | MAKE_BLOCK
        | MAKE_SYM
    )
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def _check(ret: int, what: str) -> int:
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what} failed: {os.strerror(err)}")
    return ret


def _add_path(ruleset_fd: int, path: str, access: int, handled: int) -> None:
    # O_PATH: we only need a handle to name the hierarchy, not to read it. It follows symlinks on purpose
    # (/etc/localtime, /lib -> usr/lib): the rule is on what the path names.
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            access &= FILE_RIGHTS  # a file rule with directory rights is EINVAL
        access &= handled  # rights this ABI does not know (or this ruleset leaves alone) are not ours to grant
        if not access:
            return
        attr = struct.pack("<Qi", access, fd)  # struct landlock_path_beneath_attr is packed: 12 bytes
        buf = ctypes.create_string_buffer(attr, len(attr))
        _check(
            _libc.syscall(SYS_ADD_RULE, ruleset_fd, RULE_PATH_BENEATH, buf, ctypes.c_uint32(0)),
            f"landlock_add_rule({path})",
        )
    finally:
        os.close(fd)


def system_reads() -> Reads:
    """What any dynamically linked program (and the C++ toolchain) must read: the system's libraries, headers
    and tools (/usr, /lib*) and the loader's cache."""
    paths = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/etc/ld.so.cache"]
    return [(path, READ) for path in paths]


def program_reads() -> Reads:
    """What a candidate may read besides its scratch and its binary: system libraries, this interpreter's
    prefixes, stdlib and sys.path (computed in the zygote, whose interpreter runs every Python candidate), the
    time zone, /dev/null (also writable), /dev/zero and the random devices, /proc (other processes' private
    entries stay closed: Landlock denies ptrace-mode access outside the domain) and the CPU topology. No
    terminal (/dev/tty, /dev/pts), no home, no temp dir."""
    interpreter = {sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix, *sys.path}
    interpreter.add(os.path.realpath(sys.executable))
    reads = system_reads()
    # "/" would undo everything (an interpreter configured with prefix=/): never a rule on the root.
    reads += [(path, READ) for path in sorted(interpreter) if path and os.path.realpath(path) != "/"]
    reads += [
        ("/etc/localtime", READ_FILE),
        ("/dev/null", READ_FILE | WRITE_FILE | TRUNCATE),
        ("/dev/zero", READ_FILE),
        ("/dev/urandom", READ_FILE),
        ("/dev/random", READ_FILE),
        ("/proc", READ),
        ("/sys/devices/system/cpu", READ),
    ]
    return reads


def configure(reads: Reads | None, bin_dir: str | None = None) -> None:
    """The read rules of every later create_ruleset of this process (None: reads are not restricted).
    bin_dir: where compiled binaries lie; readable only for a dynamically linked one (executable '/')."""
    global _reads, _bin_dir
    _reads, _bin_dir = reads, bin_dir


def create_ruleset(
    abi: int, scratch: str, executable: str | None, reads: Reads | None = None, execute: bool = True
) -> int:
    """Build a ruleset fd: read only `reads` (default: what configure() set; None there: reads unrestricted),
    scratch and the executable; write beneath scratch only; execute only `executable` (None: nothing; with
    execute=False exec is left alone, as for the compiler, which runs its own tools).

    The fd is close-on-exec and kept by the zygote; children pass it to restrict_self().
    """
    reads = _reads if reads is None else reads
    read = READ if reads is not None else 0
    handled_fs = _write_rights(abi) | (EXECUTE if execute else 0) | read
    # The attr struct grew with the ABI: 8 bytes (fs), 16 (+net, ABI 4), 24 (+scoped, ABI 6).
    if abi >= 6:
        attr = struct.pack(
            "<QQQ", handled_fs, NET_BIND_TCP | NET_CONNECT_TCP, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        )
    elif abi >= 4:
        attr = struct.pack("<QQ", handled_fs, NET_BIND_TCP | NET_CONNECT_TCP)
    else:
        attr = struct.pack("<Q", handled_fs)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset_fd = _check(
        _libc.syscall(SYS_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)), ctypes.c_uint32(0)),
        "landlock_create_ruleset",
    )
    try:
        os.set_inheritable(ruleset_fd, False)
        _add_path(ruleset_fd, scratch, _write_rights(abi) | read, handled_fs)
        for path, access in reads or ():
            try:
                _add_path(ruleset_fd, path, access, handled_fs)
            except FileNotFoundError:
                continue  # not on this system (/lib32, /libx32): nothing to allow
        if executable is not None:
            # A regular file's rule: execute it, and read it (exec opens the file for reading).
            _add_path(ruleset_fd, executable, EXECUTE | read, handled_fs)
            if read and _bin_dir is not None and os.path.isdir(executable):
                # A dynamic binary (executable '/'): the toolchain has no static libraries, so the loader may
                # execute anything; the binary itself must still be read, from the binaries' directory.
                _add_path(ruleset_fd, _bin_dir, READ, handled_fs)
    except BaseException:
        os.close(ruleset_fd)
        raise
    return ruleset_fd


def restrict_self(ruleset_fd: int) -> None:
    """Enforce the ruleset on the calling thread (no_new_privs must already be set)."""
    _check(_libc.syscall(SYS_RESTRICT_SELF, ruleset_fd, ctypes.c_uint32(0)), "landlock_restrict_self")


def launch_argv(python: str, scratch: str, reads: Reads) -> list[str]:
    """The argv prefix that runs a command under a ruleset: read `reads` and scratch, write beneath scratch
    only, no TCP, no signals out of the domain (the command's own children stay inside it). `python -I -c` with
    this file's text, so the command's uid need not be able to read our checkout."""
    import json

    with open(__file__, encoding="utf-8") as f:
        source = f.read()
    return [python, "-I", "-c", source, json.dumps({"scratch": scratch, "reads": reads}), "--"]


def _launch(args: list[str]) -> None:
    """Script entry (see launch_argv): args are the JSON spec, '--', then the command."""
    import json

    spec: dict[str, Any] = json.loads(args[0])
    command = args[2:]
    abi = abi_version()
    if abi:
        ruleset = create_ruleset(abi, spec["scratch"], None, [(p, a) for p, a in spec["reads"]], execute=False)
        if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
        restrict_self(ruleset)
        os.close(ruleset)
    os.execv(command[0], command)


if __name__ == "__main__":
    _launch(sys.argv[1:])
