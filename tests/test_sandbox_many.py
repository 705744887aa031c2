"""Several tests per child (tests_per_child > 1): same verdicts as one child per test, one child really serves
several tests, and a misbehaving program still fails alone and leaves nothing behind."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Executor, Limits, Program, Result, Status
from tests.test_sandbox_hostile import leftovers

LIMITS = Limits(time_s=0.5, wall_s=2.0, memory_mb=128, output_bytes=1000)
INPUTS = [f"{i}\n" for i in range(1, 9)]
MIXED = [
    "print(int(input()) * 2)",
    # crashes on one input only: that test is rerun alone, the others keep their answers
    "n = int(input())\nif n == 3:\n    raise ValueError(n)\nprint(n + 1)",
    # the recursion-in-a-thread pattern of competitive programmers: the thread is joined after every test
    "import threading\ndef f():\n    print(int(input()) * 3)\nt = threading.Thread(target=f)\nt.start()\nt.join()",
    "n = int(input())\nwhile n == 2:\n    pass\nprint(n)",
    "import sys\nn = int(input())\nsys.stdout.close() if n == 4 else print(n)",
    "n = int(input())\nprint('x' * (2000 if n == 5 else 3))",
    # a file left by one test must not be seen by the next
    "import os\nopen('f.txt', 'a').write('a')\nprint(len(open('f.txt').read()))",
    "n = int(input())\nx = bytearray(300 << 20) if n == 6 else b''\nprint(n)",
    # a daemon thread still running at the end of a test: the child is not reused after it
    "import threading, time\nthreading.Thread(target=time.sleep, args=(5,), daemon=True).start()\nprint(input())",
    # garbage on the control pipe: the program can confuse only its own results, never the executor
    "import os\ntry:\n    os.write(3, b'\\x07\\x07')\nexcept OSError:\n    pass\nprint(input())",
]


@pytest.fixture(scope="module")
def ex() -> Iterator[Executor]:
    with Executor(workers=2) as executor:
        yield executor


def _by_pair(results: Iterator[Result]) -> dict[tuple[int, int], Result]:
    return {(r.program_index, r.input_index): r for r in results}


def test_same_verdicts_and_outputs_as_one_child_per_test(ex: Executor) -> None:
    programs = [Program(s) for s in MIXED]
    single = _by_pair(ex.run_batch(programs, INPUTS, LIMITS, tests_per_child=1))
    many = _by_pair(ex.run_batch(programs, INPUTS, LIMITS, tests_per_child=8))
    assert set(single) == set(many) and len(many) == len(MIXED) * len(INPUTS)
    for pair in single:
        if pair[0] == len(MIXED) - 1:
            continue  # the control-pipe writer may shift its own outputs; it only must not break the batch
        assert (many[pair].status, many[pair].stdout) == (single[pair].status, single[pair].stdout), pair
    assert many[(1, 2)].status is Status.RUNTIME_ERROR and many[(1, 3)].stdout == b"5\n"
    assert many[(3, 1)].status is Status.TIME_LIMIT
    assert many[(5, 4)].status is Status.OUTPUT_LIMIT
    assert many[(7, 5)].status is Status.MEMORY_LIMIT
    assert all(many[(6, i)].stdout == b"1\n" for i in range(len(INPUTS)))
    assert all(r.status is not Status.SANDBOX_ERROR for r in many.values())
    assert leftovers(ex) == []


def test_one_child_serves_several_tests(ex: Executor) -> None:
    # Each child counts the tests it served in a module that outlives a test (sys). Pids cannot tell children
    # apart: every worker's children live in their own pid namespace, so two children may both be pid 2.
    program = Program("import sys\nsys.served = getattr(sys, 'served', 0) + 1\nprint(sys.served, input())")
    results = list(ex.run_batch([program], [str(i) for i in range(16)], LIMITS, tests_per_child=8))
    assert sorted(int(r.stdout.split()[1]) for r in results) == list(range(16))
    served = sorted(int(r.stdout.split()[0]) for r in results)
    # 16 tests in groups of 8: two children, each serving tests 1..8 (one child per test would show sixteen 1s)
    assert served == sorted(list(range(1, 9)) * 2)
    # CPU time is measured per test, not per child. Where the kernel refuses the per-process CPU clock it is
    # read from /proc in clock ticks, so a test this short may measure 0.
    assert all(0 <= r.cpu_s < 0.5 and r.peak_memory_kb > 0 for r in results)


def test_stop_on_first_failure_skips_the_rest_of_a_group(ex: Executor) -> None:
    program = Program("n = int(input())\nassert n != 2\nprint(n)")
    results = list(ex.run_batch([program], INPUTS, LIMITS, stop_on_first_failure=True, tests_per_child=8))
    assert [r.status for r in results] == [Status.OK, Status.RUNTIME_ERROR]


def test_hostile_program_in_a_group_writes_nothing_outside(ex: Executor, tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o777)
    target = tmp_path / f"escape-{uuid.uuid4().hex}"
    source = f"import os\nn = int(input())\nif n == 3:\n    open({str(target)!r}, 'w').write('x')\nprint(n)"
    results = _by_pair(ex.run_batch([Program(source)], INPUTS, LIMITS, tests_per_child=8))
    assert results[(0, 2)].status is Status.RUNTIME_ERROR
    assert [results[(0, i)].stdout for i in (0, 1, 3)] == [b"1\n", b"2\n", b"4\n"]
    assert not target.exists()
    assert leftovers(ex) == []


def test_tests_per_child_is_validated(ex: Executor) -> None:
    with pytest.raises(ValueError, match="tests_per_child must be"):
        list(ex.run_batch([Program("print(1)")], ["x"], LIMITS, tests_per_child=0))
    with pytest.raises(ValueError, match="tests_per_child must be"):
        Executor(workers=1, tests_per_child=1000)


def test_memory_of_one_test_is_freed_before_the_next(ex: Executor) -> None:
    # 80 MiB per test under a 128 MiB limit: fine alone, over the limit if a test's data outlived it.
    source = (
        "import sys\nsys.served = getattr(sys, 'served', 0) + 1\ndata = [bytearray(80 << 20)]\n"
        "def use():\n    return data\nprint(len(use()[0]) >> 20, sys.served)"
    )
    results = list(ex.run_batch([Program(source)], INPUTS, LIMITS, tests_per_child=8))
    assert [r.stdout.split()[0] for r in results] == [b"80"] * len(INPUTS)
    # One child ran all 8 (it counts them): no test fell back for lack of memory.
    assert sorted(int(r.stdout.split()[1]) for r in results) == list(range(1, 9))
    assert all(r.peak_memory_kb < 128 << 10 for r in results)
