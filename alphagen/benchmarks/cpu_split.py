"""CPU split benchmark: how many cores go to torch (sampling) and how many to sandbox workers, end to end.

On a CPU machine the sampler and the sandbox share the cores: torch's intra-op threads run the model while the
sandbox's worker slots run candidates (on the examples while sampling goes on, then on the generated inputs).
This benchmark runs the same `alphagen bench` (same problems, seed and -n) once per split, each in its own
process (torch sizes its thread pool at start-up, from OMP_NUM_THREADS), and reports wall time per stage,
samples/s end to end, the speed against the default split, and whether each split picked the same programs.

    python -m alphagen.benchmarks.cpu_split [PROBLEM_FILE ...] [-n 16] [--splits 2x2,2x1,1x1,1x2] [--json]

A split `TxW` is T torch threads and W sandbox workers. Each split's run lives under `--work` and is resumed,
so an interrupted benchmark continues where it stopped; a finished split is not run again. Writes
runs/BENCH_CPU_SPLIT.json (`--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alphagen.evaluation.store import read_jsonl

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PROBLEMS = ("sum-of-two", "max-in-array", "river-boats", "bfs-distances")
"""Four shipped problems (two quick, two with graphs): a run of about 4 minutes per split at -n 16 on 2 cores."""


def parse_splits(text: str) -> list[tuple[int, int]]:
    """``"2x2,2x1"`` -> [(2, 2), (2, 1)]; each part is THREADSxWORKERS with both >= 1 (repeats dropped)."""
    splits: list[tuple[int, int]] = []
    for part in text.split(","):
        try:
            t, w = (int(x) for x in part.strip().lower().split("x"))
        except ValueError:
            raise ValueError(f"--splits must be THREADSxWORKERS[,...], got {part!r}") from None
        if t < 1 or w < 1:
            raise ValueError(f"--splits threads and workers must be >= 1, got {part!r}")
        splits.append((t, w))
    return list(dict.fromkeys(splits))


def bench_command(python: str, files: Sequence[str], n: int, seed: int, workers: int, out: Path) -> list[str]:
    """The `alphagen bench` call for one split (resumed when its run directory has a summary)."""
    cmd = [python, "-c", "from alphagen.cli import main; main()", "bench", *files, "-n", str(n), "--seed", str(seed),
           "--workers", str(workers), "--out", str(out)]
    if (out / "summary.json").exists():
        cmd.append("--resume")
    return cmd


def read_run(out: Path) -> dict[str, Any]:
    """Timing, 10@n and each problem's picks from a finished bench run directory."""
    summary = json.loads((out / "summary.json").read_text())
    picks: dict[str, list[Any]] = {}
    for rec in read_jsonl(out / "results.jsonl"):
        picks[rec["name"]] = [p.get("candidate") for p in rec.get("picks", [])]
    return {"complete": summary.get("complete", False), "timing": summary["timing"],
            "metrics": summary["metrics"], "picks": picks}


def run_split(threads: int, workers: int, args: argparse.Namespace) -> dict[str, Any]:
    """One `alphagen bench` in a fresh process with this split; its timing, solve rate and picks."""
    out = Path(args.work) / f"t{threads}-w{workers}"
    done = (out / "summary.json").exists() and read_run(out)["complete"]
    if not done:
        cmd = bench_command(sys.executable, args.files, args.n, args.seed, workers, out)
        # torch sizes its intra-op pool from OMP_NUM_THREADS when it starts; MKL follows the same variable.
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
        # The bench's progress (stderr) shows through: a split takes minutes.
        proc = subprocess.run(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL)
        if proc.returncode != 0:
            raise SystemExit(f"bench for split {threads}x{workers} failed (exit {proc.returncode}); see its output "
                             f"above, and rerun to resume it")
    run = read_run(out)
    timing = run["timing"]
    return {
        "split": f"{threads}x{workers}",
        "threads": threads,
        "workers": workers,
        "total_seconds": timing["total_seconds"],
        "stage_seconds": timing["stage_seconds"],
        "samples_per_second_end_to_end": timing["samples_per_second_end_to_end"],
        "ten_at_n": run["metrics"]["10@k"][str(args.n)],
        "picks": run["picks"],
    }


def summarize(rows: list[dict[str, Any]], default: str) -> dict[str, Any]:
    """Speed of each split against the default one (ratio of total seconds), same picks or not, the best."""
    base = next(r for r in rows if r["split"] == default)
    out = []
    for r in rows:
        out.append({**{k: v for k, v in r.items() if k != "picks"},
                    "speed_vs_default": round(base["total_seconds"] / r["total_seconds"], 3),
                    "same_picks_as_default": r["picks"] == base["picks"]})
    best = max(out, key=lambda r: r["speed_vs_default"])
    return {"default_split": default, "best_split": best["split"], "rows": out}


def main(argv: Sequence[str] | None = None) -> int:
    cores = os.cpu_count() or 1
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="problem files (default: four shipped problems)")
    ap.add_argument("-n", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    spare = max(1, cores - 1)
    ap.add_argument("--splits", default=f"{cores}x{cores},{cores}x1,{spare}x1,{spare}x{cores}",
                    help="comma list of THREADSxWORKERS (default: all cores to both, to torch with 1 worker, "
                    "one core kept back from torch with 1 or all workers)")
    ap.add_argument("--work", default=str(REPO / "runs" / "cpu_split"))
    ap.add_argument("--out", default=str(REPO / "runs" / "BENCH_CPU_SPLIT.json"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    args.files = args.files or [str(REPO / "problems" / f"{p}.json") for p in DEFAULT_PROBLEMS]
    try:
        splits = parse_splits(args.splits)
    except ValueError as e:
        ap.error(str(e))
    # The default split is what a user gets with no flags: torch on every core, one sandbox worker per core.
    default = (cores, cores)
    if default not in splits:
        splits.insert(0, default)
    rows = []
    for threads, workers in splits:
        row = run_split(threads, workers, args)
        rows.append(row)
        print(f"{row['split']}: {row['total_seconds']:.1f} s, "
              f"{row['samples_per_second_end_to_end']:.3f} samples/s end to end", file=sys.stderr, flush=True)
    result = {"benchmark": "cpu_split", "cores": cores, "files": [Path(f).name for f in args.files],
              "n": args.n, "seed": args.seed, **summarize(rows, f"{default[0]}x{default[1]}")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result))
    else:
        for r in result["rows"]:
            print(f"{r['split']}  {r['total_seconds']:8.1f} s  x{r['speed_vs_default']:.3f}  "
                  f"{r['samples_per_second_end_to_end']:.3f} samples/s  same picks: {r['same_picks_as_default']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
