"""Discrimination benchmark: do the generated inputs separate wrong programs from the reference?

For every problem in the stored set (`wrong_programs/set.json`, built by `wrong_programs.build`): the Python
reference, its correct variant(s), and plausible wrong programs that pass the public examples but fail a hidden
test. All of them are "survivors" to the test-input stage, which never sees hidden tests. For each source setting
(mutation only, random only, mutation + random, model inputs only, generator programs only, all together) we
generate inputs, run every program on them, and compare normalized output signatures (crashes and timeouts
included, as clustering does):

    separated_wrong_fraction   wrong programs whose signature differs from the reference's (higher is better)
    split_correct_fraction     correct variants whose signature differs from the reference's (lower is better)

Hidden-equivalent mutants (pass every hidden test) are reported apart: splitting one is not an error.

    python -m alphagen.benchmarks.testgen [--json] [--problems SUBSTR ...] [--limit K] [--work DIR] [--sources
    mutation,random,all]

The default setting is `all`, what the pipeline uses by default (mutation + random + model + generator; it loads
the embedded test-input model). Per source, the JSON reports how many inputs it proposed, how many were
well-formed (read in the learned format) and how many of those an example or an earlier source already had
(`duplicate`), how many new ones were checked and valid (passed the validator and the clean-run check), kept
(within `max_inputs`), how many wrong programs its kept inputs separate on their own (`separated_alone`), and
the seconds it spent proposing; for generators also how many programs were sampled, compiled, printed
anything, printed a well-formed input and printed a valid one.

Each problem's figures are appended to a record under `--work` (default runs/testgen) as it is scored, with a
progress line on stderr; run the same command again after an interruption and it resumes at the next problem.
Records are keyed by the settings and a hash of the test-input, sampling and clustering code, so a changed
default or a code change starts afresh (`--no-resume` ignores them).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alphagen import clustering
from alphagen.benchmarks.records import ProblemRecords, code_fingerprint
from alphagen.benchmarks.wrong_programs import mutants as mu
from alphagen.benchmarks.wrong_programs.build import CODECONTESTS, REPO, STORE, reference, sha
from alphagen.problems import Problem, load_problems
from alphagen.problems.harness import compare_options, limits_for, program_for
from alphagen.prompting import Tokenizer
from alphagen.testgen import TestGenConfig, generate_test_inputs
from sandbox import BatchExecutor, Executor, Program

if TYPE_CHECKING:
    from alphagen.sampling.factory import Sampler

SETTINGS: dict[str, tuple[str, ...]] = {
    "mutation": ("mutation",),
    "random": ("random",),
    "mutation+random": ("mutation", "random"),
    "model": ("model",),
    "generator": ("generator",),
    "all": ("mutation", "random", "model", "generator"),
}
MODEL_FREE = ("mutation", "random", "mutation+random")
MODEL_SOURCES = ("model", "generator")
MODELS_TOGETHER = "model+generator"
"""per_source key of the model sources' kept inputs taken together (in settings that run both)."""
"""Settings that need no test-input model (the rest load one)."""


@dataclass
class Case:
    """One problem's programs, in a fixed order: reference, correct variants, wrong, hidden-equivalent."""

    name: str
    problem: Problem
    reference: str
    correct: list[str]
    wrong: list[tuple[str, str]]
    """(description, source)."""
    equivalent: list[tuple[str, str]]

    def programs(self) -> list[str]:
        return [self.reference, *self.correct, *(s for _, s in self.wrong), *(s for _, s in self.equivalent)]


