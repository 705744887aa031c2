"""Issue #27's red-team findings on the sandbox itself (items 4, 5 and 6): one test per class, each failing
before its fix (as root, or in the unprivileged rerun at the bottom, where the non-root mode applies).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Executor, Language, Limits, Program, Status, _scratch
from sandbox.compile import CppCompiler
from tests.unprivileged import rerun_unprivileged

FAST = Limits(time_s=2.0, wall_s=4.0, memory_mb=128)
ROOT = Path(__file__).resolve().parents[1]
needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed: C++ candidates skipped")


@pytest.fixture()
def ex1() -> Iterator[Executor]:
    with Executor(workers=1) as executor:
        yield executor


@pytest.fixture()
def world_readable_secret() -> Iterator[tuple[Path, str]]:
    """A 0644 file of the user's in a 0755 directory of the temp dir: file modes let any uid read it, so only
    the sandbox's read rules can keep a candidate (or the compiler) from it."""
    token = uuid.uuid4().hex
    directory = Path(tempfile.mkdtemp(prefix="user-files-"))
    try:
        directory.chmod(0o755)
        secret = directory / "secret.h"
        secret.write_text(f'#define TOKEN "{token}"\n')
        secret.chmod(0o644)
        yield secret, token
    finally:
        shutil.rmtree(directory)


def run_in_thread(ex: Executor, program: Program, limits: Limits) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.extend(ex.run_batch([program], [""], limits)), daemon=True)
    thread.start()
    return thread, out


def wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


# ---- item 4: Executors collide


def test_live_executors_share_no_uid_and_one_close_kills_nothing_of_another() -> None:
    # The 9th Executor of a process reused the 1st's uids: its close() killed the 1st's running candidate.
    first = Executor(workers=1)
    others: list[Executor] = []
    try:
        thread, got = run_in_thread(first, Program("import time\ntime.sleep(2)\nprint('alive')"), Limits(time_s=5))
        others = [Executor(workers=1) for _ in range(8)]
        uids = [set(ex.slot_uids) | ({ex._compiler.uid} if ex.slot_uids else set())  # noqa: SLF001
                for ex in [first, *others]]
        assert all(not (a & b) for i, a in enumerate(uids) for b in uids[i + 1 :]), uids
        for ex in others:
            ex.close()
        thread.join(timeout=15)
        assert [(r.status, r.stdout) for r in got] == [(Status.OK, b"alive\n")]  # type: ignore[attr-defined]
    finally:
        for ex in [first, *others]:
            ex.close()


def test_other_process_gets_other_uids() -> None:
    if os.geteuid() != 0:
        pytest.skip("slot uids exist only as root")
    with Executor(workers=2) as ours:
        code = "from sandbox import Executor\nwith Executor(workers=2) as ex:\n    print(*ex.slot_uids)\n"
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
        theirs = {int(x) for x in proc.stdout.split()}
        assert len(theirs) == 2, proc.stderr
        assert not theirs & set(ours.slot_uids)


def test_candidate_cannot_read_another_executors_scratch() -> None:
    # Non-root: B's mount namespace covered only B's root, and A's scratch had the same uid.
    a, b = Executor(workers=1), Executor(workers=1)
    try:
        token = uuid.uuid4().hex
        writer = Program(f"open('secret', 'w').write({token!r})\nimport time\ntime.sleep(3)\n")
        thread, _ = run_in_thread(a, writer, Limits(time_s=6))
        pattern = "slot-0/t*/secret"
        wait_for(lambda: any(Path(a._root).glob(pattern)))  # noqa: SLF001
        found = list(Path(a._root).glob(pattern))  # noqa: SLF001
        reader = Program("import sys\ntry:\n    print(open(sys.stdin.read()).read())\nexcept OSError as e:\n"
                         "    print('denied', e.errno)\n")
        r = b.run(reader, str(found[0]), FAST)
        assert r.status is Status.OK, r.stderr
        assert token.encode() not in r.stdout
        thread.join(timeout=15)
    finally:
        a.close()
        b.close()


# ---- item 6: reads of the user's files, terminals, other processes' scheduling, task count, scratch races


