"""The repair benchmark's own machinery: samples shared between arms (drawn once, replayed exactly), the arm
order, the comparison and its verdict, and one whole run with the tiny random model (resumed, nothing redrawn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphagen.benchmarks.repair import CachingSampler, arms, compare, main
from alphagen.sampling import PromptRequest, SamplingParams
from tests.test_repair import ScriptedModel
from tests.tiny_model import build_tiny_dir

POOL = ["print(1)\n", "print(2)\n", "print(3)\n"]


def test_cached_samples_are_replayed_and_only_the_missing_ones_drawn(tmp_path: Path) -> None:
    params = SamplingParams(seed=3)
    inner = ScriptedModel(POOL)
    cache = CachingSampler(inner, tmp_path / "cache.jsonl")
    first = sorted((c.sample_index, c.text) for c in cache.sample([PromptRequest("p", 4)], params))
    assert cache.drawn == 4 and cache.reused == 0
    # A second sampler over the same file (a resumed or later arm): samples 0-3 replayed, 4-5 drawn.
    inner2 = ScriptedModel(POOL)
    again = CachingSampler(inner2, tmp_path / "cache.jsonl")
    got = list(again.sample([PromptRequest("p", 6)], params))
    assert sorted((c.sample_index, c.text) for c in got)[:4] == first
    assert again.reused == 4 and again.drawn == 2
    assert [(r.first_index, r.count) for r in inner2.requests] == [(4, 2)]
    assert all(c.request_index == 0 for c in got)
    # Other params or another prompt are other samples.
    assert sum(1 for _ in again.sample([PromptRequest("p", 2)], SamplingParams(seed=4))) == 2
    assert again.drawn == 4


def test_arm_order_draws_the_shared_samples_first() -> None:
    order = [(a.set, a.seed, a.n, a.share) for a in arms(["shipped"], [16, 32], [0.5, 0.0], [0, 1])]
    assert order[:4] == [("shipped", 0, 32, 0.0), ("shipped", 0, 32, 0.5), ("shipped", 0, 16, 0.0),
                         ("shipped", 0, 16, 0.5)]
    assert len(order) == 8


def test_comparison_and_its_verdict() -> None:
    def arm(s: str, seed: int, share: float, solved: float) -> dict[str, object]:
        return {"set": s, "n": 16, "seed": seed, "repair_share": share, "10@n": solved, "top1": solved,
                "pass@1": solved / 2}

    rows = [arm("a", 0, 0, 0.3), arm("a", 0, 0.5, 0.4), arm("a", 1, 0, 0.3), arm("a", 1, 0.5, 0.36),
            arm("b", 0, 0, 0.5), arm("b", 0, 0.5, 0.5), arm("b", 1, 0, 0.5), arm("b", 1, 0.5, 0.48)]
    c = compare(rows)
    assert c["deltas"]["a"]["n=16"]["share 0.5 vs 0"]["10@n"] == [0.1, 0.06]
    assert c["raised_by_target"] == ["a n=16 share 0.5 vs 0"]
    # b's -0.01 mean is within two standard errors of 0 (0.02 in one seed, 0 in the other).
    assert c["lowered_beyond_noise"] == [] and c["target_met"]
    worse = compare([arm("a", 0, 0, 0.5), arm("a", 0, 0.5, 0.4)])
    assert worse["lowered_beyond_noise"] == ["a n=16 share 0.5 vs 0"] and not worse["target_met"]


@pytest.mark.timeout(300)
def test_a_tiny_benchmark_runs_and_resumes(tmp_path: Path) -> None:
    model = build_tiny_dir(tmp_path / "tiny")
    args = ["--sets", "shipped", "--limit", "1", "--n", "4", "--shares", "0,0.5", "--seeds", "0", "--model",
            str(model), "--dtype", "fp32", "--workers", "1", "--work", str(tmp_path / "work"), "--out",
            str(tmp_path / "BENCH_REPAIR.json"), "--draws", "5", "--max-new-tokens", "12",
            "--test-sources", "mutation"]
    report = main(args)
    assert report == json.loads((tmp_path / "BENCH_REPAIR.json").read_text())
    assert report["complete"] and report["what_was_run"]["sets"]["shipped"]["problems"] == 1
    (base, rep) = report["arms"]
    assert (base["repair_share"], rep["repair_share"]) == (0.0, 0.5)
    assert base["samples"] == rep["samples"] == 4
    # The random model never passes an example: the repair arm spends half its budget on repairs, and its fresh
    # samples are the baseline's first two, replayed from the cache (4 + 2 drawn, 2 reused).
    assert rep["repairs"] == 2 and base["repairs"] == 0
    assert report["samples_drawn_this_run"] == 6 and report["samples_reused_this_run"] == 2
    assert "shipped" in report["comparison"]["deltas"]
    # Run again: every arm resumes complete, nothing is drawn.
    again = main(args)
    assert again["samples_drawn_this_run"] == 0
    assert [a["10@n"] for a in again["arms"]] == [a["10@n"] for a in report["arms"]]
