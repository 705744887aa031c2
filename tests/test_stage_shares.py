"""Each stage's share of a problem's solve time, summarized over a bench run (#29)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alphagen.benchmarks.stage_shares import line, run_shares, summarize


def _record(name: str, **stages: float) -> dict[str, Any]:
    return {"name": name, "status": "ok", "timing": {"stages": stages, "judge": 50.0, "judged": 1}}


def test_shares_are_per_problem_then_summarized() -> None:
    records = [
        _record("quick", sample=90.0, testgen=5.0, cluster=5.0),
        # Cheap in the run's total, but 60% of its own solve: the per-problem max shows it.
        _record("contest", sample=30.0, testgen=45.0, cluster=0.0),
        _record("nothing", sample=0.0),  # no time: left out
        {"name": "broken", "status": "error", "error": "x"},  # no timing: left out
    ]
    s = summarize(records)
    assert s["problems"] == 2
    assert s["mean"]["testgen"] == round((0.05 + 0.6) / 2, 4) and s["max"]["testgen"] == 0.6
    assert s["max_problem"]["testgen"] == "contest" and s["over_target"] == ["contest"]
    # Judging is not a cost of solving: not among the stages.
    assert "judge" not in s["mean"]


def test_sampling_stages_are_exempt_and_a_resumed_problem_counts_once() -> None:
    records = [_record("a", sample=10.0, repair=30.0, testgen=1.0), _record("a", sample=10.0, testgen=10.0)]
    s = summarize(records)
    assert s["problems"] == 1 and s["mean"]["testgen"] == 0.5 and s["over_target"] == ["a"]
    assert summarize([_record("b", sample=10.0, repair=30.0, speedup=30.0, testgen=1.0)])["over_target"] == []


def test_run_directory(tmp_path: Path) -> None:
    lines = [json.dumps(_record(n, sample=3.0, testgen=1.0)) for n in ("x", "y")]
    (tmp_path / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    row = run_shares(tmp_path)
    assert row["stage_shares"]["mean"] == {"sample": 0.75, "testgen": 0.25}
    assert line(row) == ("stage shares over 2 problems: sample 75.0% (max 75.0%), testgen 25.0% (max 25.0%); "
                         "0 with a stage but sampling over 25%")
