"""`alphagen solve` as a user meets it, with a tiny random model (fast): honest verdicts, readable output."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from alphagen.cli import main
from tests.tiny_model import build_tiny_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_dir(tmp_path_factory.mktemp("tiny"))


def _solve(tiny_dir: Path, problem: Path, *extra: str) -> object:
    args = ["solve", str(problem), "--model", str(tiny_dir), "-n", "2", "--max-new-tokens", "8",
            "--device", "cpu", "--dtype", "fp32", "--workers", "1", *extra]
    return CliRunner().invoke(main, args)


def test_wrong_examples_are_said_and_exit_1(tiny_dir: Path, tmp_path: Path) -> None:
    # sum-of-two with a wrong expected output: no sample can pass, and the reference fails its own examples.
    problem = json.loads((ROOT / "problems" / "sum-of-two.json").read_text())
    problem["public_tests"][0]["output"] = "4\n"
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(problem))
    res = _solve(tiny_dir, path, "--json")
    assert res.exit_code == 1, res.output
    assert res.stdout == ""
    err = " ".join(res.stderr.split())
    assert "no sample passed the examples" in err
    assert "reference solution 1 fails the problem's own examples: test 1/2: wrong answer" in err
    assert "alphagen check" in err
    # The summary line once, not twice.
    assert err.count("sampled ·") == 1


def test_unsolved_with_good_examples_names_the_likely_causes(tiny_dir: Path) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _solve(tiny_dir, ROOT / "problems" / "sum-of-two.json", "--no-json")
    # The sampler calls transformers the current way: no deprecation warning (issue #15 item 4).
    assert not [w for w in caught if "past_key_values" in str(w.message)]
    assert "past_key_values" not in res.stderr
    assert res.exit_code == 1, res.output
    err = " ".join(res.stderr.split())
    assert "no sample passed the examples" in err and "likely causes" in err
    assert "fails the problem's own examples" not in err
    # Piped stderr: one line per stage instead of bars, and lines are not cut at 80 columns.
    assert "sampling programs… (2 expected)" in err and "running examples: " in err
    long_line = [line for line in res.stderr.splitlines() if "likely causes" in line]
    assert long_line and len(long_line[0]) > 80
    # The human summary on stdout explains its in/out columns.
    assert "in/out: what entered and left each stage" in res.stdout
    assert "passed examples" in res.stdout and "1 clusters" not in res.stdout


def test_fallback_picks_are_printed_marked_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pipeline stands in (it is tested on its own): nothing passed every example, one program passed the most.
    from types import SimpleNamespace

    import alphagen.pipeline as pipeline
    from alphagen.clustering import select
    from alphagen.results import Candidate, SolveResult

    def fake_solve(problem: object, cfg: pipeline.SolveConfig, **kw: object) -> SolveResult:
        cands = (Candidate(0, "python", "print(3)\n", passed_examples=False, example_status="wrong_answer",
                           examples_passed=1, signature="a"),
                 Candidate(1, "python", "1/0\n", passed_examples=False, example_status="runtime_error"))
        picks = select(cands, cfg.num_picks, fallback=cfg.fallback)
        return SolveResult("sum-of-two", cands, tuple(picks), (), num_clusters=len(picks))

    lm = SimpleNamespace(name="fake", device="cpu", dtype="float32")
    monkeypatch.setattr(pipeline.Models, "load", classmethod(lambda cls, *a, **k: cls(lm, None)))  # type: ignore[arg-type]
    monkeypatch.setattr(pipeline, "solve", fake_solve)
    res = CliRunner().invoke(main, ["solve", str(ROOT / "problems" / "sum-of-two.json"), "--json", "--workers", "1"])
    assert res.exit_code == 1, res.output
    [rec] = [json.loads(line) for line in res.stdout.splitlines()]
    assert rec["code"] == "print(3)\n" and rec["passed_examples"] is False
    err = " ".join(res.stderr.split())
    assert "no sample passed the examples" in err and "the picks are the programs that passed the most" in err
    # With the strict filter nothing is printed.
    res = CliRunner().invoke(main, ["solve", str(ROOT / "problems" / "sum-of-two.json"), "--json", "--workers", "1",
                                    "--no-fallback"])
    assert res.exit_code == 1 and res.stdout == "" and "nothing to submit" in " ".join(res.stderr.split())
