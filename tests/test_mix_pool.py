"""`python -m alphagen.benchmarks.mix_pool`: a mix's samples taken from two stored runs, as MixSampler draws them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphagen.benchmarks.mix_pool import write_mix
from alphagen.evaluation.runner import BenchConfig
from alphagen.evaluation.store import read_jsonl


def _run(root: Path, model: str | None, codes: list[str], **config: object) -> Path:
    (root / "problems").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps(BenchConfig().to_dict() | {"model": model, "n": len(codes)}
                                                 | config))
    cands = [{"index": i, "code": code, "language": "python", "duplicate_of": None, "passed_examples": True}
             for i, code in enumerate(codes)]
    steps = [{"event": "pool", "stage": {"name": "fresh", "candidates": cands[:2], "seconds": 2.0}},
             {"event": "pool", "stage": {"name": "fresh-2", "candidates": cands[2:], "seconds": 4.0}},
             {"event": "pool", "stage": {"name": "repair", "candidates": [], "seconds": 9.0}}]
    (root / "problems" / "p.jsonl").write_text("".join(json.dumps(s) + "\n" for s in steps))
    return root


def test_groups_come_from_alternate_runs_and_are_deduplicated_again(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", None, ["print(1)\n", "print(2)\n", "print(3)\n", "print(4)\n"], samples_per_prompt=2)
    b = _run(tmp_path / "b", "big", ["print(9)\n", "print(8)\n", "print(1)\n", "print(7)\n"], samples_per_prompt=2)
    got = write_mix(tmp_path / "mix", a, b, n=4, group=2)
    assert got == {"problems": 1, "model": "qwen2.5-coder-0.5b,big", "n": 4, "samples_from": [2, 2]}
    config = json.loads((tmp_path / "mix" / "config.json").read_text())
    assert config["model"] == "qwen2.5-coder-0.5b,big" and config["n"] == 4
    (event,) = read_jsonl(tmp_path / "mix" / "problems" / "p.jsonl")
    pool = event["stage"]["candidates"]
    # Samples 0-1 are a's, 2-3 b's, each at its own index; b's #2 repeats a's #0 and is marked so.
    assert [(c["index"], c["code"], c["duplicate_of"]) for c in pool] == [
        (0, "print(1)\n", None), (1, "print(2)\n", None), (2, "print(1)\n", 0), (3, "print(7)\n", None)]
    # Sampling seconds: each sample's share of its step in its own run (1 s each from a, 2 s each from b).
    assert event["stage"]["seconds"] == pytest.approx(6.0)


def test_refused_without_writing_anything(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", None, ["print(1)\n"] * 4, samples_per_prompt=2)
    b = _run(tmp_path / "b", "big", ["print(2)\n"] * 4, samples_per_prompt=2, temperature=0.3)
    with pytest.raises(ValueError, match="differ only in the model, got temperature too"):
        write_mix(tmp_path / "mix", a, b, n=4, group=2)
    c = _run(tmp_path / "c", "big", ["print(2)\n"] * 4, samples_per_prompt=2)
    with pytest.raises(ValueError, match="sample 4 is missing from run 1"):
        write_mix(tmp_path / "mix", a, c, n=8, group=2)
    with pytest.raises(ValueError, match="two models, got qwen2.5-coder-0.5b for both"):
        write_mix(tmp_path / "mix", a, a, n=4, group=2)
    with pytest.raises(ValueError, match="samples per prompt"):
        write_mix(tmp_path / "mix", a, c, n=4, group=8)
    assert not (tmp_path / "mix").exists()


def test_the_mix_estimate_combines_unbiased_pass_at_k() -> None:
    from alphagen.benchmarks.mix_estimate import curve, expected, pass_at

    assert pass_at(16, 1, 8) == pytest.approx(0.5) and pass_at(4, 0, 4) == 0.0 and pass_at(4, 2, 0) == 0.0
    assert pass_at(64, 2, 64) == 1.0
    with pytest.raises(ValueError, match="k must be in"):
        pass_at(4, 1, 5)
    # Problem x: A right 1 in 4; problem y: B right 1 in 2; z: neither.
    a = {"x": (4, 1), "y": (4, 0), "z": (4, 0)}
    b = {"x": (2, 0), "y": (2, 1), "z": (2, 0)}
    assert expected(a, b, 4, 0) == pytest.approx(1 / 3)
    assert expected(a, b, 2, 1) == pytest.approx((0.5 + 0.5) / 3)
    assert expected(a, b, 4, 2) == pytest.approx(2 / 3)
    rows = curve(a, b, cpu_a=1.0, cpu_b=3.0)
    # Every split up to each run's n, cheapest first.
    assert [(r["k_a"], r["k_b"]) for r in rows][:3] == [(1, 0), (2, 0), (0, 1)]
    assert len(rows) == 4 * 3 - 1 and rows[-1] == {"k_a": 4, "k_b": 2, "cpu_s_per_problem": 10.0,
                                                    "expected_coverage": round(2 / 3, 4)}
    with pytest.raises(ValueError, match="share no finished problem"):
        expected(a, {"w": (2, 1)}, 1, 1)
