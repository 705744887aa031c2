"""A budget that goes where it pays (#29, item 4): solves drawn in rounds until the answer is settled, and a bench
budget shared in rounds by need; the same seed gives the same allocation, and a run killed anywhere resumes to the
records of an uninterrupted one."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_bench_fakes import fake_judge, fake_problems, fake_solve
from test_pipeline import CORRECT, CORRECT_2, LAST, POOL, make_problem, models
from test_sampling_windows import KeyedSampler, Stored, untimed

from alphagen.cli import main
from alphagen.clustering import select
from alphagen.evaluation.runner import BenchConfig, run_bench
from alphagen.evaluation.store import RunStore
from alphagen.pipeline import SolveConfig, StageLog, solve
from alphagen.problems.model import Problem
from alphagen.results import Candidate, SolveResult, StageStat
from alphagen.settle import Need, Share, assess, next_round, over_rounds, round_sizes
from alphagen.testgen import TestGenConfig
from sandbox import Executor

ROOT = Path(__file__).resolve().parents[1]


def result(*cands: Candidate) -> SolveResult:
    return SolveResult(problem="p", candidates=cands, picks=(), stages=())


def cand(i: int, passed: bool, sig: str | None = "a", dup: int | None = None, slow: str = "") -> Candidate:
    return Candidate(index=i, language="python", code=f"c{i}", passed_examples=passed, signature=sig,
                     duplicate_of=dup, limit_status=slow)


# --- the rule ---------------------------------------------------------------------------------------------------

def test_assess_names_why_a_problem_needs_more() -> None:
    assert assess(result(cand(0, False, None), cand(1, False, None))) is Need.NO_SURVIVOR
    assert assess(result(cand(0, True), cand(1, False, None))) is Need.FEW
    # Two agreeing samples are too few (HumanEval settled on two agreeing wrong programs in rounds of 4).
    assert assess(result(cand(0, True, "a"), cand(1, True, "a"), cand(2, False, None))) is Need.FEW
    assert assess(result(cand(0, True, "a"), cand(1, True, "b"), cand(2, True, "a"))) is Need.DISAGREE
    assert assess(result(cand(0, True, "a"), cand(1, True, "a", slow="time_limit"), cand(2, True, "a"))) is Need.SLOW
    assert assess(result(cand(0, True, "a"), cand(1, True, "a"), cand(2, True, "a"))) is Need.SETTLED
    # A duplicate counts (the model wrote it twice) and behaves as its original.
    assert assess(result(cand(0, True, "a"), cand(1, True, None, dup=0), cand(2, True, None, dup=0))) \
        is Need.SETTLED
    assert assess(result(cand(0, True, "a", slow="time_limit"), cand(1, True, None, dup=0),
                         cand(2, True, None, dup=0))) is Need.SLOW


def test_rounds_and_allocation_are_fixed_by_the_states() -> None:
    assert round_sizes(20, 8) == [8, 16, 20] and round_sizes(8, 8) == [8] and round_sizes(4, 8) == [4]
    states = {"a": Share(8, Need.SETTLED), "b": Share(16, Need.NO_SURVIVOR), "c": Share(8, Need.DISAGREE),
              "d": Share(32, Need.FEW), "e": Share(8, Need.SLOW)}
    order = ["a", "b", "c", "d", "e"]
    # Settled and capped problems get nothing; fewest samples first, then the problem order.
    assert next_round(states, order, 100, 8, 32) == {"c": 16, "e": 16, "b": 24}
    # The budget runs out in the middle of a round: the last one gets what is left, the rest nothing.
    assert next_round(states, order, 11, 8, 32) == {"c": 16, "e": 11}
    assert next_round(states, order, 0, 8, 32) == {}
    with pytest.raises(ValueError, match="step and cap"):
        next_round(states, order, 10, 0, 32)


def test_a_result_in_rounds_counts_what_every_round_spent() -> None:
    # Each round clusters and makes test inputs again; its sampling seconds already hold the earlier samples'.
    def timed(sample: float, testgen: float, cluster: float) -> SolveResult:
        return replace(result(cand(0, True)), stages=(StageStat("sample", sample, 8, 8),
                                                      StageStat("testgen", testgen, 2, 5),
                                                      StageStat("cluster", cluster, 2, 2)))

    total = over_rounds([timed(4.0, 1.0, 0.5), timed(8.0, 2.0, 0.25), timed(12.0, 3.0, 0.25)])
    assert {st.name: st.seconds for st in total.stages} == {"sample": 12.0, "testgen": 6.0, "cluster": 1.0}
    assert total.candidates == timed(0, 0, 0).candidates  # everything else is the last round's
    assert over_rounds([timed(4.0, 1.0, 0.5)]) == timed(4.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="rounds must not be empty"):
        over_rounds([])


def test_config_refuses_rounds_with_repairs() -> None:
    with pytest.raises(ValueError, match="settle min"):
        SolveConfig(n=16, settle_min=4, repair_share=0.25)
    with pytest.raises(ValueError, match="budget must be"):
        BenchConfig(SolveConfig(n=16), budget=100)
    assert SolveConfig(n=16, settle_min=4).first_draw == 4 and SolveConfig(n=3, settle_min=4).first_draw == 3


# --- a solve in rounds, with the real pipeline -----------------------------------------------------------------

CFG = SolveConfig(n=16, seed=5, samples_per_prompt=4,
                  testgen=TestGenConfig(sources=("mutation",), num_mutations=20, max_inputs=20))


def test_a_solve_in_rounds_draws_the_first_samples_of_an_all_at_once_solve(executor: Executor) -> None:
    problem = make_problem()
    rounds = solve(problem, replace(CFG, settle_min=4), models=models(KeyedSampler(POOL)), executor=executor)
    k = len(rounds.candidates)
    assert rounds.rounds and rounds.rounds[-1] == k and k % 4 == 0 or k == 16
    at_once = solve(problem, replace(CFG, n=k), models=models(KeyedSampler(POOL)), executor=executor)
    # The same samples (each keeps its index and prompt), the same verdicts and picks.
    assert untimed(rounds.candidates) == untimed(at_once.candidates) and rounds.picks == at_once.picks
    # It stopped where the rule says: settled there, not settled one round earlier.
    assert assess(rounds) is Need.SETTLED or k == 16


def test_a_solve_stops_once_settled_and_goes_to_the_cap_otherwise(executor: Executor,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import alphagen.settle as settle

    # What each solve's stages are timed from: all of its rounds (`over_rounds`), not the last one alone.
    timed_from: list[int] = []
    real = settle.over_rounds
    monkeypatch.setattr(settle, "over_rounds", lambda rounds: timed_from.append(len(rounds)) or real(rounds))
    problem = make_problem()
    agreeing = KeyedSampler([CORRECT, CORRECT_2])
    settled = solve(problem, replace(CFG, settle_min=4), models=models(agreeing), executor=executor)
    assert settled.rounds == (4,) and len(settled.candidates) == 4 and assess(settled) is Need.SETTLED
    # Each round drew only its new samples: one call per round, the second from sample 4 on.
    split = KeyedSampler([CORRECT, LAST])
    grown = solve(problem, replace(CFG, settle_min=4), models=models(split), executor=executor)
    assert grown.rounds == (4, 8, 12, 16) and len(grown.candidates) == 16 and assess(grown) is Need.DISAGREE
    assert [sum(r.count for r in call) for call in split.calls] == [4, 4, 4, 4]
    assert sorted(c.index for c in grown.candidates) == list(range(16))
    assert timed_from == [1, 4]


def test_a_killed_solve_in_rounds_replays_its_stored_rounds(executor: Executor) -> None:
    problem = make_problem()
    log = Stored([])
    first = solve(problem, replace(CFG, settle_min=4), models=models(KeyedSampler([CORRECT, LAST])),
                  executor=executor, checkpoint=log)
    assert [st.name for st in log.recorded] == ["fresh", "fresh-4", "fresh-8", "fresh-12"]
    again = KeyedSampler([CORRECT, LAST])
    replayed = solve(problem, replace(CFG, settle_min=4), models=models(again), executor=executor,
                     checkpoint=Stored(log.recorded[:2]))
    # The two stored rounds are read back; only the last two are drawn.
    assert [sum(r.count for r in call) for call in again.calls] == [4, 4]
    assert untimed(replayed.candidates) == untimed(first.candidates) and replayed.picks == first.picks


# --- a bench budget ----------------------------------------------------------------------------------------------

def counting(calls: list[tuple[str, int]], die_after: int | None = None) -> Any:
    """fake_solve (whose first k samples are those of any larger n), noting each (problem, n) it is asked for."""

    def solve_fn(problem: Problem, cfg: BenchConfig, seed: int, checkpoint: StageLog | None = None) -> SolveResult:
        if die_after is not None and len(calls) >= die_after:
            raise KeyboardInterrupt
        calls.append((problem.name, cfg.n))
        return fake_solve(problem, cfg, seed)

    return solve_fn


def budgeted(run: Path, budget: int, calls: list[tuple[str, int]], resume: bool = False,
             die_after: int | None = None) -> dict[str, dict[str, Any]]:
    cfg = BenchConfig(SolveConfig(n=32, seed=3, settle_min=8), draws=5, window_samples=0, budget=budget)
    with RunStore(run, cfg.to_dict(), resume, ("n", "seed", "budget", "settle_min")) as store:
        return run_bench(fake_problems(8), [], cfg, store, counting(calls, die_after), fake_judge, select)


def test_a_budget_goes_to_the_unsettled_problems_and_is_never_overspent(tmp_path: Path) -> None:
    calls: list[tuple[str, int]] = []
    records = budgeted(tmp_path / "run", 150, calls)
    ok = [r for r in records.values() if r["status"] == "ok"]
    drawn = {r["name"]: r["n"] for r in ok} | {r["name"]: r.get("drawn", 0) for r in records.values()
                                               if r["status"] != "ok"}
    assert len(ok) == 7 and records["p3-boom"]["status"] == "error"  # the fake crashes on p3
    assert sum(drawn.values()) <= 150 and max(drawn.values()) <= 32
    # Every problem had its first round; a settled one stopped there, the others grew in rounds of 8.
    assert all(r["rounds"][0] == 8 for r in ok)
    for r in ok:
        if r["need"] == "settled" and len(r["rounds"]) == 1:
            assert r["n"] == 8
        assert r["rounds"] == sorted(r["rounds"]) and r["rounds"][-1] == r["n"]
        # Timed with every round's clustering (the fake's 0.1 s a solve); sampling is the last round's.
        assert r["timing"]["stages"]["cluster"] == pytest.approx(0.1 * len(r["rounds"]))
        assert r["timing"]["stages"]["sample"] == pytest.approx(0.5)
    assert any(len(r["rounds"]) > 1 for r in ok)
    # Each (problem, size) was solved once: nothing drawn twice.
    assert len(calls) == len(set(calls))
    # Same seed, same allocation.
    again: list[tuple[str, int]] = []
    records2 = budgeted(tmp_path / "run2", 150, again)
    assert calls == again and {k: r["n"] for k, r in records2.items() if "n" in r} == \
        {k: r["n"] for k, r in records.items() if "n" in r}


@pytest.mark.parametrize("die_after", [3, 9, 14])
def test_a_budgeted_run_killed_anywhere_resumes_to_the_same_records(tmp_path: Path, die_after: int) -> None:
    whole: list[tuple[str, int]] = []
    expected = budgeted(tmp_path / "whole", 150, whole)
    calls: list[tuple[str, int]] = []
    with pytest.raises(KeyboardInterrupt):
        budgeted(tmp_path / "cut", 150, calls, die_after=die_after)
    resumed = budgeted(tmp_path / "cut", 150, calls, resume=True)

    def strip(recs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        return {k: {f: v for f, v in r.items() if f not in ("timing",)} for k, r in recs.items()}

    assert strip(resumed) == strip(expected)
    # Nothing solved twice across the kill.
    assert sorted(calls) == sorted(whole)


def test_bench_cli_budget_reports_where_it_went_and_refuses_too_small_a_budget(tmp_path: Path) -> None:
    runner = CliRunner()
    problems = ROOT / "problems"
    res = runner.invoke(main, ["bench", str(problems), "--budget", "5", "-n", "16", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "--budget" in res.output and "first round" in res.output
    res = runner.invoke(main, ["bench", str(problems), "--budget", "500", "--repair-share", "0.25",
                               "--settle-min", "4", "--out", str(tmp_path / "r2")])
    assert res.exit_code == 2 and "--settle-min" in res.output
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()


def test_allocation_summary(tmp_path: Path) -> None:
    from alphagen.evaluation.budget import allocation

    calls: list[tuple[str, int]] = []
    records = budgeted(tmp_path / "run", 150, calls)
    out = allocation(list(records.values()), 150)
    assert out["spent"] == sum(out["samples"].values()) <= 150
    assert sum(row["problems"] for row in out["by_need"].values()) == len(records)
    json.dumps(out)


# --- a round's new samples drawn together ------------------------------------------------------------------------

def test_a_rounds_slices_drawn_together_are_what_each_solve_draws_alone(executor: Executor) -> None:
    from test_sampling_windows import three_problems

    from alphagen.draw_runner import Slice, sample_slices_together

    cfg = replace(CFG, settle_min=4)
    problems = three_problems()
    first = [solve(p, cfg.round_config(4), models=models(KeyedSampler(POOL)), executor=executor) for p in problems]
    together = KeyedSampler(POOL)
    steps = sample_slices_together([Slice(p, 4, 8) for p in problems], cfg, models(together), executor)
    assert [st.name for st in steps] == ["fresh-4"] * 3 and len(together.calls) == 1
    for problem, step in zip(problems, steps, strict=True):
        alone = solve(problem, cfg.round_config(8), models=models(KeyedSampler(POOL)), executor=executor)
        log = Stored([])
        solve(problem, cfg.round_config(4), models=models(KeyedSampler(POOL)), executor=executor, checkpoint=log)
        replaying = KeyedSampler(POOL)
        replayed = solve(problem, cfg.round_config(8), models=models(replaying), executor=executor,
                         checkpoint=Stored([*log.recorded, step]))
        # Nothing drawn again; the same candidates, verdicts and picks as the problem's own 8-sample solve.
        assert replaying.calls == []
        assert untimed(replayed.candidates) == untimed(alone.candidates) and replayed.picks == alone.picks
    assert all(len(r.candidates) == 4 for r in first)


class Rounds:
    """A slices function that records each call's members and stores an empty slice for each."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, int, int]]] = []

    def __call__(self, slices: Any, cfg: BenchConfig, checkpoints: Any) -> None:
        from alphagen.results import PoolStage

        self.calls.append([(sl.problem.name, sl.start, sl.stop) for sl in slices])
        for sl, checkpoint in zip(slices, checkpoints, strict=True):
            checkpoint.record(PoolStage(f"fresh-{sl.start}", (), 0.1))


