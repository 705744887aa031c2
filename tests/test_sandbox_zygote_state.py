"""A child starts from a zygote that holds no other program's code, bytes or data, and no slot outlives its
poison (#27): programs are compiled in their own child from a memory file, a child's setup report travels on a
file the candidate never holds, and a zygote that grew is replaced."""

from __future__ import annotations

import secrets

import pytest

import sandbox._slot
from sandbox import Executor, Language, Limits, Program, Status

LIMITS = Limits(time_s=5, memory_mb=256)

# Scans every readable mapping of its own process for a secret of the shape ZZSECRETZZ<32 hex digits>; the
# pattern is assembled at run time so this source never matches itself.
SCAN = """
import ctypes, re
pattern = re.compile(("ZZSEC" + "RETZZ").encode() + rb"[0-9a-f]{32}")
found = set()
with open("/proc/self/maps") as maps:
    regions = [line.split() for line in maps]
for fields in regions:
    addr, perms = fields[:2]
    name = fields[5] if len(fields) > 5 else ""
    if not perms.startswith("r") or name in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
        continue
    start, end = (int(x, 16) for x in addr.split("-"))
    if end - start > 512 << 20:
        continue
    chunk = ctypes.string_at(start, end - start)
    found.update(m.group().decode() for m in pattern.finditer(chunk))
print(" ".join(sorted(found)) or "clean")
"""


def _vm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))


@pytest.fixture()
def executor() -> Executor:
    # One slot: every program runs in the slot the previous one used.
    with Executor(workers=1) as ex:
        yield ex


@pytest.mark.parametrize("tests_per_child", [1, 4])
def test_no_child_finds_an_earlier_programs_code_in_its_memory(executor: Executor, tests_per_child: int) -> None:
    secret = "ZZSECRETZZ" + secrets.token_hex(16)
    victim = Program(f"SECRET = {secret!r}\nprint(len(SECRET))\n")
    results = list(executor.run_batch([victim], ["", "", "", ""], LIMITS, tests_per_child=tests_per_child))
    assert all(r.status is Status.OK for r in results)
    # The scanner itself must work: it finds a secret of its own process.
    own = "ZZSECRETZZ" + secrets.token_hex(16)
    probe = executor.run(Program(f"MINE = {own!r}\n" + SCAN), "", LIMITS)
    assert probe.status is Status.OK, probe.stderr
    assert own in probe.stdout.decode()
    assert secret not in probe.stdout.decode()


def test_a_program_of_folded_constants_does_not_poison_the_slot(executor: Executor) -> None:
    # ~750 KB of source whose constants fold to ~300 MiB: compiled in the candidate's own child, under its limits.
    parts = ", ".join(f'"{chr(97 + i % 26)}" * 4096' for i in range(75_000))
    bomb = Program(f"x = ({parts})\nprint(len(x))\n")
    vm_before = _vm_kb(executor.zygote_pids()[0])
    folded = executor.run(bomb, "", LIMITS)
    assert folded.status in (Status.COMPILE_ERROR, Status.MEMORY_LIMIT), folded.status
    # The zygote never compiled it: it is no bigger than before (give or take its buffers).
    assert _vm_kb(executor.zygote_pids()[0]) - vm_before < 16 << 10
    honest = Program("buf = bytearray(128 << 20)\nprint(len(buf))\n")
    result = executor.run(honest, "", LIMITS)
    assert result.status is Status.OK, (result.status, result.detail)
    assert result.stdout == b"134217728\n"


def test_the_old_setup_failure_marker_on_stderr_is_just_stderr(executor: Executor) -> None:
    forged = Program(
        "import os, sys\nos.write(2, b'\\x00sandbox-setup-failed: ' + b'P' * 64)\nprint('ran')\n"
    )
    result = executor.run(forged, "", LIMITS)
    assert result.status is Status.OK and result.stdout == b"ran\n"
    assert "PPPP" not in result.detail


@pytest.mark.parametrize("tests_per_child", [1, 4])
def test_compile_errors_are_reported_from_the_child(executor: Executor, tests_per_child: int) -> None:
    broken = Program("def f(:\n    pass\n")
    results = list(executor.run_batch([broken], ["1", "2", "3"], LIMITS, tests_per_child=tests_per_child))
    assert len(results) == 3
    for r in results:
        assert r.status is Status.COMPILE_ERROR
        assert "SyntaxError" in r.detail
    nul = executor.run(Program("print(1)\x00\n"), "", LIMITS)
    assert nul.status is Status.COMPILE_ERROR
    deep = executor.run(Program("x = " + "(" * 100_000 + ")" * 100_000 + "\n"), "", LIMITS)
    assert deep.status is Status.COMPILE_ERROR


def test_cpp_still_runs_with_its_binary_named_in_the_request(executor: Executor) -> None:
    source = "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}\n"
    result = executor.run(Program(source, Language.CPP), "2 3", LIMITS)
    assert result.status is Status.OK and result.stdout == b"5\n"


def test_a_zygote_that_grew_is_replaced(executor: Executor, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox._slot, "ZYGOTE_GROWTH_MAX", 1 << 20)
    before = executor.zygote_pids()
    # A 4 MiB input grows the zygote's request buffer past the (lowered) bound.
    result = executor.run(Program("import sys\nprint(len(sys.stdin.read()))\n"), "x" * (4 << 20), LIMITS)
    assert result.stdout == b"4194304\n"
    assert executor.zygote_pids() != before
    again = executor.run(Program("print(2)\n"), "", LIMITS)
    assert again.status is Status.OK and again.stdout == b"2\n"


def test_lone_surrogates_in_programs_and_inputs_never_raise(executor: Executor) -> None:
    # U+D800 cannot be UTF-8: it reaches the program as bytes, never as an exception in our process.
    odd = executor.run(Program("import sys\nprint(len(sys.stdin.buffer.read()))\n"), "a\ud800b", LIMITS)
    assert odd.status is Status.OK and odd.stdout == b"5\n"
    bad_source = executor.run(Program("print('\ud800')\n"), "", LIMITS)
    assert bad_source.status is not Status.SANDBOX_ERROR
    cpp = executor.run(Program('int main(){const char*s="\ud800";return 0;}\n', Language.CPP), "", LIMITS)
    assert cpp.status is not Status.SANDBOX_ERROR


@pytest.mark.parametrize("tests_per_child", [1, 4])
def test_a_candidate_holds_no_fd_but_its_stdio(executor: Executor, tests_per_child: int) -> None:
    # The zygote keeps compiled programs as memory files: a child closes them all (and its own setup, program and
    # code files) before its candidate's first instruction. A several-tests child keeps its control pipes and
    # inputs file (3-5), documented.
    other = Program("X = 'a secret program'\nprint(X)\n")
    for _ in range(2):
        list(executor.run_batch([other], ["", ""], LIMITS, tests_per_child=tests_per_child))
    probe = Program("import os\nprint(sorted(int(f) for f in os.listdir('/proc/self/fd')))\n")
    results = list(executor.run_batch([probe], ["", ""], LIMITS, tests_per_child=tests_per_child))
    allowed = {0, 1, 2} | ({3, 4, 5} if tests_per_child > 1 else set())
    for r in results:
        fds = set(eval(r.stdout.decode())) - {max(eval(r.stdout.decode()))}  # the listing's own fd
        assert fds <= allowed, (r.stdout, r.stderr)
