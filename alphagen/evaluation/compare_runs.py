"""Average clustering-vs-random picks over several bench runs (one per seed) into one table and one JSON object.

    python -m alphagen.evaluation.compare_runs RUN_DIR... [--out FILE]

Each run contributes its mean solve rate per pick count j for three rules: the run's real ranked picks
(clustering, first j), j random distinct survivors, j random survivor samples (see `alphagen.evaluation.picks`).
The table (stderr) and the JSON (stdout, last line; also written to --out) give the mean over runs with every
run's own value. Runs scored before `picks_vs_random` existed are re-scored from their stored samples and
verdicts, so every finished run directory can be compared. All runs must cover the same problems with the
same n and number of picks, otherwise a mean over seeds would mix different benchmarks.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from alphagen.console import console
from alphagen.evaluation.picks import RULES, aggregate, compare_picks
from alphagen.evaluation.runner import as_current, stored_state
from alphagen.evaluation.store import CONFIG, PROBLEMS, RESULTS, read_jsonl, safe_name
from alphagen.statuses import RunStatus


class CompareError(Exception):
    """Run directories that cannot be averaged (missing, unfinished, different benchmarks)."""


@dataclass(frozen=True)
class RunPicks:
    """One run directory's per-problem clustering-vs-random records."""

    path: Path
    config: dict[str, Any]
    per_problem: dict[str, dict[str, Any]]
    """picks_vs_random record by problem name (problems that finished without error)."""
    errors: tuple[str, ...]
    """Problems that errored (excluded from the rates, listed in the output)."""
    seconds: float = 0.0
    """Pipeline + judging seconds summed over the scored problems (what a seed costs)."""

    def __post_init__(self) -> None:
        if not self.per_problem:
            raise CompareError(f"{self.path}: no scored problem")


def load_run(path: Path) -> RunPicks:
    """Read a run directory without writing to it (a running bench may hold it)."""
    if not (path / CONFIG).is_file():
        raise CompareError(f"{path} is not a bench run directory (no {CONFIG})")
    config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    per_problem: dict[str, dict[str, Any]] = {}
    errors = []
    seconds = 0.0
    # A name committed twice keeps its last record, as the bench itself reads results.jsonl.
    records = {str(r["name"]): r for r in read_jsonl(path / RESULTS) if "name" in r}
    for name, rec in records.items():
        if rec.get("status") != RunStatus.OK:
            errors.append(name)
            continue
        seconds += sum(rec["timing"]["stages"].values()) + rec["timing"]["judge"]
        pvr = rec.get("picks_vs_random")
        if pvr is None:
            # Scored before the comparison existed: re-derive it from the stored samples and verdicts.
            result, verdicts = stored_state(read_jsonl(path / PROBLEMS / f"{safe_name(name)}.jsonl"))
            if result is None:
                raise CompareError(f"{path}: {name} has a result but no stored samples")
            pvr = compare_picks(result, verdicts, int(config.get("num_picks", 10)))
        per_problem[name] = pvr
    return RunPicks(path, config, per_problem, tuple(errors), round(seconds, 1))


def combine(runs: Sequence[RunPicks]) -> dict[str, Any]:
    """Mean over runs (each run weighted equally: one seed, one value) with the per-run values."""
    if not runs:
        raise CompareError("need at least one run directory")
    first = runs[0]
    for run in runs[1:]:
        # Averaging over seeds only means something for the same benchmark at the same settings.
        for key in ("n", "num_picks", "model", "quantize", "temperature", "ranking", "language"):
            ours, theirs = as_current(run.config).get(key), as_current(first.config).get(key)
            if ours != theirs:
                raise CompareError(f"{run.path}: {key}={ours!r}, but {first.path} has {theirs!r}")
        if set(run.per_problem) != set(first.per_problem):
            diff = sorted(set(run.per_problem) ^ set(first.per_problem))
            raise CompareError(f"{run.path} and {first.path} scored different problems: {', '.join(diff)}")
    aggs: list[dict[str, Any]] = []
    for run in runs:
        agg = aggregate(list(run.per_problem.values()))
        # Never None here (every scored problem has a record), but say so rather than crash on a subscript.
        if agg is None:
            raise CompareError(f"{run.path}: no clustering-vs-random records")
        aggs.append(agg)
    counts = aggs[0]["pick_counts"]
    table: dict[str, Any] = {}
    for rule in RULES + ("contested",):
        table[rule] = {
            str(j): {
                "mean": round(sum(a[rule][str(j)] for a in aggs) / len(aggs), 6),
                "per_run": [a[rule][str(j)] for a in aggs],
            }
            for j in counts
        }
    names = sorted(first.per_problem)
    return {
        "runs": [{"path": str(r.path), "seed": r.config.get("seed"), "errors": list(r.errors),
                  "seconds": r.seconds} for r in runs],
        "config": {k: first.config.get(k) for k in ("n", "num_picks", "model", "quantize", "temperature",
                                                     "ranking", "language")},
        "problems": names,
        "pick_counts": counts,
        **table,
        "per_problem": {
            name: {
                "survivors": [r.per_problem[name]["survivors"] for r in runs],
                "survivors_correct": [r.per_problem[name]["survivors_correct"] for r in runs],
                **{rule: {str(j): round(sum(r.per_problem[name][rule][str(j)] for r in runs) / len(runs), 6)
                          for j in counts} for rule in RULES},
            }
            for name in names
        },
    }


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def render(combined: dict[str, Any]) -> Table:
    """Rows: pick counts; cells: mean over runs, then each run's value."""
    cfg = combined["config"]
    seeds = ", ".join(str(r["seed"]) for r in combined["runs"])
    table = Table(title=f"clustering vs random picks · n={cfg['n']} · {len(combined['problems'])} problems · "
                        f"seeds {seeds}")
    for col in ("picks", "clustering", "random (distinct)", "random (samples)", "clustering - random",
                "contested"):
        table.add_column(col, justify="right")
    for j in combined["pick_counts"]:
        cells = []
        for rule in RULES:
            v = combined[rule][str(j)]
            cells.append(f"{_pct(v['mean'])}  ({' '.join(_pct(x) for x in v['per_run'])})")
        gain = combined["clustering"][str(j)]["mean"] - combined["random"][str(j)]["mean"]
        contested = combined["contested"][str(j)]["per_run"]
        table.add_row(str(j), *cells, f"{100 * gain:+.1f} pts", " ".join(map(str, contested)))
    return table


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Average clustering-vs-random picks over bench runs.")
    ap.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="bench run directories (one per seed)")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON object to this file")
    args = ap.parse_args(argv)
    try:
        combined = combine([load_run(p) for p in args.runs])
    except CompareError as e:
        ap.exit(2, f"error: {e}\n")
    console.print(render(combined))
    if args.out is not None:
        args.out.write_text(json.dumps(combined, indent=1) + "\n", encoding="utf-8")
    # stdout is for data: the figures as one JSON object on the last line.
    print(json.dumps(combined))


if __name__ == "__main__":
    main()
