"""The escapes of issue #14 (a red-team review): one test each. Every test here failed before its fix.

They run as whoever runs pytest; test_escapes_hold_as_an_unprivileged_user reruns this file and the hostile
suite as a fresh unprivileged user (when we are root), where the non-root isolation mode applies.
"""

from __future__ import annotations

import shutil
import stat
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sandbox import CompareOptions, Executor, Language, Limits, Program, Status
from sandbox.cli import main as cli_main
from tests.unprivileged import rerun_unprivileged

FAST = Limits(time_s=2.0, wall_s=4.0, memory_mb=128)
ROOT = Path(__file__).resolve().parents[1]
needs_gxx = pytest.mark.skipif(shutil.which("g++") is None, reason="g++ not installed: C++ candidates skipped")
DEEP = 3000
"""Deeper than Python's recursion limit: shutil.rmtree raised RecursionError on it."""


@pytest.fixture()
def ex1() -> Iterator[Executor]:
    """One slot: every program runs in the same slot, after the previous one."""
    with Executor(workers=1) as executor:
        yield executor


@pytest.fixture(scope="module")
def ex2() -> Iterator[Executor]:
    with Executor(workers=2) as executor:
        yield executor


def plant(target: Path) -> str:
    """A candidate that plants checker-file symlinks to `target`, then a directory DEEP levels deep."""
    return (
        "import os\n"
        f"for name in ('input.txt', 'output.txt', 'answer.txt'):\n    os.symlink({str(target)!r}, name)\n"
        f"for _ in range({DEEP}):\n    os.mkdir('d')\n    os.chdir('d')\n"
        "print('planted')\n"
    )


CHECKER = Program("import sys\nout, ans = (open(p).read().split() for p in sys.argv[2:4])\nsys.exit(out != ans)\n")


def test_planted_symlinks_never_redirect_checker_writes(ex1: Executor, tmp_path: Path) -> None:
    # Escape 1: the next checker run in the slot wrote the candidate's stdout through output.txt as root.
    target = tmp_path / "root-owned.txt"
    target.write_text("original\n")
    first = ex1.run(Program(plant(target)), "", FAST)
    assert first.status is Status.OK, (first.status, first.detail)
    got = list(
        ex1.run_batch([Program("print('pwned')")], [""], FAST, expected=["pwned"],
                      compare=CompareOptions(checker=CHECKER))
    )
    assert target.read_text() == "original\n"
    assert [(r.status, r.passed) for r in got] == [(Status.OK, True)]


def test_deep_directory_does_not_poison_the_slot(tmp_path: Path) -> None:
    # Escape 2: after the deep directory every later test was sandbox_error and close() raised.
    ex = Executor(workers=1)
    root = Path(ex._root)  # noqa: SLF001 - the test checks the real directory is gone
    try:
        assert ex.run(Program(plant(tmp_path / "x")), "", FAST).status is Status.OK
        for _ in range(3):
            r = ex.run(Program("import os\nprint(os.listdir('.'))"), "", FAST)
            assert (r.status, r.stdout) == (Status.OK, b"[]\n"), r.detail
    finally:
        ex.close()  # must not raise
    assert not root.exists()


def test_cli_survives_a_deep_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "deep.py"
    source.write_text(plant(tmp_path / "x"))
    (tmp_path / "empty.in").write_text("")
    assert cli_main(["run", str(source), "--workers", "1", "--json", "--input", str(tmp_path / "empty.in")]) == 0
    assert '"status": "ok"' in capsys.readouterr().out


SCANNER = r"""
import ctypes, re
found = set()
needle = b'LEAK' + b'-'
with open('/proc/self/maps') as maps:
    for line in maps:
        fields = line.split()
        # Anonymous memory, heap and stack: where freed buffers of the zygote would be.
        if 'r' not in fields[1] or (len(fields) > 5 and fields[5] not in ('[heap]', '[stack]')):
            continue
        start, end = (int(x, 16) for x in fields[0].split('-'))
        data = ctypes.string_at(start, end - start)
        found.update(m.group(1) for m in re.finditer(needle + rb'([0-9a-f]{32})', data))
print(b' '.join(sorted(found)).decode())
"""