def test_a_budgeted_run_draws_each_rounds_samples_together(tmp_path: Path) -> None:
    cfg = BenchConfig(SolveConfig(n=32, seed=3, settle_min=8), draws=5, window_samples=24, budget=150)
    seen: dict[str, list[list[str]]] = {}

    def solve_fn(problem: Problem, bcfg: BenchConfig, seed: int, checkpoint: StageLog | None = None) -> SolveResult:
        seen.setdefault(problem.name, []).append([st.name for st in checkpoint.stored()] if checkpoint else [])
        return fake_solve(problem, bcfg, seed)

    rounds = Rounds()
    with RunStore(tmp_path / "run", cfg.to_dict(), False, ("n",)) as store:
        run_bench(fake_problems(8), [], cfg, store, solve_fn, fake_judge, select, slices_fn=rounds)
    # Windows of 24 // 8 = 3 problems, in the round's order, each slice starting where the problem stands.
    assert rounds.calls and all(2 <= len(c) <= 3 for c in rounds.calls)
    for call in rounds.calls:
        for name, start, stop in call:
            assert stop - start <= 8
            # The solve of that size found the slice its window stored.
            assert any(f"fresh-{start}" in names for names in seen[name])


def test_a_memo_carries_a_problems_runs_into_its_next_round(executor: Executor) -> None:
    # bench --budget solves a problem again each round it grows (n=4, then n=8): with the problem's memo the
    # second solve runs only what its new samples add, and picks as a solve without the memo does.
    from alphagen.pipeline import SolveMemo
    from alphagen.run_memo import RunMemo
    from sandbox.interface import BatchExecutor, BatchRequest

    class Counting(BatchExecutor):
        def __init__(self) -> None:
            self.pairs = 0

        def execute(self, request: BatchRequest) -> Any:
            self.pairs += len(request.todo())
            return executor.execute(request)

    problem = make_problem()
    split = [CORRECT, LAST]
    counted = Counting()
    memo = SolveMemo(RunMemo(counted))
    solve(problem, replace(CFG, n=4), models=models(KeyedSampler(split)), executor=counted, memo=memo)
    before = counted.pairs
    grown = solve(problem, replace(CFG, n=8), models=models(KeyedSampler(split)), executor=counted, memo=memo)
    with_memo = counted.pairs - before
    alone = Counting()
    fresh = solve(problem, replace(CFG, n=8), models=models(KeyedSampler(split)), executor=alone)
    assert 0 < with_memo < alone.pairs
    assert untimed(grown.candidates) == untimed(fresh.candidates) and grown.picks == fresh.picks
    # The memo holds what the budgeted stages spent over both rounds: a third round's budgets are what is left.
    assert set(memo.spent) == {"testgen", "cluster", "limits"} and all(v >= 0 for v in memo.spent.values())
    assert memo.left("testgen", memo.spent["testgen"] + 1.0) == pytest.approx(1.0)
    assert memo.left("testgen", 0.0) == 0.0


def test_the_bench_solver_keeps_a_memo_per_problem_and_seed_for_budgeted_runs() -> None:
    from alphagen.commands import bench as bench_cmd

    solver = bench_cmd.LazyPipeline(object(), None, lambda *a: None)  # type: ignore[arg-type]
    first = solver._memo("a", 0)
    assert solver._memo("a", 0) is first and solver._memo("a", 1) is not first
    for k in range(bench_cmd.MEMOS_KEPT):
        solver._memo(f"p{k}", 0)
    # The oldest are dropped past MEMOS_KEPT: "a" again starts a fresh memo.
    assert len(solver._memos) == bench_cmd.MEMOS_KEPT and solver._memo("a", 0) is not first
