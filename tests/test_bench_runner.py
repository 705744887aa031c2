"""Bench runner and run directory: scores, errors recorded, resume without recomputing or counting twice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_bench_fakes import comparable, fake_judge, fake_problems, fake_solve, run_fake_bench

from alphagen.clustering import select
from alphagen.evaluation.metrics import pass_at_k
from alphagen.evaluation.runner import BenchConfig, run_bench
from alphagen.evaluation.store import RESULTS, RunDirError, RunStore, read_jsonl
from alphagen.evaluation.summary import build_summary
from alphagen.pipeline import SolveConfig


def test_scores_match_the_samples_and_errors_are_recorded(tmp_path: Path) -> None:
    records = run_fake_bench(tmp_path / "run", resume=False)
    # Five good problems, the crashing one and the unreadable file: all recorded, the run went on.
    assert set(records) == {"p0", "p1", "p2", "p3-boom", "p4", "p5", "problems/bad.json"}
    assert records["p3-boom"]["status"] == "error" and records["p3-boom"]["error_kind"] == "solve"
    assert "fake model crashed" in records["p3-boom"]["error"]
    assert records["problems/bad.json"]["error_kind"] == "load"
    for name in ("p0", "p1", "p2", "p4", "p5"):
        r = records[name]
        problem = next(p for p in fake_problems() if p.name == name)
        result = fake_solve(problem, BenchConfig(SolveConfig(n=12, seed=7)), 7)
        # "correct" means: passed the examples and every hidden test (every copy of a correct program counts).
        correct = sum(1 for c in result.candidates if c.code.startswith("correct"))
        assert r["n"] == 12 and r["correct"] == correct
        assert r["pass_at_k"]["1"] == pytest.approx(correct / 12)
        assert r["pass_at_k"]["4"] == pytest.approx(pass_at_k(12, correct, 4))
        # The real picks are judged: solved iff a pick is a correct program, at the first such rank.
        ranks = [p.rank for p in result.picks if p.code.startswith("correct")]
        assert r["solved"] == bool(ranks) and r["first_passing_rank"] == (ranks[0] if ranks else None)
        # n@K with all samples re-derives the run's own picks.
        assert r["n_at_k"]["12"] == (1.0 if ranks else 0.0)
    assert records["p0"]["correct"] == 0 and not records["p0"]["solved"]
    assert records["p5"]["solved"]


def test_summary_aggregates_over_scored_problems(tmp_path: Path) -> None:
    records = run_fake_bench(tmp_path / "run", resume=False)
    ordered = list(records.values())
    s = build_summary(ordered, selected=len(ordered), config={"n": 12, "num_picks": 10})
    ok = [r for r in ordered if r["status"] == "ok"]
    assert s["problems"] == {"selected": 7, "finished": 7, "scored": 5, "errors": 2, "pending": 0,
                             "solved": sum(r["solved"] for r in ok)}
    assert s["metrics"]["pass@k"]["1"] == pytest.approx(sum(r["correct"] / 12 for r in ok) / 5)
    assert s["metrics"]["solve_rate_10@n"] == pytest.approx(sum(r["solved"] for r in ok) / 5)
    assert [c["k"] for c in s["curve"]] == [1, 2, 4, 8, 10, 12]
    # The curve never decreases with the budget (more samples cannot hurt pass@k).
    pk = [c["pass@k"] for c in s["curve"]]
    assert pk == sorted(pk)
    passed = sum(r["passed_examples"] for r in ok)
    assert s["metrics"]["example_pass_rate"] == pytest.approx(passed / 60)
    assert s["timing"]["stage_seconds"]["sample"] == pytest.approx(2.5)
    assert s["timing"]["samples_per_second"] == pytest.approx(60 / 2.5)
    assert {e["name"] for e in s["errors"]} == {"p3-boom", "problems/bad.json"}


class Interrupt(BaseException):
    """Stands in for Ctrl-C (BaseException, like KeyboardInterrupt: the runner must not swallow it)."""


def test_resume_after_interrupt_is_identical_and_skips_finished_work(tmp_path: Path) -> None:
    reference = run_fake_bench(tmp_path / "ref", resume=False)
    run = tmp_path / "run"
    cfg = BenchConfig(SolveConfig(n=12, seed=7), draws=50)
    calls: list[str] = []

    def solve_then_stop(problem: Any, c: BenchConfig, seed: int, checkpoint: Any = None) -> Any:
        calls.append(problem.name)
        return fake_solve(problem, c, seed)

    judged: list[str] = []

    def judge_until_p4(problem: Any, code: str, language: str) -> Any:
        # Interrupted while judging p4: its samples are stored, its verdicts partly.
        if problem.name == "p4" and len([j for j in judged if j == "p4"]) == 1:
            raise Interrupt()
        judged.append(problem.name)
        return fake_judge(problem, code, language)

    with pytest.raises(Interrupt), RunStore(run, cfg.to_dict(), False, ("n",)) as store:
        run_bench(fake_problems(), [("problems/bad.json", "bad")], cfg, store, solve_then_stop,
                  judge_until_p4, select)
    assert {r["name"] for r in read_jsonl(run / RESULTS)} == {
        "problems/bad.json", "p0", "p1", "p2", "p3-boom"}
    # Resume: finished problems are not solved again, and p4 reuses its stored samples.
    calls.clear()
    with RunStore(run, cfg.to_dict(), True, ("n",)) as store:
        resumed = run_bench(fake_problems(), [("problems/bad.json", "bad")], cfg, store, solve_then_stop,
                            fake_judge, select)
    assert calls == ["p5"]
    assert comparable(resumed) == comparable(
        {k: v | ({"error": "bad"} if k == "problems/bad.json" else {}) for k, v in reference.items()}
    )
    # Every problem committed exactly once.
    names = [r["name"] for r in read_jsonl(run / RESULTS)]
    assert sorted(names) == sorted(set(names))


def test_torn_lines_after_kill_are_tolerated(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_fake_bench(run, resume=False, count=3)
    # A kill -9 mid-write leaves half a line in results.jsonl and in a problem's event log.
    with open(run / RESULTS, "a") as f:
        f.write('{"name": "p9", "status": "o')
    with open(run / "problems" / "p2.jsonl", "a") as f:
        f.write('{"event": "verd')
    records = run_fake_bench(run, resume=True, count=4)
    assert set(records) == {"problems/bad.json", "p0", "p1", "p2", "p3-boom"}
    lines = (run / RESULTS).read_text().splitlines()
    # The fragment was cut off, so the next record started on its own line and every line parses.
    assert all(json.loads(line)["name"] for line in lines) and len(lines) == 5


def test_run_directory_guards(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run_fake_bench(run, resume=False, count=1)
    with pytest.raises(RunDirError, match="already exists and is not empty"):
        RunStore(run, {"n": 12}, False, ("n",))
    with pytest.raises(RunDirError, match="settings differ.*n: run has 12, now 16"):
        RunStore(run, {"n": 16}, True, ("n",))
    with pytest.raises(RunDirError, match="--resume needs an existing run directory"):
        RunStore(tmp_path / "nothing", {"n": 12}, True, ("n",))
    # One writer at a time.
    with RunStore(run, {"n": 12, "seed": 7, "draws": 50}, True, ("n",)):
        with pytest.raises(RunDirError, match="in use by another"):
            RunStore(run, {"n": 12}, True, ("n",))


def test_bench_config_validation() -> None:
    # The solve settings are SolveConfig's own checks; BenchConfig checks only what it adds.
    with pytest.raises(ValueError, match="draws must be >= 1, got 0"):
        BenchConfig(draws=0)
    with pytest.raises(ValueError, match="dtype must be auto, fp32 or bf16"):
        BenchConfig(dtype="fp16")


def test_bench_config_is_flat_and_old_runs_resume_only_with_their_settings(tmp_path: Path) -> None:
    from alphagen.evaluation.runner import COMPARE_KEYS, as_current

    cfg = BenchConfig(SolveConfig(n=12, seed=7), draws=50)
    config = cfg.to_dict()
    # Flat keys, as config.json always had them, plus the settings bench did not record before.
    assert config["n"] == 12 and config["seed"] == 7 and config["draws"] == 50 and config["dtype"] == "auto"
    assert config["test_sources"] == ["mutation", "random", "model", "generator"]
    assert set(COMPARE_KEYS) == set(config)
    # A run directory written before top_p/dtype/test_sources/prefill were recorded (an fp32 run with the old
    # prompts) refuses the new defaults, saying why: its unfinished problems would get other prompts.
    old = {k: config[k] for k in ("n", "seed", "temperature", "language", "max_new_tokens", "num_picks",
                                   "ranking", "model", "draws", "quantize")}
    run = tmp_path / "old"
    run.mkdir()
    (run / "config.json").write_text(json.dumps(old))
    now = SolveConfig().prefill
    with pytest.raises(RunDirError, match=f"prefill: run has 'legacy', now '{now}', fallback: run has False, now True, "
                       "limit_probe: run has False, now True, dtype: run has 'fp32', now 'auto', window_samples: run "
                       "has 0, now 128"):
        RunStore(run, config, True, COMPARE_KEYS, as_current)
    # Only the keys it lacks fall back to what such runs used; with those, it resumes.
    with RunStore(run, config | {"dtype": "fp32", "prefill": "legacy", "fallback": False, "window_samples": 0,
                                 "limit_probe": False}, True,
                  COMPARE_KEYS,
                  as_current):
        pass
    # Runs before session 18 recorded the default model as null: the 0.5B they loaded. Named, it resumes; the
    # 1.5B (today's default where installed) is refused.
    (run / "config.json").write_text(json.dumps(config))
    with RunStore(run, config | {"model": "qwen2.5-coder-0.5b"}, True, COMPARE_KEYS, as_current):
        pass
    with pytest.raises(RunDirError, match="model: run has 'qwen2.5-coder-0.5b', now 'qwen2.5-coder-1.5b'"):
        RunStore(run, config | {"model": "qwen2.5-coder-1.5b"}, True, COMPARE_KEYS, as_current)


def _nothing_passes(problem: Any, cfg: BenchConfig, seed: int, checkpoint: Any = None) -> Any:
    """Four programs, none passing every example: 'right' fails example 2 (wrong example, or a near miss)."""
    from alphagen.results import Candidate, SolveResult

    cands = [Candidate(index=i, language="python", code=code, passed_examples=False, example_status="wrong_answer",
                       examples_passed=passed, failed_example=passed, signature=code if passed else None)
             for i, (code, passed) in enumerate([("correct-right", 1), ("wrong-a", 1), ("wrong-b", 0),
                                                 ("correct-late", 0)])]
    return SolveResult(problem=problem.name, candidates=tuple(cands), picks=tuple(select(cands, cfg.num_picks)),
                       stages=(), num_clusters=2, seed=seed)


def test_fallback_picks_count_only_where_the_examples_are_not_tests(tmp_path: Path) -> None:
    from alphagen.problems.model import HiddenTests, Problem, Test

    stdio = Problem(name="stdio", description="d", public_tests=(Test("1\n", "1\n"), Test("2\n", "2\n")))
    # HumanEval's shape: the docstring's examples public, `check`'s asserts hidden, and the harness itself.
    harness = Problem(name="fn", description="d", kind="function", entry_point="f", signature="def f(x):\n",
                      public_tests=(Test("[1]", "1"),), private_tests=HiddenTests((Test("[2]", "2"),)),
                      test_code="def check(candidate):\n    assert candidate(2) == 2\n")
    judged: list[tuple[str, str]] = []

    def judge(problem: Any, code: str, language: str) -> Any:
        judged.append((problem.name, code))
        return fake_judge(problem, code, language)

    cfg = BenchConfig(SolveConfig(n=4, seed=0), draws=10)
    with RunStore(tmp_path / "run", cfg.to_dict(), False, ("n", "seed")) as store:
        records = run_bench([stdio, harness], [], cfg, store, _nothing_passes, judge, select)
    # On a stdio judge the examples are the first tests: the fallback picks are rejected without running.
    # (Two clusters of one: the shorter program's first.)
    assert [(p["candidate"], p["passed"], p["num_tests"]) for p in records["stdio"]["picks"]] == [(1, False, 0),
                                                                                                  (0, False, 0)]
    assert not records["stdio"]["solved"] and records["stdio"]["correct"] == 0
    assert all(name != "stdio" for name, _ in judged)
    # Judged by its own harness (HumanEval), every program is judged and a fallback pick can be right.
    assert sorted(code for name, code in judged if name == "fn") == ["correct-late", "correct-right", "wrong-a",
                                                                      "wrong-b"]
    assert records["fn"]["first_passing_rank"] == 2 and records["fn"]["correct"] == 2
    assert records["fn"]["n_at_k"]["4"] == 1.0