@dataclass
class Tally:
    """Counts for one source setting, summed over problems."""

    wrong: int = 0
    wrong_separated: int = 0
    correct: int = 0
    correct_split: int = 0
    equivalent: int = 0
    equivalent_split: int = 0
    inputs: int = 0
    distinguishing: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    kept: dict[str, int] = field(default_factory=dict)
    """Per source: inputs kept."""
    separated_alone: dict[str, int] = field(default_factory=dict)
    """Per source: wrong programs that source's kept inputs separate on their own."""
    sources: tuple[str, ...] = ()

    def add(self, other: Tally) -> None:
        """Add another tally's counts (one problem's) to this one."""
        for name in ("wrong", "wrong_separated", "correct", "correct_split", "equivalent", "equivalent_split",
                     "inputs", "distinguishing", "seconds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.counts, other.counts), (self.kept, other.kept),
                             (self.separated_alone, other.separated_alone)):
            for k, v in theirs.items():
                mine[k] = mine.get(k, 0) + v
        self.missed += other.missed
        self.sources = self.sources or other.sources

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Tally:
        return cls(**{**d, "sources": tuple(d.get("sources", ()))})

    def per_source(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for src in self.sources:
            alone = self.separated_alone.get(src, 0)
            c = {k: self.counts.get(f"{src}_{k}", 0) for k in ("proposed", "wellformed", "duplicate", "checked",
                                                               "valid")}
            out[src] = {
                "proposed": c["proposed"],
                "well_formed": c["wellformed"],
                "well_formed_fraction": _frac(c["wellformed"], c["proposed"]),
                "duplicate": c["duplicate"],
                # Valid among the new inputs that were checked (a duplicate is not checked again as this
                # source's; the check stops once max_inputs passed).
                "checked": c["checked"],
                "valid": c["valid"],
                "valid_fraction": _frac(c["valid"], c["checked"]),
                "kept": self.kept.get(src, 0),
                "separated_alone": alone,
                "separated_alone_fraction": _frac(alone, self.wrong),
                "seconds": round(self.counts.get(f"{src}_ms", 0) / 1000, 1),
            }
            if src == "generator":
                g = {k: self.counts.get(f"generator_{k}", 0) for k in ("sampled", "programs", "programs_printing",
                                                                       "programs_wellformed", "programs_valid",
                                                                       "plain_copies", "programs_valid_own")}
                out[src] |= g
                out[src]["programs_valid_fraction"] = _frac(g["programs_valid"], g["sampled"])
                # Counting only what the model wrote: copies of the prompt's plain body left out of both sides.
                out[src]["programs_valid_own_fraction"] = _frac(g["programs_valid_own"],
                                                                g["sampled"] - g["plain_copies"])
        if MODELS_TOGETHER in self.separated_alone:
            alone = self.separated_alone[MODELS_TOGETHER]
            out[MODELS_TOGETHER] = {
                "kept": sum(self.kept.get(src, 0) for src in MODEL_SOURCES),
                "separated_alone": alone,
                "separated_alone_fraction": round(alone / self.wrong, 4) if self.wrong else None,
            }
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "separated_wrong_fraction": round(self.wrong_separated / self.wrong, 4) if self.wrong else None,
            "split_correct_fraction": round(self.correct_split / self.correct, 4) if self.correct else None,
            "split_equivalent_fraction": (
                round(self.equivalent_split / self.equivalent, 4) if self.equivalent else None
            ),
            "wrong_programs": self.wrong,
            "correct_programs": self.correct,
            "equivalent_programs": self.equivalent,
            "inputs": self.inputs,
            "distinguishing_inputs": self.distinguishing,
            "seconds": round(self.seconds, 1),
            "per_source": self.per_source(),
            "counts": dict(sorted(self.counts.items())),
        }


