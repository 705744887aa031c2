"""Clustering picks against random example-passing picks: exact baseline, stored per problem, averaged over runs."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from test_bench_fakes import fake_judge, fake_problems, fake_solve

from alphagen.clustering import select
from alphagen.evaluation.compare_runs import CompareError, combine, load_run, main
from alphagen.evaluation.picks import compare_picks, pick_counts, random_solve
from alphagen.evaluation.records import VerdictRecord
from alphagen.evaluation.report import metric_rows
from alphagen.evaluation.runner import BenchConfig, run_bench
from alphagen.evaluation.store import RESULTS, RunStore, append_jsonl, read_jsonl
from alphagen.evaluation.summary import build_summary
from alphagen.pipeline import SolveConfig
from alphagen.results import Candidate, Pick, SolveResult


def test_random_solve_is_the_exact_chance_over_all_draws() -> None:
    # Every size-j subset of s survivors equally likely: count the subsets holding a correct one.
    for s, c in [(1, 0), (1, 1), (4, 1), (6, 2), (9, 7), (12, 3)]:
        pool = [True] * c + [False] * (s - c)
        for j in (1, 2, 5, 10):
            subsets = list(itertools.combinations(pool, min(j, s)))
            exact = sum(any(sub) for sub in subsets) / len(subsets)
            assert random_solve(s, c, j) == pytest.approx(exact), (s, c, j)
    assert random_solve(0, 0, 10) == 0.0
    assert random_solve(4, 1, 1) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="picks must be >= 1"):
        random_solve(3, 1, 0)


def test_pick_counts_include_the_runs_own() -> None:
    assert pick_counts(10) == [1, 2, 5, 10]
    assert pick_counts(3) == [1, 2, 3]
    assert pick_counts(20) == [1, 2, 5, 10, 20]
    with pytest.raises(ValueError, match="num_picks must be >= 1"):
        pick_counts(0)


def _cand(i: int, code: str, passed: bool, dup: int | None = None) -> Candidate:
    return Candidate(index=i, language="python", code=code, duplicate_of=dup, passed_examples=passed)


def _pick(rank: int, cand: int) -> Pick:
    return Pick(rank=rank, candidate=cand, language="python", code="", cluster_id=rank, cluster_size=1, score=1.0)


def _verdict(passed: bool) -> VerdictRecord:
    return VerdictRecord(passed=passed, status="ok" if passed else "wrong_answer",
                         num_passed=2 if passed else 0, num_tests=2)


def test_clustering_counts_the_first_j_real_picks_and_random_uses_the_survivors() -> None:
    # Survivors: wrong A (index 0, plus 3 copies), right B (1), wrong C (2); D (4) fails the examples.
    cands = (_cand(0, "A", True), _cand(1, "B", True), _cand(2, "C", True), _cand(3, "A", True, 0),
             _cand(4, "D", False), _cand(5, "A", True, 0), _cand(6, "A", True, 0))
    verdicts = {0: _verdict(False), 1: _verdict(True), 2: _verdict(False)}
    # The ranking put the (frequent) wrong program first and the right one second; given out of order.
    result = SolveResult(problem="p", candidates=cands, picks=(_pick(2, 1), _pick(1, 3), _pick(3, 2)), stages=())
    rec = compare_picks(result, verdicts, num_picks=10)
    assert rec["pick_counts"] == [1, 2, 5, 10]
    assert rec["clustering"] == {"1": 0.0, "2": 1.0, "5": 1.0, "10": 1.0}
    # Distinct survivors: 3 programs, 1 right; samples: 6 survivors (A four times), 1 right.
    assert (rec["survivors"], rec["survivors_correct"]) == (3, 1)
    assert (rec["survivor_samples"], rec["survivor_samples_correct"]) == (6, 1)
    assert rec["random"]["1"] == pytest.approx(1 / 3) and rec["random"]["2"] == pytest.approx(2 / 3)
    assert rec["random"]["5"] == 1.0
    assert rec["random_samples"]["1"] == pytest.approx(1 / 6)
    assert rec["random_samples"]["2"] == pytest.approx(1 - (5 * 4) / (6 * 5))


def _run(root: Path, seed: int, count: int = 6) -> Path:
    cfg = BenchConfig(SolveConfig(n=12, seed=seed), draws=20)
    with RunStore(root, cfg.to_dict(), False, ("n", "seed", "draws")) as store:
        run_bench(fake_problems(count), [], cfg, store, fake_solve, fake_judge, select)
    return root


def test_runner_stores_it_and_the_summary_and_report_show_it(tmp_path: Path) -> None:
    run = _run(tmp_path / "r", seed=3)
    records = [r for r in read_jsonl(run / RESULTS) if r["status"] == "ok"]
    for r in records:
        pvr = r["picks_vs_random"]
        # With every pick submitted the clustering column is the run's own solved flag.
        assert pvr["clustering"]["10"] == (1.0 if r["solved"] else 0.0)
        # A problem without a correct survivor is unsolved by any rule.
        if pvr["survivors_correct"] == 0:
            assert pvr["random"]["1"] == 0.0 and not r["solved"]
    summary = build_summary(records, len(records), BenchConfig(SolveConfig(n=12)).to_dict())
    agg = summary["metrics"]["picks_vs_random"]
    assert agg["problems"] == len(records)
    for rule in ("clustering", "random", "random_samples"):
        assert agg[rule]["1"] == pytest.approx(
            sum(r["picks_vs_random"][rule]["1"] for r in records) / len(records), abs=1e-6)
    rows = dict(metric_rows(summary))
    assert rows["1 pick: clustering / random"].startswith(f"{100 * agg['clustering']['1']:.1f}% / ")
    # Records scored before the comparison existed give no partial average.
    old = [{k: v for k, v in r.items() if k != "picks_vs_random"} for r in records]
    assert build_summary(old, len(old), BenchConfig(SolveConfig(n=12)).to_dict())["metrics"]["picks_vs_random"] is None


def test_compare_averages_runs_and_rescores_old_ones(tmp_path: Path, capsys: Any) -> None:
    runs = [_run(tmp_path / f"s{seed}", seed) for seed in (1, 2)]
    loaded = [load_run(r) for r in runs]
    assert loaded[0].errors == ("p3-boom",)
    # What a seed cost: the fake stages take 0.81 s per scored problem (5 of them), plus judging.
    assert loaded[0].seconds >= round(5 * 0.81, 1)
    combined = combine(loaded)
    assert combined["pick_counts"] == [1, 2, 5, 10]
    for rule in ("clustering", "random", "random_samples"):
        for j in ("1", "10"):
            per_run = [sum(p[rule][j] for p in r.per_problem.values()) / len(r.per_problem) for r in loaded]
            assert combined[rule][j]["per_run"] == pytest.approx(per_run, abs=1e-6)
            assert combined[rule][j]["mean"] == pytest.approx(sum(per_run) / 2, abs=1e-6)

    # A run scored before picks_vs_random existed is re-scored from its stored samples: same figures.
    old = tmp_path / "old"
    old.mkdir()
    for name in ("config.json", "problems"):
        (old / name).symlink_to((runs[0] / name).resolve())
    for r in read_jsonl(runs[0] / RESULTS):
        append_jsonl(old / RESULTS, {k: v for k, v in r.items() if k != "picks_vs_random"})
    assert load_run(old).per_problem == loaded[0].per_problem

    # The CLI: table on stderr, the JSON object as stdout's last line and in --out.
    out = tmp_path / "picks.json"
    main([str(r) for r in runs] + ["--out", str(out)])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last) == json.loads(out.read_text()) == json.loads(json.dumps(combined))


def test_compare_refuses_runs_of_different_benchmarks(tmp_path: Path) -> None:
    a, b = _run(tmp_path / "a", 1), _run(tmp_path / "b", 2, count=5)
    with pytest.raises(CompareError, match="different problems: p5"):
        combine([load_run(a), load_run(b)])
    with pytest.raises(CompareError, match="not a bench run directory"):
        load_run(tmp_path)
    with pytest.raises(SystemExit):
        main([str(a), str(tmp_path)])
