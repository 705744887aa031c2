"""Aggregate finished problems into the run's summary: solve rates, the solve-rate curve, stage timings.

Rates are over problems that finished without error; errors are counted and listed, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alphagen.evaluation.metrics import mean
from alphagen.evaluation.picks import aggregate
from alphagen.statuses import RunStatus

SUMMARY_VERSION = 1


def _mean(values: Sequence[float]) -> float | None:
    # Six decimals: enough for any benchmark size, and 0.375 stays 0.375 instead of 0.37499999999999994.
    m = mean(values)
    return None if m is None else round(m, 6)


def _common_ks(records: Sequence[dict[str, Any]], key: str) -> list[int]:
    # Only budgets every scored problem has (runs use one n, but be safe when mixing): no partial averages.
    sets = [set(r[key]) for r in records]
    common = set.intersection(*sets) if sets else set()
    return sorted(int(k) for k in common)


def _timing(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    stages: dict[str, float] = {}
    for r in records:
        for name, secs in r["timing"]["stages"].items():
            stages[name] = stages.get(name, 0.0) + float(secs)
    judge_s = sum(float(r["timing"]["judge"]) for r in records)
    samples = sum(int(r["n"]) for r in records)
    total_s = sum(stages.values()) + judge_s
    sample_s = stages.get("sample", 0.0)
    return {
        "stage_seconds": {k: round(v, 3) for k, v in stages.items()},
        "judge_seconds": round(judge_s, 3),
        "total_seconds": round(total_s, 3),
        "samples": samples,
        "samples_per_second": round(samples / sample_s, 3) if sample_s > 0 else None,
        "samples_per_second_end_to_end": round(samples / total_s, 3) if total_s > 0 else None,
        "seconds_per_problem": round(total_s / len(records), 3) if records else None,
    }


def build_summary(
    records: Sequence[dict[str, Any]],
    selected: int,
    config: dict[str, Any],
    interrupted: bool = False,
) -> dict[str, Any]:
    """summary.json for the given finished records (in problem order) out of `selected` problems."""
    ok = [r for r in records if r.get("status") == RunStatus.OK]
    errors = [r for r in records if r.get("status") != RunStatus.OK]
    pass_ks = _common_ks(ok, "pass_at_k")
    n_ks = _common_ks(ok, "n_at_k")
    total_samples = sum(int(r["n"]) for r in ok)
    passed = sum(int(r["passed_examples"]) for r in ok)
    num_picks = config.get("num_picks", 10)
    curve = [
        {
            "k": k,
            f"{num_picks}@k": _mean([r["n_at_k"][str(k)] for r in ok]),
            "pass@k": _mean([r["pass_at_k"][str(k)] for r in ok]) if k in pass_ks else None,
        }
        for k in n_ks
    ]
    return {
        "version": SUMMARY_VERSION,
        "config": config,
        "complete": len(records) >= selected and not interrupted,
        "problems": {
            "selected": selected,
            "finished": len(records),
            "scored": len(ok),
            "errors": len(errors),
            "pending": max(0, selected - len(records)),
            "solved": sum(1 for r in ok if r["solved"]),
        },
        "metrics": {
            f"solve_rate_{num_picks}@n": _mean([1.0 if r["solved"] else 0.0 for r in ok]),
            "top1_solve_rate": _mean([1.0 if r["top1"] else 0.0 for r in ok]),
            "pass@k": {str(k): _mean([r["pass_at_k"][str(k)] for r in ok]) for k in pass_ks},
            f"{num_picks}@k": {str(k): _mean([r["n_at_k"][str(k)] for r in ok]) for k in n_ks},
            "example_pass_rate": round(passed / total_samples, 6) if total_samples else None,
            "filtered_out_rate": round(1 - passed / total_samples, 6) if total_samples else None,
            "mean_clusters": _mean([float(r["num_clusters"]) for r in ok]),
            "mean_correct_samples": _mean([float(r["correct"]) for r in ok]),
            # Clustering's first j picks against j random survivors (None for records scored before it).
            "picks_vs_random": aggregate([r.get("picks_vs_random") for r in ok]),
        },
        "curve": curve,
        "timing": _timing(ok),
        "errors": [{"name": r["name"], "kind": r.get("error_kind"), "error": r.get("error")} for r in errors],
        "per_problem": [
            {
                "name": r["name"],
                "status": r["status"],
                "solved": r.get("solved"),
                "top1": r.get("top1"),
                "first_passing_rank": r.get("first_passing_rank"),
                "n": r.get("n"),
                "passed_examples": r.get("passed_examples"),
                "correct": r.get("correct"),
                "clusters": r.get("num_clusters"),
                "error": r.get("error"),
                "error_kind": r.get("error_kind"),
            }
            for r in records
        ],
    }