def test_no_earlier_input_output_or_answer_reaches_a_candidate(ex1: Executor) -> None:
    # Escape 3: a child is a copy of the zygote's memory, which held earlier requests' freed buffers.
    secret_in, secret_ans = uuid.uuid4().hex, uuid.uuid4().hex
    echo = Program("print(input())")
    list(ex1.run_batch([echo], [f"LEAK-{secret_in}"], FAST, expected=[f"LEAK-{secret_ans}"],
                       compare=CompareOptions(checker=CHECKER)))
    list(ex1.run_batch([echo], [f"LEAK-{secret_in}"] * 4, FAST, tests_per_child=4))
    scan = ex1.run(Program(SCANNER), "", Limits(time_s=5.0, memory_mb=256))
    assert scan.status is Status.OK, scan.stderr
    assert secret_in.encode() not in scan.stdout
    assert secret_ans.encode() not in scan.stdout


def test_large_inputs_and_outputs_grow_the_wipe_buffers(ex1: Executor) -> None:
    # Inputs and outputs travel through buffers the zygote grows on demand (a 64 KiB start).
    echo = Program("import sys\nd = sys.stdin.read()\nsys.stdout.write(d)\nsys.stderr.write(d)")
    for size in (100_000, 1_000_000, 10):
        r = ex1.run(echo, "x" * size, Limits(time_s=5.0, memory_mb=256, output_bytes=2 << 20))
        assert (r.status, len(r.stdout), len(r.stderr)) == (Status.OK, size, min(size, 4096)), r.detail
    many = list(ex1.run_batch([Program("print(len(input()))")], ["y" * 200_000] * 4, FAST, tests_per_child=4))
    assert [(r.status, r.stdout) for r in many] == [(Status.OK, b"200000\n")] * 4


def test_scratch_permissions_do_not_persist(ex1: Executor) -> None:
    # Escape 4: the slot uid owned its scratch dir; chmod 000 broke later programs, chmod 755 exposed answers.
    for mode in (0o000, 0o755, 0o777):
        ex1.run(Program(f"import os\ntry:\n    os.chmod('.', {mode})\nexcept OSError:\n    pass\n"), "", FAST)
        r = ex1.run(Program("import os\nopen('f', 'w').write('x')\nprint(oct(os.stat('.').st_mode & 0o777))"),
                    "", FAST)
        assert (r.status, r.stdout) == (Status.OK, b"0o700\n"), (r.status, r.stderr)


def test_candidate_cannot_see_its_parent_directory(ex1: Executor) -> None:
    # Whatever lies next to a test's scratch (earlier tests, checker files) is not the candidate's to list.
    r = ex1.run(Program("import os\ntry:\n    os.mkdir('../x')\n    print('ESCAPED')\nexcept OSError:\n"
                        "    pass\n"), "", FAST)
    assert (r.status, r.stdout) == (Status.OK, b"")


