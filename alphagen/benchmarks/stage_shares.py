"""Each stage's share of a problem's solve time, over the problems of one bench run (#29).

The target of #29: no stage but sampling takes more than `TARGET` of a problem's cost. A run's summary gives the
stages' seconds summed over all problems, which hides a stage that is cheap on most problems and dominates a few
(762A: test inputs 58-64% of its solve, 2.9% of the whole set's). So the shares are taken per problem first, then
summarized: the mean share of each stage and its largest share with the problem that has it.

A problem's time is the sum of its recorded stage seconds (`results.jsonl`: `timing.stages`, what
`alphagen.pipeline` times); judging on hidden tests is left out, since it is the benchmark's measurement, not a
cost of solving. Stage seconds are wall seconds: on a shared machine they are a proxy for CPU-seconds (the
coverage benchmark measures the run's CPU-seconds as a whole, not per stage).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alphagen.evaluation.store import RESULTS, read_jsonl

TARGET = 0.25
"""The largest share of a problem's time any stage but sampling may take."""
SAMPLING = frozenset({"sample", "repair", "speedup"})
"""The stages that draw programs from the model: the cost the budget is meant to buy, exempt from the target."""


def problem_shares(record: dict[str, Any]) -> dict[str, float] | None:
    """One result record's stage shares of its solve time; None for an error record or one that took no time."""
    stages = record.get("timing", {}).get("stages")
    if not isinstance(stages, dict):
        return None
    total = sum(float(v) for v in stages.values())
    if total <= 0:
        return None
    return {name: float(secs) / total for name, secs in stages.items()}


def summarize(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Mean and max share per stage over the records, the problem with the max, and the problems where a stage
    but sampling is over TARGET."""
    # A resumed run may hold a problem twice; its last record is the one that counts.
    latest = {str(r.get("name")): r for r in records}
    per_problem = {name: s for name, r in latest.items() if (s := problem_shares(r)) is not None}
    stages = sorted({st for s in per_problem.values() for st in s})
    count = len(per_problem)
    mean = {st: round(sum(s.get(st, 0.0) for s in per_problem.values()) / count, 4) for st in stages}
    top = {st: max(per_problem, key=lambda name: per_problem[name].get(st, 0.0)) for st in stages}
    over = sorted(name for name, s in per_problem.items()
                  if any(v > TARGET for st, v in s.items() if st not in SAMPLING))
    return {
        "problems": count,
        "mean": mean,
        "max": {st: round(per_problem[top[st]].get(st, 0.0), 4) for st in stages},
        # The problem where a stage takes its largest share (none for a stage that never took any time).
        "max_problem": {st: name if per_problem[name].get(st, 0.0) > 0 else None for st, name in top.items()},
        "target": TARGET,
        "over_target": over,
    }


def run_shares(run_dir: Path) -> dict[str, Any]:
    """The summary of one bench run directory's results (see `summarize`), under the key "stage_shares"."""
    return {"stage_shares": summarize(read_jsonl(run_dir / RESULTS))}


def line(shares: dict[str, Any]) -> str:
    """One human line: each stage's mean and max share, and how many problems break the target."""
    s = shares["stage_shares"]
    parts = [f"{st} {100 * s['mean'][st]:.1f}% (max {100 * s['max'][st]:.1f}%)" for st in s["mean"]]
    return (f"stage shares over {s['problems']} problems: " + ", ".join(parts)
            + f"; {len(s['over_target'])} with a stage but sampling over {100 * s['target']:.0f}%")
