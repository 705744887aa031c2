"""Landlock rulesets through raw syscalls (444-446) with ctypes. Standard library only (loaded by the zygote).

A ruleset is created once per (slot, program kind) in the zygote and applied in each child with one
landlock_restrict_self call. It allows reading everywhere the filesystem permissions allow (the interpreter
needs
its stdlib), writing only beneath the slot's scratch directory, executing only the one file we name (C++), no
TCP
bind/connect (ABI >= 4) and no signals or abstract-socket connections outside the child's own domain (ABI >=
6:
the candidate cannot kill the zygote or the controller even when it runs under the same uid).
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct

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


def _add_path(ruleset_fd: int, path: str, access: int) -> None:
    # O_PATH: we only need a handle to name the hierarchy, not to read it.
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        attr = struct.pack("<Qi", access, fd)  # struct landlock_path_beneath_attr is packed: 12 bytes
        buf = ctypes.create_string_buffer(attr, len(attr))
        _check(
            _libc.syscall(SYS_ADD_RULE, ruleset_fd, RULE_PATH_BENEATH, buf, ctypes.c_uint32(0)),
            f"landlock_add_rule({path})",
        )
    finally:
        os.close(fd)


def create_ruleset(abi: int, scratch: str, executable: str | None) -> int:
    """Build a ruleset fd: write beneath scratch only, execute only `executable` (None: nothing).

    The fd is close-on-exec and kept by the zygote; children pass it to restrict_self().
    """
    handled_fs = _write_rights(abi) | EXECUTE
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
        _add_path(ruleset_fd, scratch, _write_rights(abi))
        if executable is not None:
            # Rules on a regular file may only carry file rights: execute (and read, not handled here).
            _add_path(ruleset_fd, executable, EXECUTE)
    except BaseException:
        os.close(ruleset_fd)
        raise
    return ruleset_fd


def restrict_self(ruleset_fd: int) -> None:
    """Enforce the ruleset on the calling thread (no_new_privs must already be set)."""
    _check(_libc.syscall(SYS_RESTRICT_SELF, ruleset_fd, ctypes.c_uint32(0)), "landlock_restrict_self")