IPC = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(0, ctypes.c_size_t(600 << 20), 0o1600)
e1 = ctypes.get_errno()
msq = libc.msgget(0, 0o1600)
e2 = ctypes.get_errno()
sem = libc.semget(0, 1, 0o1600)
e3 = ctypes.get_errno()
print(shm, e1, msq, e2, sem, e3)
"""


def _sysv_objects() -> int:
    return sum(len(Path(f"/proc/sysvipc/{kind}").read_text().splitlines()) for kind in ("shm", "msg", "sem"))


def test_sysv_ipc_is_denied(ex2: Executor) -> None:
    # Escape 5: shmget segments outlived the program and close(); a message queue crossed Executors.
    before = _sysv_objects()
    r = ex2.run(Program(IPC), "", FAST)
    assert (r.status, r.stdout) == (Status.OK, b"-1 1 -1 1 -1 1\n"), r.stderr
    assert _sysv_objects() == before


CPP_INTERP = r"""
#include <cstdio>
#include <unistd.h>
__attribute__((section(".interp"), used)) static const char interp[] = "/lib64/ld-linux-x86-64.so.2";
int main() {
    char* argv[] = {(char*)"id", nullptr};
    char* envp[] = {nullptr};
    execve("/usr/bin/id", argv, envp);
    std::printf("exec failed\n");
    return 0;
}
"""


@needs_gxx
def test_cpp_interp_section_does_not_unlock_exec(ex2: Executor) -> None:
    # Escape 6: a .interp section made the binary look dynamic, and Landlock then allowed executing anything.
    # The exec scope now comes from how we linked, and a -static link that asks for an interpreter is refused.
    r = ex2.run(Program(CPP_INTERP, Language.CPP), "", FAST)
    assert b"uid=" not in r.stdout, r.stdout
    assert r.status is Status.COMPILE_ERROR, (r.status, r.detail)
    assert "interpreter" in r.detail


@needs_gxx
def test_cpp_huge_static_array_is_memory_limit(ex2: Executor) -> None:
    # Escape 7: the kernel cannot map the binary's bss under the address-space limit and sends SIGSEGV.
    src = (
        "#include <cstdio>\nchar a[1536u << 20];\nint main() { int i = 0; std::scanf(\"%d\", &i); a[i] = 1;"
        " std::printf(\"%d\\n\", a[i]); }\n"
    )
    r = ex2.run(Program(src, Language.CPP), "7", Limits(time_s=2.0, memory_mb=256))
    assert r.status is Status.MEMORY_LIMIT, (r.status, r.detail)


def test_zygote_logs_are_private(ex2: Executor) -> None:
    logs = list(Path(ex2._root).glob("zygote-*.log"))  # noqa: SLF001 - the test checks the real files
    assert logs
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in logs)


def test_new_mount_and_memory_syscalls_are_denied(ex2: Executor) -> None:
    # fsconfig, mount_setattr, memfd_secret, modify_ldt (x86_64 only), fspick.
    src = (
        "import ctypes, platform\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "nrs = [431, 442, 447, 433] + ([154] if platform.machine() == 'x86_64' else [])\n"
        "for nr in nrs:\n    print(libc.syscall(nr, 0, 0, 0, 0, 0), ctypes.get_errno())\n"
    )
    r = ex2.run(Program(src), "", FAST)
    assert r.status is Status.OK, r.stderr
    assert set(r.stdout.splitlines()) == {b"-1 1"}, r.stdout


# ---- non-root hardening (these pass as root already; the unprivileged rerun below is where they bite)


def test_candidate_holds_no_capabilities(ex2: Executor) -> None:
    r = ex2.run(Program("print([l for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm'))])"),
                "", FAST)
    assert r.status is Status.OK
    assert r.stdout.count(b"0000000000000000") == 2, r.stdout


def test_candidate_cannot_change_metadata_outside_scratch(ex2: Executor, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("v")
    victim.chmod(0o644)
    before = victim.stat()
    src = (
        "import os, sys\np = sys.stdin.read()\n"
        "for f in (lambda: os.chmod(p, 0o777), lambda: os.utime(p, (0, 0))):\n"
        "    try:\n        f(); print('ESCAPED')\n    except OSError:\n        pass\n"
    )
    r = ex2.run(Program(src), str(victim), FAST)
    after = victim.stat()
    assert (r.status, r.stdout) == (Status.OK, b"")
    assert (after.st_mode, after.st_mtime_ns) == (before.st_mode, before.st_mtime_ns)


def test_cleared_pdeathsig_does_not_outlive_close() -> None:
    ex = Executor(workers=1)
    src = "import ctypes, time\nctypes.CDLL(None).prctl(1, 0, 0, 0, 0)\ntime.sleep(30)\n"
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            list(ex.run_batch([Program(src)], [""], Limits(time_s=30.0)))
        except RuntimeError as exc:  # closing the executor under a running batch is documented to raise this
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    children: list[psutil.Process] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = [c for pid in ex.zygote_pids() for c in psutil.Process(pid).children(recursive=True)]
        if any("sleep" in " ".join(c.cmdline()) or c.status() == psutil.STATUS_SLEEPING for c in children):
            break
        time.sleep(0.05)
    assert children
    time.sleep(0.3)  # let the candidate clear its death signal
    ex.close()
    gone, alive = psutil.wait_procs(children, timeout=3)
    assert alive == []
    thread.join(timeout=10)
    assert [str(e) for e in outcome] == ["Executor was closed during run_batch"]


def test_escapes_hold_as_an_unprivileged_user(tmp_path: Path) -> None:
    """The hostile suite and this file, rerun as a fresh unprivileged user (the non-root mode)."""
    proc = rerun_unprivileged(tmp_path, ["tests/test_sandbox_hostile.py", "tests/test_sandbox_escapes.py"], "sbx", 900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]

