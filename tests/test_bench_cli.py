"""`alphagen bench` end to end on real CodeContests problems, with the real sandbox and judge.

Only the model is replaced: a fake solver "samples" from a pool of known programs (the reference solution, a
harmless rewrite of it, and wrong or broken programs) and filters them on the examples in the real sandbox.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alphagen.cli import main
from alphagen.clustering import select
from alphagen.evaluation.runner import BenchConfig
from alphagen.evaluation.store import safe_name
from alphagen.problems import load_problem
from alphagen.problems.model import Problem
from alphagen.results import Candidate, SolveResult, StageStat

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "codecontests"
FILES = ["cc_1147_a_hide_and_seek_1786.json", "cc_438_a_the_child_and_toy_459.json"]
pytestmark = pytest.mark.skipif(not (DATA / FILES[0]).exists(), reason="no shared CodeContests sample")


def pool_solver(executor: Any, *args: Any) -> Any:
    from alphagen.judging import judge

    def solve_fn(problem: Problem, cfg: BenchConfig, seed: int, checkpoint: Any = None) -> SolveResult:
        ref = problem.solutions[0].code
        pool = [ref, ref + "\n# same program\n", "print(0)", "import sys\nsys.exit(1)", "def broken(:\n"]
        rng = random.Random(f"{seed}:{problem.name}")
        first: dict[str, int] = {}
        cands: list[Candidate] = []
        for i in range(cfg.n):
            code = rng.choice(pool)
            dup = first.setdefault(code, i)
            # The examples run in the real sandbox; duplicates inherit their original's result.
            passed = judge(executor, problem, code, "python", tests=problem.public_tests).passed if dup == i \
                else cands[dup].passed_examples
            sig = ("ref" if code.startswith(ref) else code) if passed and dup == i else None
            cands.append(Candidate(index=i, language="python", code=code,
                                   duplicate_of=None if dup == i else dup, passed_examples=passed,
                                   signature=sig, cpu_s=0.01 * len(code)))
        picks = select(cands, cfg.num_picks)
        return SolveResult(problem=problem.name, candidates=tuple(cands), picks=tuple(picks),
                           stages=(StageStat("sample", 1.0, cfg.n, cfg.n),), seed=seed,
                           num_clusters=len({c.signature for c in cands if c.signature}))

    return solve_fn


def test_bench_directory_with_a_malformed_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import alphagen.commands.bench as bench_cmd

    monkeypatch.setattr(bench_cmd, "lazy_pipeline", pool_solver)
    problems = tmp_path / "problems"
    problems.mkdir()
    for f in FILES:
        shutil.copy(DATA / f, problems / f)
    (problems / "broken.json").write_text('{"name": "broken", "description": ')
    run = tmp_path / "run"
    args = ["bench", str(problems), "-n", "8", "--out", str(run), "--seed", "3", "--json"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary == json.loads((run / "summary.json").read_text())
    assert summary["problems"] == {"selected": 3, "finished": 3, "scored": 2, "errors": 1, "pending": 0,
                                        "solved": summary["problems"]["solved"]}
    (err,) = summary["errors"]
    assert err["kind"] == "load" and "broken.json" in err["name"]
    lines = (run / "results.jsonl").read_text().splitlines()
    records = {json.loads(line)["name"]: json.loads(line) for line in lines}
    for f in FILES:
        problem = load_problem(problems / f)
        rec = records[problem.name]
        # Real judging: solved iff a copy of the reference was sampled (it passes, and it is always picked).
        log = run / "problems" / f"{safe_name(problem.name)}.jsonl"
        events = [json.loads(x) for x in log.read_text().splitlines()]
        (samples,) = [e for e in events if e["event"] == "samples"]
        codes = [c["code"] for c in samples["result"]["candidates"]]
        ref_copies = sum(c.startswith(problem.solutions[0].code) for c in codes)
        assert rec["correct"] == ref_copies and rec["solved"] == (ref_copies > 0)
        assert all(p["num_tests"] == len(problem.hidden_tests()) for p in rec["picks"])
    assert (run / "report.html").stat().st_size > 1000 and (run / "solve_rate.png").stat().st_size > 1000
    # Resume of a finished run recomputes nothing and refuses different settings.
    def no_solving(*args: Any) -> Any:
        return lambda *a: pytest.fail("a resume of a finished run solved a problem again")

    monkeypatch.setattr(bench_cmd, "lazy_pipeline", no_solving)
    res = CliRunner().invoke(main, args + ["--resume"])
    assert res.exit_code == 0, res.output
    assert len((run / "results.jsonl").read_text().splitlines()) == 3
    res = CliRunner().invoke(main, ["bench", str(problems), "-n", "4", "--out", str(run), "--resume"])
    assert res.exit_code != 0 and "settings differ" in res.output and "n: run has 8, now 4" in res.output


def test_problem_selection_by_glob_and_limit() -> None:
    from alphagen.commands.bench import select_problems
    from alphagen.problems.errors import ProblemError

    problems = [Problem(name=n, description="d") for n in ("cc_a", "cc_b", "he_0", "cc_c")]
    errors = [ProblemError("dir/cc_bad.json", None, "invalid JSON"), ProblemError("dir/x.json", None, "bad")]
    chosen, errs = select_problems(problems, errors, "cc_*", 2)
    assert [p.name for p in chosen] == ["cc_a", "cc_b"]
    assert errs == [("dir/cc_bad.json", "dir/cc_bad.json: invalid JSON")]


def test_bench_budget_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import alphagen.commands.bench as bench_cmd

    monkeypatch.setattr(bench_cmd, "lazy_pipeline", pool_solver)
    problems = tmp_path / "problems"
    problems.mkdir()
    for f in FILES:
        shutil.copy(DATA / f, problems / f)
    run = tmp_path / "run"
    args = ["bench", str(problems), "-n", "12", "--budget", "16", "--settle-min", "4", "--out", str(run), "--json"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    budget = summary["budget"]
    assert budget["total"] == 16 and budget["spent"] == sum(budget["samples"].values()) <= 16
    assert sum(row["problems"] for row in budget["by_need"].values()) == 2
    assert "budget: " in res.stderr and "problem 2/2" in res.stderr and "problem 3/" not in res.stderr
    records = [json.loads(x) for x in (run / "results.jsonl").read_text().splitlines()]
    assert all(r["rounds"][0] == 4 and r["n"] == r["rounds"][-1] for r in records)
