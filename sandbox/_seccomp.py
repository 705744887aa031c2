"""A hand-written classic-BPF seccomp filter, installed with ctypes. Standard library only (loaded by the
zygote).

The filter returns EPERM (never kills) for the syscalls a candidate has no business making, so a Python
program that tries gets an ordinary OSError and the result is an honest runtime_error. Threads stay allowed:
clone with CLONE_THREAD passes, clone3 answers ENOSYS so glibc falls back to clone where the flag can be
checked. Calls that set another process's limits or scheduling (prlimit64, setpriority, sched_set*,
ioprio_set) pass only when they name the caller itself (pid 0), checked on their arguments.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

# Constants from <linux/seccomp.h>, <linux/filter.h>, <linux/audit.h>, <linux/sched.h>.
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06
CLONE_THREAD = 0x00010000
X32_SYSCALL_BIT = 0x40000000
PRIO_PROCESS = 0
IOPRIO_WHO_PROCESS = 1

# Calls that may change another process's limits or scheduling: allowed only on the caller itself. With one uid
# for everything (not root) the kernel lets a candidate aim them at the zygote (RLIMIT_NOFILE 8 there broke every
# later test; SCHED_IDLE was inherited by every later program). Per arch: name -> (number, required `which` or
# None, index of the pid argument). Only the low 32 bits of an argument are compared: these arguments are C
# ints, which the kernel truncates to those bits, whatever the register's upper half holds.
_TARGETED: dict[str, dict[str, tuple[int, int | None, int]]] = {
    "x86_64": {
        "prlimit64": (302, None, 0),
        "sched_setparam": (142, None, 0),
        "sched_setscheduler": (144, None, 0),
        "sched_setaffinity": (203, None, 0),
        "sched_setattr": (314, None, 0),
        "setpriority": (141, PRIO_PROCESS, 1),
        "ioprio_set": (251, IOPRIO_WHO_PROCESS, 1),
    },
    "aarch64": {
        "prlimit64": (261, None, 0),
        "sched_setparam": (118, None, 0),
        "sched_setscheduler": (119, None, 0),
        "sched_setaffinity": (122, None, 0),
        "sched_setattr": (274, None, 0),
        "setpriority": (140, PRIO_PROCESS, 1),
        "ioprio_set": (30, IOPRIO_WHO_PROCESS, 1),
    },
}

# Per-architecture audit id and syscall numbers. Names missing on an arch (fork on aarch64) are skipped.
# Besides process creation, network, tracing and kernel administration, the list denies: the new mount API
# (fsconfig, fspick, mount_setattr, open_tree_attr); memfd_secret and modify_ldt (rarely used kernel surface);
# System V IPC and POSIX message queues (objects that outlive the process and its memory limit, and a channel
# between candidates); and metadata changes (chmod, chown, utime, xattrs): with one uid for everything (not root)
# a candidate could otherwise change the attributes of any file of the calling user, and Landlock cannot
# restrict them.
_ARCHES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {
            "fork": 57,
            "vfork": 58,
            "clone": 56,
            "clone3": 435,
            "execve": 59,
            "execveat": 322,
            "socket": 41,
            "socketpair": 53,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "unshare": 272,
            "setns": 308,
            "mount": 165,
            "umount2": 166,
            "bpf": 321,
            "pivot_root": 155,
            "chroot": 161,
            "keyctl": 250,
            "add_key": 248,
            "request_key": 249,
            "perf_event_open": 298,
            "userfaultfd": 323,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "kexec_load": 246,
            "init_module": 175,
            "finit_module": 313,
            "delete_module": 176,
            "reboot": 169,
            "swapon": 167,
            "swapoff": 168,
            "acct": 163,
            "open_by_handle_at": 304,
            "name_to_handle_at": 303,
            "fsopen": 430,
            "fsmount": 432,
            "open_tree": 428,
            "move_mount": 429,
            "pidfd_getfd": 438,
            "kcmp": 312,
            "quotactl": 179,
            "mbind": 237,
            "migrate_pages": 256,
            "move_pages": 279,
            "personality": 135,
            "syslog": 103,
            "vhangup": 153,
            "fspick": 433,
            "fsconfig": 431,
            "mount_setattr": 442,
            "open_tree_attr": 467,
            "memfd_secret": 447,
            "modify_ldt": 154,
            "shmget": 29,
            "shmat": 30,
            "shmctl": 31,
            "shmdt": 67,
            "semget": 64,
            "semop": 65,
            "semctl": 66,
            "semtimedop": 220,
            "msgget": 68,
            "msgsnd": 69,
            "msgrcv": 70,
            "msgctl": 71,
            "mq_open": 240,
            "mq_unlink": 241,
            "mq_timedsend": 242,
            "mq_timedreceive": 243,
            "mq_notify": 244,
            "mq_getsetattr": 245,
            "chmod": 90,
            "fchmod": 91,
            "fchmodat": 268,
            "fchmodat2": 452,
            "chown": 92,
            "fchown": 93,
            "lchown": 94,
            "fchownat": 260,
            "utime": 132,
            "utimes": 235,
            "futimesat": 261,
            "utimensat": 280,
            "setxattr": 188,
            "lsetxattr": 189,
            "fsetxattr": 190,
            "removexattr": 197,
            "lremovexattr": 198,
            "fremovexattr": 199,
            "setxattrat": 463,
            "removexattrat": 466,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "clone": 220,
            "clone3": 435,
            "execve": 221,
            "execveat": 281,
            "socket": 198,
            "socketpair": 199,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "unshare": 97,
            "setns": 268,
            "mount": 40,
            "umount2": 39,
            "bpf": 280,
            "pivot_root": 41,
            "chroot": 51,
            "keyctl": 219,
            "add_key": 217,
            "request_key": 218,
            "perf_event_open": 241,
            "userfaultfd": 282,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "kexec_load": 104,
            "init_module": 105,
            "finit_module": 273,
            "delete_module": 106,
            "reboot": 142,
            "swapon": 224,
            "swapoff": 225,
            "acct": 89,
            "open_by_handle_at": 265,
            "name_to_handle_at": 264,
            "fsopen": 430,
            "fsmount": 432,
            "open_tree": 428,
            "move_mount": 429,
            "pidfd_getfd": 438,
            "kcmp": 272,
            "quotactl": 60,
            "mbind": 235,
            "migrate_pages": 238,
            "move_pages": 239,
            "personality": 92,
            "syslog": 116,
            "vhangup": 58,
            "fspick": 433,
            "fsconfig": 431,
            "mount_setattr": 442,
            "open_tree_attr": 467,
            "memfd_secret": 447,
            "shmget": 194,
            "shmctl": 195,
            "shmat": 196,
            "shmdt": 197,
            "semget": 190,
            "semctl": 191,
            "semtimedop": 192,
            "semop": 193,
            "msgget": 186,
            "msgctl": 187,
            "msgrcv": 188,
            "msgsnd": 189,
            "mq_open": 180,
            "mq_unlink": 181,
            "mq_timedsend": 182,
            "mq_timedreceive": 183,
            "mq_notify": 184,
            "mq_getsetattr": 185,
            "fchmod": 52,
            "fchmodat": 53,
            "fchmodat2": 452,
            "fchownat": 54,
            "fchown": 55,
            "utimensat": 88,
            "setxattr": 5,
            "lsetxattr": 6,
            "fsetxattr": 7,
            "removexattr": 14,
            "lremovexattr": 15,
            "fremovexattr": 16,
            "setxattrat": 463,
            "removexattrat": 466,
        },
    ),
}


def supported() -> bool:
    """Do we know this machine's syscall table? (Unknown arch: the caller must warn and fall back.)"""
    return platform.machine() in _ARCHES


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _arg_low(index: int) -> int:
    """Offset of the low 32 bits of syscall argument `index` in struct seccomp_data (little-endian arches)."""
    return 16 + 8 * index


