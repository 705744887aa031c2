"""The CPU split benchmark's pure parts: split parsing, the bench command per split, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphagen.benchmarks.cpu_split import bench_command, parse_splits, read_run, summarize


def test_splits_parse_and_refuse_bad_ones() -> None:
    assert parse_splits("2x2, 2x1,1X1,2x2") == [(2, 2), (2, 1), (1, 1)]
    for bad in ("2", "2x", "axb", "0x1", "1x0"):
        with pytest.raises(ValueError, match="--splits"):
            parse_splits(bad)


def test_a_split_with_a_summary_resumes(tmp_path: Path) -> None:
    cmd = bench_command("py", ["a.json"], 16, 0, 1, tmp_path)
    assert cmd[3:] == ["bench", "a.json", "-n", "16", "--seed", "0", "--workers", "1", "--out", str(tmp_path)]
    (tmp_path / "summary.json").write_text("{}")
    assert bench_command("py", ["a.json"], 16, 0, 1, tmp_path)[-1] == "--resume"


def test_summary_compares_each_split_with_the_default(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(
        {"complete": True, "timing": {"total_seconds": 10.0}, "metrics": {"10@k": {"16": 0.5}}}))
    (tmp_path / "results.jsonl").write_text(json.dumps({"name": "p", "picks": [{"candidate": 3}]}) + "\n")
    run = read_run(tmp_path)
    assert run["complete"] and run["picks"] == {"p": [3]}
    rows = [
        {"split": "2x2", "total_seconds": 100.0, "picks": {"p": [3]}},
        {"split": "1x1", "total_seconds": 80.0, "picks": {"p": [4]}},
    ]
    out = summarize(rows, "2x2")
    assert out["best_split"] == "1x1"
    assert [r["speed_vs_default"] for r in out["rows"]] == [1.0, 1.25]
    assert [r["same_picks_as_default"] for r in out["rows"]] == [True, False]
    assert all("picks" not in r for r in out["rows"])