def _frac(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def load_cases(patterns: Sequence[str], limit: int | None) -> list[Case]:
    """Rebuild the stored programs from their references (refusing a set built from another reference)."""
    data = json.loads(STORE.read_text())
    cases: list[Case] = []
    for entry in data["problems"]:
        name = entry["problem"]
        if patterns and not any(p in name for p in patterns):
            continue
        path = REPO / name if name.startswith("problems/") else CODECONTESTS / name.split("/", 1)[1]
        if not path.exists():
            continue
        problem = load_problems([path])[0]
        code = reference(problem)
        if code is None or sha(code) != entry["reference_sha"]:
            print(f"warning: {name}: reference changed since the set was built; rebuild it", file=sys.stderr)
            continue
        wrong = [(w["where"], mu.apply(code, mu.Site(w["op"], w["index"]))) for w in entry["wrong"]]
        equivalent = [(w["where"], mu.apply(code, mu.Site(w["op"], w["index"]))) for w in entry["equivalent"]]
        correct = [mu.renamed(code)] if "renamed" in entry["correct"] else []
        cases.append(Case(name, problem, code, correct, wrong, equivalent))
        if limit is not None and len(cases) >= limit:
            break
    return cases


class OutputCache:
    """Each (program, input) pair runs once, whatever setting proposed the input."""

    def __init__(self, executor: BatchExecutor) -> None:
        self.executor = executor
        self.keys: dict[tuple[int, str], str] = {}

    def keys_for(self, case: Case, programs: Sequence[Program], inputs: Sequence[str]) -> list[list[str]]:
        todo = [t for t in dict.fromkeys(inputs) if (0, t) not in self.keys]
        opts = compare_options(case.problem)
        norm = clustering.norm_from_tolerance(opts.float_abs, opts.float_rel, opts.case_insensitive)
        if todo:
            for r in self.executor.run_batch(list(programs), todo, limits_for(case.problem)):
                key = clustering.output_key(r.stdout, r.status.value, norm)
                self.keys[(r.program_index, todo[r.input_index])] = key
        return [[self.keys[(p, t)] for t in inputs] for p in range(len(programs))]


def score_case(
    case: Case,
    setting: str,
    tally: Tally,
    executor: BatchExecutor,
    cache: OutputCache,
    cfg: TestGenConfig,
    seed: int,
    sampler: Sampler | None,
    tokenizer: Tokenizer | None,
) -> None:
    programs = [program_for(case.problem, c, "python") for c in case.programs()]
    start = time.perf_counter()
    ti = generate_test_inputs(
        case.problem.public_view(),
        programs,
        executor,
        limits_for(case.problem),
        cfg,
        seed,
        sampler=sampler,
        tokenizer=tokenizer,
        validator=case.problem.validator,
    )
    keys = cache.keys_for(case, programs, ti.inputs)
    tally.seconds += time.perf_counter() - start
    sigs = [clustering.signature(k) for k in keys]
    ref = sigs[0]
    nc, nw = len(case.correct), len(case.wrong)
    tally.inputs += len(ti.inputs)
    tally.distinguishing += sum(1 for j in range(len(ti.inputs)) if len({k[j] for k in keys}) > 1)
    for k, v in ti.counts.items():
        tally.counts[k] = tally.counts.get(k, 0) + v
    tally.correct += nc
    tally.correct_split += sum(1 for s in sigs[1 : 1 + nc] if s != ref)
    tally.wrong += nw
    for (where, _), s in zip(case.wrong, sigs[1 + nc : 1 + nc + nw], strict=True):
        if s != ref:
            tally.wrong_separated += 1
        else:
            tally.missed.append(f"{case.name}: {where}")
    # Per source: its kept inputs alone, as if it were the only source (what it contributes by itself).
    tally.sources = cfg.sources
    for src in cfg.sources:
        cols = [j for j, s in enumerate(ti.sources) if s == src]
        tally.kept[src] = tally.kept.get(src, 0) + len(cols)
        sub = [clustering.signature([k[j] for j in cols]) for k in keys]
        alone = sum(1 for s in sub[1 + nc : 1 + nc + nw] if s != sub[0]) if cols else 0
        tally.separated_alone[src] = tally.separated_alone.get(src, 0) + alone
    # The two model sources together (direct inputs + generator programs): what the test-input model adds.
    model_cols = [j for j, s in enumerate(ti.sources) if s in MODEL_SOURCES]
    if len(set(cfg.sources) & set(MODEL_SOURCES)) == len(MODEL_SOURCES):
        sub = [clustering.signature([k[j] for j in model_cols]) for k in keys]
        alone = sum(1 for s in sub[1 + nc : 1 + nc + nw] if s != sub[0]) if model_cols else 0
        tally.separated_alone[MODELS_TOGETHER] = tally.separated_alone.get(MODELS_TOGETHER, 0) + alone
    tally.equivalent += len(case.equivalent)
    tally.equivalent_split += sum(1 for s in sigs[1 + nc + nw :] if s != ref)


def set_sha() -> str:
    """A short hash of the stored wrong-program set."""
    return hashlib.sha256(STORE.read_bytes()).hexdigest()[:16]


def load_sampler(spec: str | None) -> tuple[Any, Any]:
    from alphagen.models import load_model
    from alphagen.sampling import make_sampler

    lm = load_model(spec)
    return make_sampler(lm, backend="hf"), lm.tokenizer


def run(
    cases: Sequence[Case],
    settings: Sequence[str],
    seeds: Sequence[int],
    cfg_base: dict[str, Any],
    workers: int | None,
    model_spec: str | None,
    work: Path | None = None,
) -> dict[str, Any]:
    # Keyed by the whole test-input config (defaults included) and the code that computes the figures, so a
    # changed default or a code change starts new records.
    pkg = Path(__file__).resolve().parents[1]
    code = code_fingerprint([*(pkg / "testgen").glob("*.py"), *(pkg / "sampling").glob("*.py"), pkg / "clustering.py"])
    key = {"seeds": list(seeds), "model": model_spec, "set_sha": set_sha(), "code": code}
    cfgs = {s: TestGenConfig(sources=SETTINGS[s], **cfg_base) for s in settings}
    records = {s: ProblemRecords(work, s, {**key, "cfg": dataclasses.asdict(cfgs[s])}) for s in settings}
    needs_model = any(s not in MODEL_FREE and len(records[s].done) < len(cases) for s in settings)
    sampler, tokenizer = load_sampler(model_spec) if needs_model else (None, None)
    results: dict[str, Any] = {}
    with Executor(workers=workers) as ex:
        for setting in settings:
            tally = Tally()
            for k, case in enumerate(cases, 1):
                stored = records[setting].done.get(case.name)
                if stored is not None:
                    one = Tally.from_json(stored)
                else:
                    one = Tally()
                    cache = OutputCache(ex)
                    for seed in seeds:
                        score_case(case, setting, one, ex, cache, cfgs[setting], seed, sampler, tokenizer)
                    records[setting].record(case.name, one.to_json())
                # Progress on stderr, one line per problem (a model setting takes about half a minute each).
                print(f"[{k}/{len(cases)}] {setting} {case.name}: separated {one.wrong_separated}/{one.wrong} "
                      f"({one.seconds:.0f}s)", file=sys.stderr, flush=True)
                tally.add(one)
            results[setting] = tally
            print(
                f"{setting:10s} separated {tally.wrong_separated}/{tally.wrong} wrong, "
                f"split {tally.correct_split}/{tally.correct} correct, "
                f"{tally.equivalent_split}/{tally.equivalent} hidden-equivalent; {tally.inputs} inputs "
                f"({tally.distinguishing} distinguishing) in {tally.seconds:.0f}s",
                flush=True,
            )
    headline = results.get("all") or results[settings[-1]]
    return {
        "benchmark": "testgen-discrimination",
        "problems": len(cases),
        "seeds": list(seeds),
        "headline_setting": "all" if "all" in results else settings[-1],
        "separated_wrong_fraction": headline.as_dict()["separated_wrong_fraction"],
        "split_correct_fraction": headline.as_dict()["split_correct_fraction"],
        "per_setting": {s: t.as_dict() for s, t in results.items()},
        "missed_wrong": {s: t.missed for s, t in results.items()},
        "set_sha": set_sha(),
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line (see the module docstring)."""
    ap = argparse.ArgumentParser(description="Test-input discrimination benchmark (see module docstring).")
    ap.add_argument(
        "--json", action="store_true", help="print the figures as one JSON object on the last line"
    )
    ap.add_argument(
        "--problems", nargs="*", default=[], help="only problems whose name contains one of these"
    )
    ap.add_argument("--limit", type=int, default=None, help="at most K problems")
    ap.add_argument(
        "--sources",
        default="all",
        help="comma-separated settings among mutation, random, mutation+random, model, generator, all (model "
        "ones load the embedded model: slow on CPU). Default: all (what the pipeline uses by default)",
    )
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--model", default=None, help="test-input model spec (default: the embedded model)")
    ap.add_argument("--workers", type=int, default=None, help="sandbox workers (default: all cores)")
    # The pipeline's own defaults, so that the benchmark with no flags measures what a solve does.
    ap.add_argument("--num-model-samples", type=int, default=TestGenConfig.num_model_samples)
    ap.add_argument("--num-generator-programs", type=int, default=TestGenConfig.num_generator_programs)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON object to this file")
    ap.add_argument("--work", type=Path, default=REPO / "runs" / "testgen",
                    help="per-problem records, so an interrupted run resumes (default runs/testgen)")
    ap.add_argument("--no-resume", action="store_true", help="neither read nor write per-problem records")
    return ap


def main(argv: Sequence[str] | None = None) -> None:
    ap = build_parser()
    args = ap.parse_args(argv)
    settings = [s.strip() for s in args.sources.split(",") if s.strip()]
    for s in settings:
        if s not in SETTINGS:
            ap.error(f"--sources must be among {', '.join(SETTINGS)}, got {s!r}")
    cases = load_cases(args.problems, args.limit)
    if not cases:
        ap.error("no problems matched (is wrong_programs/set.json built?)")
    cfg_base = {
        "num_model_samples": args.num_model_samples,
        "num_generator_programs": args.num_generator_programs,
    }
    seeds = [int(s) for s in args.seeds.split(",")]
    print(
        f"{len(cases)} problems, {sum(len(c.wrong) for c in cases)} wrong programs, "
        f"{sum(len(c.correct) for c in cases)} correct variants",
        flush=True,
    )
    report = run(cases, settings, seeds, cfg_base, args.workers, args.model, None if args.no_resume else args.work)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