def _self_only(number: int, which: int | None, pid_arg: int, eperm: int) -> list[bytes]:
    """Allow `number` only when its pid argument is 0 (the caller) and, for setpriority/ioprio_set, its `which`
    (argument 0) says a single process (not a process group or a user's every process); EPERM otherwise.
    Entered with the syscall number loaded; a call of another number skips the block with it still loaded."""
    body = []
    if which is not None:
        body += [_insn(LD_W_ABS, 0, 0, _arg_low(0)), _insn(JEQ_K, 0, 3, which)]
    body += [
        _insn(LD_W_ABS, 0, 0, _arg_low(pid_arg)),
        _insn(JEQ_K, 0, 1, 0),
        _insn(RET_K, 0, 0, RET_ALLOW),
        _insn(RET_K, 0, 0, eperm),
    ]
    return [_insn(JEQ_K, 0, len(body), number), *body]


def build_filter(allow_execve: bool) -> bytes:
    """The BPF program as raw sock_filter bytes.

    allow_execve: True for C++ (the child must exec the compiled binary once; Landlock's EXECUTE right then
    limits exec to that one file). Python candidates never exec.
    """
    arch_id, table = _ARCHES[platform.machine()]
    eperm = RET_ERRNO | errno.EPERM
    prog = [
        # Wrong architecture (e.g. an i386 int 0x80 call) would index a different table: kill outright.
        _insn(LD_W_ABS, 0, 0, 4),
        _insn(JEQ_K, 1, 0, arch_id),
        _insn(RET_K, 0, 0, RET_KILL_PROCESS),
        _insn(LD_W_ABS, 0, 0, 0),
    ]
    if arch_id == 0xC000003E:
        # x32 syscalls alias the x86_64 ones with a high bit set: refuse the whole x32 ABI.
        prog += [_insn(JGE_K, 0, 1, X32_SYSCALL_BIT), _insn(RET_K, 0, 0, eperm)]
    # clone3 cannot be inspected (flags live in user memory): ENOSYS makes glibc fall back to clone.
    prog += [_insn(JEQ_K, 0, 1, table["clone3"]), _insn(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS)]
    for name, number in sorted(table.items()):
        if name in ("clone", "clone3") or (allow_execve and name == "execve"):
            continue
        prog += [_insn(JEQ_K, 0, 1, number), _insn(RET_K, 0, 0, eperm)]
    for number, which, pid_arg in _TARGETED[platform.machine()].values():
        prog += _self_only(number, which, pid_arg, eperm)
    # clone is allowed only for threads: load the low word of args[0] (flags) and test CLONE_THREAD.
    prog += [
        _insn(JEQ_K, 0, 4, table["clone"]),
        _insn(LD_W_ABS, 0, 0, 16),
        _insn(JSET_K, 1, 0, CLONE_THREAD),
        _insn(RET_K, 0, 0, eperm),
        _insn(RET_K, 0, 0, RET_ALLOW),
        _insn(RET_K, 0, 0, RET_ALLOW),
    ]
    return b"".join(prog)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Installer:
    """Pre-built filter, ready to install in a freshly forked child with two prctl calls."""

    def __init__(self, allow_execve: bool) -> None:
        code = build_filter(allow_execve)
        # Keep the buffer alive as long as the installer: the kernel copies it at install time.
        self._buf = ctypes.create_string_buffer(code, len(code))
        self._prog = _SockFprog(len(code) // 8, ctypes.cast(self._buf, ctypes.c_void_p).value)
        self._libc = ctypes.CDLL(None, use_errno=True)

    def install(self) -> None:
        """Set no_new_privs (needed for an unprivileged filter), load the filter; raise OSError on failure."""
        if self._libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if self._libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(self._prog), 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "prctl(PR_SET_SECCOMP) failed")