def test_candidate_cannot_read_user_files(ex1: Executor, world_readable_secret: tuple[Path, str]) -> None:
    secret, token = world_readable_secret
    src = "import sys\ntry:\n    print(open(sys.stdin.read()).read())\nexcept OSError as e:\n    print('denied')\n"
    r = ex1.run(Program(src), str(secret), FAST)
    assert (r.status, r.stdout) == (Status.OK, b"denied\n"), (r.stdout, r.stderr)
    # What programs need stays readable: the standard library (lazily imported modules too) and zoneinfo.
    ok = ex1.run(Program("import decimal, fractions, json, zoneinfo, os\nos.urandom(4)\n"
                         "print(zoneinfo.ZoneInfo('UTC').key, open('/dev/null').read() == '')"), "", FAST)
    assert (ok.status, ok.stdout) == (Status.OK, b"UTC True\n"), ok.stderr


@needs_gxx
def test_compiler_and_binary_cannot_read_user_files(ex1: Executor, world_readable_secret: tuple[Path, str]) -> None:
    secret, token = world_readable_secret
    included = Program(f'#include "{secret}"\n#include <cstdio>\nint main(){{ std::puts(TOKEN); }}\n',
                       Language.CPP)
    r = ex1.run(included, "", FAST)
    assert r.status is Status.COMPILE_ERROR and token.encode() not in r.stdout, (r.status, r.stdout)
    assert token not in (r.detail or "")
    reader = Program(
        "#include <cstdio>\n#include <iostream>\n#include <string>\nint main(){ std::string p; std::cin >> p;\n"
        "  FILE *f = std::fopen(p.c_str(), \"r\"); if (!f) { std::puts(\"denied\"); return 0; }\n"
        "  char b[200] = {0}; std::fread(b, 1, 199, f); std::puts(b); }\n",
        Language.CPP,
    )
    r = ex1.run(reader, str(secret), FAST)
    assert (r.status, r.stdout) == (Status.OK, b"denied\n"), (r.stdout, r.detail)


def test_candidate_cannot_read_a_terminal(ex1: Executor) -> None:
    # Non-root: the user's pseudo-terminal is the candidate's uid's; opened by path it gave the typed line.
    master, slave = os.openpty()
    try:
        os.write(master, b"typed-password\n")
        src = (
            "import os, sys\nfor p in (sys.stdin.read(), '/dev/tty'):\n    try:\n"
            "        fd = os.open(p, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)\n"
            "        print('READ', os.read(fd, 100))\n    except OSError as e:\n        print('denied')\n"
        )
        r = ex1.run(Program(src), os.ttyname(slave), FAST)
        assert (r.status, r.stdout) == (Status.OK, b"denied\ndenied\n"), r.stdout
    finally:
        os.close(master)
        os.close(slave)


TARGETS = r"""
import ctypes, os, resource, struct
libc = ctypes.CDLL(None, use_errno=True)
nr = {'x86_64': (251, 314), 'aarch64': (30, 274)}[os.uname().machine]
other = os.getppid()  # the zygote: what it got, every later test of the slot inherited
attr = ctypes.create_string_buffer(struct.pack('<IIQiIQQQ', 48, 5, 0, 0, 0, 0, 0, 0), 48)
def syscall(*args):
    return 'denied' if libc.syscall(*args) != 0 else 'ALLOWED'
def call(f):
    try:
        f()
        return 'ALLOWED'
    except OSError:
        return 'denied'
print(call(lambda: resource.prlimit(other, resource.RLIMIT_NOFILE, (8, 8))),
      call(lambda: os.sched_setscheduler(other, os.SCHED_IDLE, os.sched_param(0))),
      call(lambda: os.sched_setparam(other, os.sched_param(0))),
      call(lambda: os.sched_setaffinity(other, {0})),
      call(lambda: os.setpriority(os.PRIO_PROCESS, other, 19)),
      call(lambda: os.setpriority(os.PRIO_USER, 0, 19)),
      syscall(nr[0], 1, other, 3 << 13), syscall(nr[0], 3, 0, 3 << 13), syscall(nr[1], other, attr, 0))
resource.setrlimit(resource.RLIMIT_NOFILE, (32, 64))
os.setpriority(os.PRIO_PROCESS, 0, max(1, os.getpriority(os.PRIO_PROCESS, 0)))  # only ever lower: a niced run too
os.sched_setaffinity(0, os.sched_getaffinity(0))
print('self ok')
"""


