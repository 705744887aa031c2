"""Hostile programs: each ends with the right status, writes nothing outside scratch, leaves no process."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sandbox import Executor, Language, Limits, Program, Result, Status

FAST = Limits(time_s=1.0, wall_s=2.0, memory_mb=128)
needs_gxx = pytest.mark.skipif(
    shutil.which("g++") is None, reason="g++ not installed: C++ candidates skipped"
)


@pytest.fixture(scope="module")
def ex() -> Iterator[Executor]:
    with Executor(workers=2) as executor:
        yield executor


def leftovers(ex: Executor) -> list[psutil.Process]:
    """Processes a candidate could have left: anything under a zygote, or anything running as a slot uid."""
    procs: list[psutil.Process] = []
    for pid in ex.zygote_pids():
        procs += psutil.Process(pid).children(recursive=True)
    uids = set(ex.slot_uids)
    if uids:
        procs += [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]
    return procs


def run(
    ex: Executor, source: str, stdin: str = "", limits: Limits = FAST, lang: Language = Language.PYTHON
) -> Result:
    result = ex.run(Program(source, lang), stdin, limits)
    assert leftovers(ex) == [], "a candidate process survived its test"
    return result


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    """A path outside every scratch dir that candidates try to create; world-writable dir so only the sandbox
    (not file modes) can stop the write."""
    os.chmod(tmp_path, 0o777)
    return tmp_path / f"escape-{uuid.uuid4().hex}"


def test_infinite_loop_is_time_limit(ex: Executor) -> None:
    r = run(ex, "while True:\n    pass\n")
    assert r.status is Status.TIME_LIMIT
    # Killed as soon as it passes the CPU limit (or the wall limit, on a busy machine), not at RLIMIT_CPU's
    # 2s+.
    assert r.cpu_s < 1.6
    assert r.cpu_s >= 0.99 or "wall" in r.detail


def test_sleep_is_killed_at_wall_limit(ex: Executor) -> None:
    r = run(ex, "import time\ntime.sleep(60)\n")
    assert r.status is Status.TIME_LIMIT
    assert r.wall_s < 4


def test_fork_bomb_is_denied(ex: Executor) -> None:
    r = run(ex, "import os\nwhile True:\n    os.fork()\n")
    assert r.status is Status.RUNTIME_ERROR
    assert b"PermissionError" in r.stderr


def test_fork_bomb_that_swallows_errors_ends_by_time(ex: Executor) -> None:
    r = run(
        ex,
        "import os\nn = 0\nwhile True:\n    try:\n        os.fork(); n += 1\n"
        "    except OSError:\n        pass\n",
    )
    assert r.status is Status.TIME_LIMIT


def test_subprocess_is_denied(ex: Executor) -> None:
    r = run(ex, "import subprocess\nprint(subprocess.run(['id'], capture_output=True).stdout)\n")
    assert r.status is Status.RUNTIME_ERROR
    assert b"PermissionError" in r.stderr


def test_raw_syscalls_via_ctypes_are_denied(ex: Executor) -> None:
    src = (
        "import ctypes, platform\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "nr = {'x86_64': (57, 41, 101), 'aarch64': (220, 198, 117)}[platform.machine()]\n"
        "print(libc.syscall(nr[0], 17, 0, 0, 0, 0), ctypes.get_errno())\n"  # fork / clone(SIGCHLD)
        "print(libc.syscall(nr[1], 2, 1, 0), ctypes.get_errno())\n"  # socket(AF_INET, SOCK_STREAM)
        "print(libc.syscall(nr[2], 16, 1, 0, 0), ctypes.get_errno())\n"  # ptrace(PTRACE_ATTACH, 1)
    )
    r = run(ex, src)
    assert r.status is Status.OK, r.stderr
    assert r.stdout.split(b"\n")[:3] == [b"-1 1", b"-1 1", b"-1 1"]  # -1 / EPERM each time


def test_thousand_threads(ex: Executor) -> None:
    src = (
        "import threading, time\n"
        "ts = [threading.Thread(target=time.sleep, args=(0.2,)) for _ in range(1000)]\n"
        "for t in ts:\n    t.start()\n"
    )
    r = run(ex, src, limits=Limits(time_s=2.0, memory_mb=256))
    assert r.status is Status.RUNTIME_ERROR
    assert b"can't start new thread" in r.stderr


def test_a_few_threads_are_allowed(ex: Executor) -> None:
    src = (
        "import threading\nout = []\n"
        "ts = [threading.Thread(target=out.append, args=(i,)) for i in range(8)]\n"
        "[t.start() for t in ts]\n[t.join() for t in ts]\nprint(sum(out))\n"
    )
    r = run(ex, src)
    assert (r.status, r.stdout) == (Status.OK, b"28\n")


def test_memory_hog_is_memory_limit(ex: Executor) -> None:
    r = run(
        ex, "a = []\nwhile True:\n    a.append(bytearray(1 << 20))\n", limits=Limits(time_s=2.0, memory_mb=64)
    )
    assert r.status is Status.MEMORY_LIMIT
    big = run(ex, "x = bytearray(10 ** 9)\n", limits=Limits(time_s=2.0, memory_mb=64))
    assert big.status is Status.MEMORY_LIMIT


def test_socket_to_localhost_is_denied(ex: Executor) -> None:
    r = run(ex, "import socket\ns = socket.create_connection(('127.0.0.1', 22), timeout=1)\n")
    assert r.status is Status.RUNTIME_ERROR
    assert b"PermissionError" in r.stderr


def test_write_outside_scratch_is_denied(ex: Executor, outside: Path) -> None:
    r = run(ex, f"open({str(outside)!r}, 'w').write('pwned')\n")
    assert r.status is Status.RUNTIME_ERROR
    assert b"PermissionError" in r.stderr
    assert not outside.exists()


def test_write_inside_scratch_is_allowed_and_cleaned(ex: Executor) -> None:
    r = run(ex, "open('tmp.txt', 'w').write('hi')\nprint(open('tmp.txt').read())\n")
    assert (r.status, r.stdout) == (Status.OK, b"hi\n")
    r = run(ex, "import os\nprint(os.listdir('.'))\n")
    assert r.stdout == b"[]\n"  # the next test never sees the previous test's files


def test_other_slot_scratch_is_out_of_reach(ex: Executor) -> None:
    # Plant a test directory (as a running test would have it) in every slot, then let candidates try to read
    # and write all of them. Root: other uids, mode 0700; not root: other slots are not even mounted.
    slots = sorted(Path(ex._root).glob("slot-*"))  # noqa: SLF001 - the test needs the real layout
    planted = [slot / "t999999" for slot in slots]
    for index, test_dir in enumerate(planted):
        if not ex.slot_uids:
            test_dir.parent.chmod(0o700)  # not root: the zygote keeps slot directories read-only between tests
        test_dir.mkdir(mode=0o700)
        (test_dir / "secret.txt").write_text("secret")
        (test_dir / "secret.txt").chmod(0o644)
        if ex.slot_uids:
            os.chown(test_dir, ex.slot_uids[index], ex.slot_uids[index])
    src = (
        "import os, sys\nfor d in sys.stdin.read().split():\n"
        "    if os.path.dirname(d) == os.path.dirname(os.getcwd()):\n        continue\n"
        "    for action in ('r', 'w'):\n        try:\n"
        "            open(os.path.join(d, 'secret.txt'), action).close()\n"
        "            print('ESCAPED', action, d)\n        except OSError:\n            pass\n"
        "    try:\n        open(os.path.join(d, 'new.txt'), 'w').write('x'); print('ESCAPED new', d)\n"
        "    except OSError:\n        pass\n"
    )
    try:
        for _ in range(4):  # several runs so both slots take a turn
            r = run(ex, src, stdin="\n".join(map(str, planted)))
            assert r.status is Status.OK, r.stderr
            assert b"ESCAPED" not in r.stdout
        assert all(not (test_dir / "new.txt").exists() for test_dir in planted)
    finally:
        for test_dir in planted:
            shutil.rmtree(test_dir, ignore_errors=True)  # not root: the zygote removes strays itself


def test_reading_proc_environ_is_denied(ex: Executor) -> None:
    for pid in (1, os.getpid()):
        r = run(ex, f"print(open('/proc/{pid}/environ', 'rb').read())\n")
        assert r.status is Status.RUNTIME_ERROR, (pid, r.stdout)
        assert b"PermissionError" in r.stderr


def test_environment_is_empty(ex: Executor) -> None:
    r = run(ex, "import os\nprint(dict(os.environ))\n")
    assert r.stdout == b"{}\n"


def test_killing_the_parent_fails(ex: Executor) -> None:
    zygotes = ex.zygote_pids()
    for target in ("os.getppid()", str(os.getpid()), "-1"):
        r = run(ex, f"import os, signal\nos.kill({target}, signal.SIGKILL)\nprint('alive')\n")
        assert r.status in (Status.RUNTIME_ERROR, Status.OK)
        if target != "-1":
            assert r.status is Status.RUNTIME_ERROR
    assert ex.zygote_pids() == zygotes
    assert run(ex, "print(1)").stdout == b"1\n"


def test_setsid_and_double_fork_escape_fails(ex: Executor) -> None:
    src = (
        "import os\ntry:\n    os.setsid()\nexcept OSError as e:\n    print('setsid', e.errno)\n"
        "try:\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
        "            import time; time.sleep(100)\nexcept OSError as e:\n    print('fork', e.errno)\n"
    )
    r = run(ex, src)
    assert r.status is Status.OK
    assert r.stdout == b"setsid 1\nfork 1\n"


def test_output_flood_is_output_limit(ex: Executor) -> None:
    r = run(ex, "while True:\n    print('x' * 1000)\n", limits=Limits(time_s=2.0, output_bytes=10_000))
    assert r.status is Status.OUTPUT_LIMIT
    assert len(r.stdout) == 10_000


def test_deep_recursion_segfault_is_runtime_error(ex: Executor) -> None:
    src = "import sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    return list(map(f, [n + 1]))\nf(0)\n"
    r = run(ex, src, limits=Limits(time_s=5.0, memory_mb=256))
    assert r.status is Status.RUNTIME_ERROR
    assert r.signal == signal.SIGSEGV


def test_closing_stdout(ex: Executor) -> None:
    r = run(ex, "import os\nprint('a', flush=True)\nos.close(1)\nprint('b')\n")
    assert r.status is Status.RUNTIME_ERROR
    assert r.stdout == b"a\n"
    assert r.exit_code == 120


def test_non_utf8_output_is_kept_as_bytes(ex: Executor) -> None:
    r = run(ex, "import sys\nsys.stdout.buffer.write(bytes([0xff, 0xfe, 0, 0x80]) + b'ok')\n")
    assert (r.status, r.stdout) == (Status.OK, b"\xff\xfe\x00\x80ok")


def test_stdin_is_a_real_file_and_exit_helpers_work(ex: Executor) -> None:
    r = run(
        ex,
        "import os, sys\nprint(os.fstat(0).st_size)\nprint(sys.stdin.read().strip())\nexit()\n",
        stdin="hello\n",
    )
    assert (r.status, r.stdout) == (Status.OK, b"6\nhello\n")
    r = run(ex, "import sys\nprint('x')\nsys.exit(3)\n")
    assert (r.status, r.exit_code, r.stdout) == (Status.RUNTIME_ERROR, 3, b"x\n")
    r = run(ex, "quit()\n")
    assert r.status is Status.OK


CPP_HOSTILE = r"""
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <sys/socket.h>
int main(int argc, char** argv) {
    int forks = 0;
    for (int i = 0; i < 50; i++) { pid_t p = fork(); if (p == 0) { sleep(100); _exit(0); } if (p > 0) forks++;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    FILE* f = fopen("OUTSIDE", "w");
    int ex = execl("/bin/sh", "sh", "-c", "id", (char*)0);
    printf("%d %d %d %d\n", forks, s, f == NULL ? 0 : 1, ex);
    return 0;
}
"""


@needs_gxx
def test_cpp_hostile_syscalls_are_denied(ex: Executor, outside: Path) -> None:
    r = run(ex, CPP_HOSTILE.replace("OUTSIDE", str(outside)), lang=Language.CPP)
    assert r.status is Status.OK, r.detail
    assert r.stdout == b"0 -1 0 -1\n"
    assert not outside.exists()


@needs_gxx
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("while (true) {}", Status.TIME_LIMIT),
        ("std::vector<long long> v; while (true) v.push_back(1);", Status.MEMORY_LIMIT),
        ("int* p = nullptr; *p = 1;", Status.RUNTIME_ERROR),
        ('while (true) std::puts("flood flood flood");', Status.OUTPUT_LIMIT),
        ("kill(getppid(), SIGKILL); return 3;", Status.RUNTIME_ERROR),
    ],
)
def test_cpp_limits(ex: Executor, body: str, status: Status) -> None:
    src = (
        "#include <cstdio>\n#include <vector>\n#include <csignal>\n#include <unistd.h>\n"
        f"int main() {{ {body} }}\n"
    )
    zygotes = ex.zygote_pids()
    r = run(ex, src, limits=Limits(time_s=1.0, memory_mb=64, output_bytes=10_000), lang=Language.CPP)
    assert r.status is status, (r.detail, r.stderr)
    assert ex.zygote_pids() == zygotes


@needs_gxx
def test_cpp_deep_recursion_uses_the_memory_limit_as_stack(ex: Executor) -> None:
    src = (
        "#include <cstdio>\nint depth(int n) { volatile char pad[64]; pad[0] = n; return n == 0 ? pad[0] : "
        '1 + depth(n - 1); }\nint main() { std::printf("%d\\n", depth(1000000)); }\n'
    )
    r = run(ex, src, limits=Limits(time_s=2.0, memory_mb=256), lang=Language.CPP)
    assert (r.status, r.stdout) == (Status.OK, b"1000000\n")
