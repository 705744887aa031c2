"""The expected solve rate of a mix of two models at each split of a budget, from two finished runs (#29).

    python -m alphagen.benchmarks.mix_estimate RUN_A RUN_B --cpu-a S --cpu-b S [--out FILE]

Each run gives, per problem, n samples and c of them right on the hidden tests. Drawing k_a samples from model A and
k_b from B, a problem is covered with probability 1 - (1 - pass@k_a(A)) * (1 - pass@k_b(B)), each pass@k the
unbiased estimate from that run's n and c (Chen et al. 2021), so the curve does not depend on which indices a
mix happens to give each model (at -n 16 with one right sample in 16, one split of eight and eight holds it and
the other does not). Coverage is an upper bound on the solve rate with 10 picks; on the contest rows every problem
with a right sample was solved by a pick. `--cpu-a`/`--cpu-b` are each run's CPU-seconds per sample, all stages (the
coverage benchmark's CPU-seconds per problem over n), so the splits compare at equal cost.
"""

from __future__ import annotations

import argparse
import json
from math import comb
from pathlib import Path
from typing import Any

from alphagen.atomic import write_atomic
from alphagen.evaluation.store import read_jsonl


def pass_at(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples, c right; k must be at most n."""
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, n={n}], got {k}")
    return 0.0 if c == 0 or k == 0 else 1.0 - comb(n - c, k) / comb(n, k)


def counts(run: Path) -> dict[str, tuple[int, int]]:
    """Per finished problem of a bench run: (samples, right samples)."""
    return {str(r["name"]): (int(r["n"]), int(r["correct"])) for r in read_jsonl(run / "results.jsonl")
            if r.get("status") == "ok"}


def expected(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]], ka: int, kb: int) -> float:
    """Expected share of the problems both runs hold that k_a samples of A and k_b of B cover."""
    names = sorted(set(a) & set(b))
    if not names:
        raise ValueError("the two runs share no finished problem")
    return sum(1.0 - (1.0 - pass_at(*a[p], ka)) * (1.0 - pass_at(*b[p], kb)) for p in names) / len(names)


def curve(a: dict[str, tuple[int, int]], b: dict[str, tuple[int, int]], cpu_a: float, cpu_b: float
          ) -> list[dict[str, Any]]:
    """Every split (k_a, k_b) in powers of two (and 0) up to each run's n: its CPU-seconds and expected rate."""
    na, nb = min(n for n, _ in a.values()), min(n for n, _ in b.values())
    ks_a = [0] + [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= na]
    ks_b = [0] + [k for k in (1, 2, 4, 8, 16, 32, 64, 128, 256) if k <= nb]
    rows = [{"k_a": ka, "k_b": kb, "cpu_s_per_problem": round(ka * cpu_a + kb * cpu_b, 1),
             "expected_coverage": round(expected(a, b, ka, kb), 4)}
            for ka in ks_a for kb in ks_b if ka or kb]
    return sorted(rows, key=lambda r: (r["cpu_s_per_problem"], -r["expected_coverage"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_a", type=Path)
    ap.add_argument("run_b", type=Path)
    ap.add_argument("--cpu-a", type=float, required=True, help="run A's CPU-seconds per sample")
    ap.add_argument("--cpu-b", type=float, required=True, help="run B's CPU-seconds per sample")
    ap.add_argument("--out", type=Path, default=None, help="also write the curve here as JSON")
    args = ap.parse_args()
    try:
        rows = curve(counts(args.run_a), counts(args.run_b), args.cpu_a, args.cpu_b)
    except (ValueError, OSError, KeyError) as e:
        ap.error(str(e))
    # The frontier: each split that covers more than every cheaper one.
    best = -1.0
    for r in rows:
        mark = " *" if r["expected_coverage"] > best else ""
        best = max(best, r["expected_coverage"])
        print(f"A {r['k_a']:>3} + B {r['k_b']:>3}  {r['cpu_s_per_problem']:>7.1f} CPU-s  "
              f"{100 * r['expected_coverage']:5.1f}%{mark}")
    if args.out is not None:
        write_atomic(args.out, json.dumps({"run_a": str(args.run_a), "run_b": str(args.run_b),
                                           "cpu_a": args.cpu_a, "cpu_b": args.cpu_b, "curve": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
