"""Executor behaviour the pipeline relies on: judging, checker, early stop, pairs, C++, recovery, cleanup."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from sandbox import CompareOptions, Executor, Language, Limits, Program, Result, Status

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "codecontests"
ECHO_SUM = Program("print(sum(map(int, input().split())))")
WRONG = Program("print(0)")
needs_gxx = pytest.mark.skipif(
    shutil.which("g++") is None, reason="g++ not installed: C++ candidates skipped"
)


@pytest.fixture(scope="module")
def ex() -> Iterator[Executor]:
    with Executor(workers=2) as executor:
        yield executor


def by_pair(results: Iterator[Result]) -> dict[tuple[int, int], Result]:
    out: dict[tuple[int, int], Result] = {}
    for r in results:
        key = (r.program_index, r.input_index)
        assert key not in out, f"duplicate result for {key}"
        out[key] = r
    return out


def test_expected_outputs_set_passed(ex: Executor) -> None:
    got = by_pair(ex.run_batch([ECHO_SUM, WRONG], ["1 2", "3 4"], Limits(), expected=["3", "7\n"]))
    assert len(got) == 4
    assert got[0, 0].passed and got[0, 1].passed
    assert got[1, 0].passed is False and got[1, 0].ok
    assert all(r.passed is None for r in ex.run_batch([ECHO_SUM], ["1 2"], Limits()))


def test_compare_options_apply(ex: Executor) -> None:
    prog = Program("print('%.7f' % (1/3))\nprint('yes')")
    opts = CompareOptions(float_abs=1e-6, case_insensitive=True)
    assert ex.run_batch([prog], [""], Limits(), expected=["0.333333 YES"], compare=opts).__next__().passed
    assert not next(ex.run_batch([prog], [""], Limits(), expected=["0.333333 YES"])).passed


def test_external_checker_runs_in_sandbox(ex: Executor) -> None:
    # Any permutation of the expected tokens is accepted; the checker sees input, output and answer files.
    checker = Program(
        "import sys\ninp, out, ans = (open(p).read().split() for p in sys.argv[1:4])\n"
        "sys.exit(0 if sorted(out) == sorted(ans) and len(inp) == 1 else 1)\n"
    )
    progs = [Program("print('b a c')"), Program("print('a b b')"), Program("import sys; sys.exit(2)")]
    got = by_pair(
        ex.run_batch(progs, ["x"], Limits(), expected=["a b c"], compare=CompareOptions(checker=checker))
    )
    assert got[0, 0].passed is True
    assert got[1, 0].passed is False and got[1, 0].ok
    assert got[2, 0].passed is False and got[2, 0].status is Status.RUNTIME_ERROR


def test_stop_on_first_failure_skips_the_rest_of_that_program(ex: Executor) -> None:
    fail_on_3 = Program("n = int(input())\nassert n != 3\nprint(n)")
    inputs = [str(i) for i in range(12)]
    got = by_pair(
        ex.run_batch(
            [fail_on_3, Program("print(input())")],
            inputs,
            Limits(),
            expected=inputs,
            stop_on_first_failure=True,
        )
    )
    assert sum(1 for p, _ in got if p == 1) == 12  # the good program runs everything
    mine = sorted(i for p, i in got if p == 0)
    failures = [i for i in mine if not got[0, i].passed]
    assert failures == [3]  # exactly one failure reported, then nothing more after it was seen
    assert len(mine) < 12


def test_wrong_answer_also_stops(ex: Executor) -> None:
    got = list(ex.run_batch([WRONG], ["1 2"] * 6, Limits(), expected=["3"] * 6, stop_on_first_failure=True))
    assert 1 <= len(got) <= 3 and sum(r.passed is False for r in got) >= 1


def test_pairs_subset(ex: Executor) -> None:
    got = by_pair(ex.run_batch([ECHO_SUM, WRONG], ["1 1", "2 2", "3 3"], Limits(), pairs=[(0, 2), (1, 0)]))
    assert set(got) == {(0, 2), (1, 0)}
    assert got[0, 2].stdout == b"6\n"


def test_python_syntax_error_is_compile_error(ex: Executor) -> None:
    got = list(ex.run_batch([Program("def f(:\n")], ["", ""], Limits()))
    assert [r.status for r in got] == [Status.COMPILE_ERROR] * 2
    assert "SyntaxError" in got[0].detail


@needs_gxx
def test_cpp_compiles_once_and_runs(ex: Executor) -> None:
    src = "#include <iostream>\nint main(){long long a,b;std::cin>>a>>b;std::cout<<a*b<<'\\n';}\n"
    got = by_pair(
        ex.run_batch(
            [Program(src, Language.CPP)], ["6 7", "100000 100000"], Limits(), expected=["42", "10000000000"]
        )
    )
    assert all(r.ok and r.passed for r in got.values())
    t0 = time.monotonic()
    assert ex.run(Program(src, Language.CPP), "2 3").stdout == b"6\n"
    assert time.monotonic() - t0 < 0.5, "the second use of the same source must hit the compile cache"


@needs_gxx
def test_cpp_compile_error_for_every_input(ex: Executor) -> None:
    got = list(ex.run_batch([Program("int main() { return x; }", Language.CPP)], ["1", "2", "3"], Limits()))
    assert [r.status for r in got] == [Status.COMPILE_ERROR] * 3
    assert "x" in got[0].detail and "was not declared" in got[0].detail
    stopped = list(
        ex.run_batch(
            [Program("int main() { return x; }", Language.CPP)],
            ["1", "2"],
            Limits(),
            stop_on_first_failure=True,
        )
    )
    assert len(stopped) == 1


@needs_gxx
def test_cpp_include_of_secret_file_is_not_readable() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the compiler runs as an unprivileged uid only when we can switch uids")
    with Executor(workers=1) as executor:
        r = executor.run(Program('#include "/etc/shadow"\nint main(){}', Language.CPP), "")
    assert r.status is Status.COMPILE_ERROR
    assert "Permission denied" in r.detail and "root:" not in r.detail


def test_run_batch_from_another_thread(ex: Executor) -> None:
    box: list[Result] = []
    worker = threading.Thread(target=lambda: box.extend(ex.run_batch([ECHO_SUM], ["5 5"] * 4, Limits())))
    worker.start()
    worker.join(30)
    assert [r.stdout for r in box] == [b"10\n"] * 4


def test_abandoned_batch_leaves_executor_consistent(ex: Executor) -> None:
    it = ex.run_batch(
        [Program("import time\ntime.sleep(0.05)\nprint(input())")], [str(i) for i in range(20)], Limits()
    )
    next(it)
    it.close()  # the caller walks away mid-batch
    got = by_pair(ex.run_batch([ECHO_SUM], ["1 1", "2 2", "3 3"], Limits()))
    assert [got[0, i].stdout for i in range(3)] == [b"2\n", b"4\n", b"6\n"]


def test_one_batch_at_a_time(ex: Executor) -> None:
    first = ex.run_batch([ECHO_SUM], ["1 1"] * 3, Limits())
    next(first)
    with pytest.raises(RuntimeError, match="one batch at a time"):
        next(ex.run_batch([ECHO_SUM], ["1 1"], Limits()))
    first.close()


def test_zygote_crash_is_sandbox_error_and_slot_restarts() -> None:
    with Executor(workers=1) as executor:
        victim = executor.zygote_pids()[0]
        results = executor.run_batch([Program("import time\ntime.sleep(5)")], [""], Limits(time_s=5))
        threading.Timer(0.5, os.kill, (victim, signal.SIGKILL)).start()
        got = list(results)
        assert [r.status for r in got] == [Status.SANDBOX_ERROR]
        assert executor.zygote_pids() != [victim]
        assert executor.run(ECHO_SUM, "2 2").stdout == b"4\n"


def test_close_kills_everything() -> None:
    executor = Executor(workers=2)
    zygotes = [psutil.Process(pid) for pid in executor.zygote_pids()]
    uids = set(executor.slot_uids)
    it = executor.run_batch([Program("import time\ntime.sleep(30)")], ["", ""], Limits(time_s=30))
    threading.Timer(0.5, executor.close).start()
    with pytest.raises(RuntimeError, match="closed during run_batch"):
        list(it)
    executor.close()
    gone, alive = psutil.wait_procs(zygotes, timeout=5)
    assert not alive
    assert not [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]
    with pytest.raises(RuntimeError, match="closed"):
        executor.run(ECHO_SUM, "1 1")


def test_strict_isolation_starts_when_everything_is_available() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: uid switching is part of full isolation")
    with Executor(workers=1, isolation="strict") as executor:
        caps = executor.capabilities
        assert caps["netns"] and caps["seccomp"] and caps["uid"] and caps["landlock"] >= 1


def test_isolation_none_still_limits() -> None:
    with Executor(workers=1, isolation="none") as executor:
        assert executor.run(Program("while True: pass"), "", Limits(time_s=0.3)).status is Status.TIME_LIMIT
        assert executor.run(ECHO_SUM, "1 1").stdout == b"2\n"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "workers must be"),
        ({"isolation": "maybe"}, "isolation must be one of"),
        ({"python": "/nonexistent/python"}, "python must be"),
    ],
)
def test_invalid_options(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Executor(**kwargs)  # type: ignore[arg-type]


def test_invalid_batch_arguments(ex: Executor) -> None:
    with pytest.raises(ValueError, match="pairs must index"):
        ex.run_batch([ECHO_SUM], ["1"], Limits(), pairs=[(0, 1)])
    with pytest.raises(ValueError, match="expected must have one entry per input"):
        ex.run_batch([ECHO_SUM], ["1"], Limits(), expected=[])


@pytest.mark.skipif(not (DATA / "index.json").exists(), reason="CodeContests sample not present")
def test_real_reference_solutions_pass(ex: Executor) -> None:
    """Real CodeContests Python references (exit(), os.fstat(0), recursion...) pass their own tests here."""
    index = json.loads((DATA / "index.json").read_text())
    chosen = [row for row in index if not row["likely_multiple_valid_answers"]][::12][:20]
    programs, inputs, expected, pairs = [], [], [], []
    for row in chosen:
        problem = json.loads((DATA / row["file"]).read_text())
        programs.append(Program(problem["solutions"]["solution"][0]))
        tests = problem["public_tests"]
        for given, want in list(zip(tests["input"], tests["output"], strict=True))[:3]:
            pairs.append((len(programs) - 1, len(inputs)))
            inputs.append(given)
            expected.append(want)
    # Float answers (probabilities, lengths) are judged with the usual 1e-6 tolerance.
    got = list(
        ex.run_batch(
            programs,
            inputs,
            Limits(time_s=10, memory_mb=512),
            expected=expected,
            pairs=pairs,
            compare=CompareOptions(float_abs=1e-6, float_rel=1e-6),
        )
    )
    assert len(got) == len(pairs)
    failed = [(chosen[r.program_index]["file"], r.status.value, r.stderr[-300:]) for r in got if not r.passed]
    assert failed == []
