"""RunMemo answers a plain run it has seen from memory, and the test-input check decides inputs in two waves with
the verdicts of running every checker on every input."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator

import pytest

from alphagen.run_memo import RunMemo
from alphagen.testgen.validate import clean_inputs, clean_needed
from sandbox import Executor
from sandbox.interface import BatchExecutor, BatchRequest
from sandbox.values import Limits, Program, Result, Status


class TableExecutor(BatchExecutor):
    """Each (program source, input) has a scripted status; records every pair it really runs."""

    def __init__(self, table: dict[tuple[str, str], Status]) -> None:
        self.table = table
        self.ran: list[tuple[str, str]] = []

    def execute(self, request: BatchRequest) -> Iterator[Result]:
        programs, inputs = request.programs, request.inputs
        for p, i in request.todo():
            text = inputs[i] if isinstance(inputs[i], str) else inputs[i].decode()  # type: ignore[union-attr]
            self.ran.append((programs[p].source, text))
            status = self.table[(programs[p].source, text)]
            yield Result(p, i, status, stdout=f"{programs[p].source}:{text}".encode(), cpu_s=0.5)


def test_memo_runs_each_pair_once_and_renumbers() -> None:
    progs = [Program("a"), Program("b")]
    table = {(p, x): Status.OK for p in "abc" for x in ("1", "2", "3")}
    inner = TableExecutor(table)
    memo = RunMemo(inner)
    first = list(memo.run_batch(progs, ["1", "2"], Limits()))
    assert len(first) == 4 and len(inner.ran) == 4 and memo.hits == 0
    # A second batch in another order, with a new program and a new input: only the new pairs run.
    second = list(memo.run_batch([Program("c"), Program("b")], ["3", "2"], Limits()))
    assert sorted(inner.ran[4:]) == [("b", "3"), ("c", "2"), ("c", "3")]
    assert memo.hits == 1 and memo.runs == 7
    by_pair = {(r.program_index, r.input_index): r for r in second}
    # The remembered result is b on "2", renumbered as program 1, input 1 of this batch.
    assert by_pair[(1, 1)].stdout == b"b:2" and by_pair[(1, 1)].cpu_s == 0.5
    assert set(by_pair) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_memo_says_which_programs_timed_out_under_which_limits() -> None:
    table = {("a", "1"): Status.OK, ("a", "2"): Status.TIME_LIMIT, ("b", "1"): Status.OK}
    memo = RunMemo(TableExecutor(table))
    full, tight = Limits(time_s=2.0), Limits(time_s=0.5)
    list(memo.run_batch([Program("a"), Program("b")], ["1"], full))
    assert not memo.timed_out(Program("a"), full)
    list(memo.run_batch([Program("a")], ["2"], tight))
    # A time-out says so under its own limits only (clustering asks about the full limit).
    assert memo.timed_out(Program("a"), tight) and not memo.timed_out(Program("a"), full)
    list(memo.run_batch([Program("a")], ["2"], full))
    assert memo.timed_out(Program("a"), full) and not memo.timed_out(Program("b"), full)


def test_memo_says_who_was_outrun_on_an_input_another_ran_in_time() -> None:
    # a times out on "22" and "333", which b runs cleanly, and on "4444", which nobody does (it may be malformed):
    # the proof is the shortest input another program ran in time, under the same limits only.
    table = {("a", "1"): Status.OK, ("a", "22"): Status.TIME_LIMIT, ("a", "333"): Status.TIME_LIMIT,
             ("a", "4444"): Status.TIME_LIMIT, ("b", "22"): Status.OK, ("b", "333"): Status.OK,
             ("b", "4444"): Status.RUNTIME_ERROR}
    memo = RunMemo(TableExecutor(table))
    full, tight = Limits(time_s=2.0), Limits(time_s=0.5)
    list(memo.run_batch([Program("a")], ["4444", "333", "22", "1"], full))
    assert memo.outrun_on(Program("a"), full) is None  # nobody else ran anything yet
    list(memo.run_batch([Program("b")], ["333", "4444"], tight))
    assert memo.outrun_on(Program("a"), full) is None  # b's clean run was under other limits
    list(memo.run_batch([Program("b")], ["333", "4444", "22"], full))
    assert memo.outrun_on(Program("a"), full) == b"22"
    assert memo.outrun_on(Program("b"), full) is None and memo.outrun_on(Program("a"), tight) is None


def test_memo_keys_on_limits_and_passes_judged_runs_through() -> None:
    table = {("a", "1"): Status.OK}
    inner = TableExecutor(table)
    memo = RunMemo(inner)
    list(memo.run_batch([Program("a")], ["1"], Limits(time_s=1.0)))
    list(memo.run_batch([Program("a")], ["1"], Limits(time_s=2.0)))
    assert len(inner.ran) == 2  # other limits, another outcome possible: run again
    # With expected outputs or stop-on-failure the verdict depends on more than the pair: never from memory.
    list(memo.run_batch([Program("a")], ["1"], Limits(time_s=1.0), expected=["x"]))
    list(memo.run_batch([Program("a")], ["1"], Limits(time_s=1.0), stop_on_first_failure=True))
    assert len(inner.ran) == 4 and memo.hits == 0


def test_memo_checks_arguments_at_the_call() -> None:
    memo = RunMemo(TableExecutor({}))
    with pytest.raises(ValueError, match="pairs must index programs and inputs"):
        memo.run_batch([Program("a")], ["1"], Limits(), pairs=[(0, 3)])


def test_memo_over_the_real_sandbox(executor: Executor) -> None:
    memo = RunMemo(executor)
    progs = [Program("print(int(input()) * 2)"), Program("import sys\nsys.exit(3)")]
    first = {(r.program_index, r.input_index): r for r in memo.run_batch(progs, ["4\n", "5\n"], Limits())}
    again = {(r.program_index, r.input_index): r for r in memo.run_batch(progs[::-1], ["5\n"], Limits())}
    assert memo.hits == 2 and memo.runs == 4
    assert again[(1, 0)].stdout == first[(0, 1)].stdout == b"10\n"
    assert again[(0, 0)].status is first[(1, 1)].status is Status.RUNTIME_ERROR


@pytest.mark.parametrize("k,fraction,need", [(7, 0.5, 4), (8, 0.5, 4), (1, 0.5, 1), (3, 1.0, 3), (4, 0.0, 1)])
def test_clean_needed(k: int, fraction: float, need: int) -> None:
    assert clean_needed(k, fraction) == need


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2, 5, 8])
def test_two_waves_give_the_verdicts_of_every_run_with_fewer_runs(seed: int, k: int) -> None:
    rng = random.Random(seed)
    inputs = [str(i) for i in range(30)]
    progs = [Program(f"p{j}") for j in range(k)]
    # Inputs of three kinds: most programs run them, most fail them (a huge input: time limits), mixed.
    table = {}
    for x in inputs:
        fail_p = rng.choice([0.1, 0.5, 0.9])
        for p in progs:
            table[(p.source, x)] = Status.TIME_LIMIT if rng.random() < fail_p else Status.OK
    full = [sum(table[(p.source, x)] is Status.OK for p in progs) / k >= 0.5 for x in inputs]
    ex = TableExecutor(table)
    got = clean_inputs(ex, progs, inputs, Limits(), 0.5, lambda n: None)
    assert got == full
    assert len(ex.ran) <= k * len(inputs) and len(set(ex.ran)) == len(ex.ran)
    if k >= 5:
        # An input its first wave already decided against never met the other programs.
        assert len(ex.ran) < k * len(inputs)


def test_no_checkers_keep_every_input_and_no_inputs_run_nothing() -> None:
    ex = TableExecutor({})
    assert clean_inputs(ex, [], ["1", "2"], Limits(), 0.5, lambda n: None) == [True, True]
    assert clean_inputs(ex, [Program("a")], [], Limits(), 0.5, lambda n: None) == []
    assert ex.ran == []


def test_check_then_cluster_runs_each_pair_once() -> None:
    # What the pipeline does: the check's runs (through the memo) are the clustering's, not run again.
    progs = [Program(f"p{j}") for j in range(3)]
    inputs = ["1", "2", "3"]
    table = {(p.source, x): Status.OK for p, x in itertools.product(progs, inputs)}
    ex = TableExecutor(table)
    memo = RunMemo(ex)
    assert clean_inputs(memo, progs, inputs, Limits(), 0.5, lambda n: None) == [True] * 3
    list(memo.run_batch(progs, inputs, Limits()))
    # The check ran two of three programs (both clean: kept); clustering ran only the third.
    assert memo.hits == 6 and len(ex.ran) == 9
    assert sorted(ex.ran) == sorted((p.source, x) for p, x in itertools.product(progs, inputs))