def test_candidate_cannot_change_another_process_limits_or_scheduling(ex1: Executor) -> None:
    r = ex1.run(Program(TARGETS), "", FAST)
    assert r.status is Status.OK, r.stderr
    assert r.stdout == b"denied " * 8 + b"denied\nself ok\n", r.stdout
    # The slot is unharmed: a later program opens 40 files (the zygote kept its own limits).
    later = ex1.run(Program("fs = [open('/dev/null') for _ in range(40)]\nprint(len(fs))"), "", FAST)
    assert (later.status, later.stdout) == (Status.OK, b"40\n"), later.stderr


def test_threads_per_test_are_capped(ex1: Executor) -> None:
    # Non-root: one test created 2000 threads (pid_max 32768): no per-uid cap applied to a shared uid.
    src = (
        "import threading\nthreading.stack_size(65536)\nev = threading.Event()\nn = 0\ntry:\n"
        "    for _ in range(1000):\n        threading.Thread(target=ev.wait, daemon=True).start()\n        n += 1\n"
        "except RuntimeError:\n    pass\nev.set()\nprint(n)\n"
    )
    r = ex1.run(Program(src), "", Limits(time_s=5.0, memory_mb=256))
    assert r.status is Status.OK, r.stderr
    assert 10 < int(r.stdout) < 100, r.stdout


def test_scratch_never_chmods_a_name_swapped_for_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Non-root: a mode-0 directory was opened up with chmod by name; a live thread swapped the name for a symlink
    # (renameat2 RENAME_EXCHANGE) between the failed open and the chmod, which then changed a user's file.
    victim = tmp_path / "victim"
    victim.write_text("user data")
    victim.chmod(0o600)
    top = tmp_path / "scratch"
    (top / "d").mkdir(parents=True)
    (top / "d" / "x").write_text("")
    (top / "d").chmod(0)
    real_open = os.open
    swapped: list[bool] = []

    def racing_open(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if path == "d" and not flags & os.O_PATH and not swapped:
            # The candidate wins the race right after our open of its directory failed.
            swapped.append(True)
            os.rename("d", "d.moved", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            os.symlink(str(victim), "d", dir_fd=dir_fd)
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", racing_open)
    failure: list[OSError] = []
    try:
        _scratch.remove_path(str(top))
    except OSError as exc:
        failure.append(exc)
    finally:
        monkeypatch.undo()
    assert swapped
    assert oct(victim.stat().st_mode & 0o777) == oct(0o600)
    assert victim.read_text() == "user data"
    # And the removal went on: the symlink is unlinked, the directory (renamed) removed with everything in it.
    assert failure == [] and not top.exists()


# ---- item 5 (compiler side): compiler output held in memory without bound


def test_compiler_output_is_read_with_a_cap(tmp_path: Path) -> None:
    # A 2 KB source flooding `#pragma message` made the controller hold every diagnostic (+234 MiB).
    fake = tmp_path / "flooding-g++"
    fake.write_text("#!/bin/sh\nyes 'main.cpp:1: note: #pragma message: flood' | head -c 67108864 >&2\nexit 1\n")
    fake.chmod(0o755)
    (tmp_path / "root").mkdir()
    compiler = CppCompiler(tmp_path / "root", -1, str(fake))
    tracemalloc.start()
    try:
        result = compiler.compile("int main() {}\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.binary is None and "flood" in result.error and len(result.error) <= 2000
    assert peak < 8 << 20, f"peak {peak >> 20} MiB"


# ---- the same as an unprivileged user


def test_redteam_holds_as_an_unprivileged_user(tmp_path: Path) -> None:
    """This file, rerun as a fresh unprivileged user (the non-root mode: one uid for zygote and candidates)."""
    proc = rerun_unprivileged(tmp_path, ["tests/test_sandbox_redteam.py"], "sbr", 600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and " skipped" in proc.stdout
