"""Compare two bench runs sample by sample: which solve-count differences a variant's rule made, which are noise.

    python -m alphagen.evaluation.paired RUN_A RUN_B [--out FILE]

Why: solve counts mislead. Sample i of a problem has the same random stream in every run, but it decodes to another
program when its batch has another make-up (bf16 logits differ in the last bits; docs/sampling.md,
"Reproducibility"). So a problem "gained" by run B may have been solved by a sample index that run A drew too, as
another program: batch noise, not B's rule.

What is compared, on the problems both runs finished (status ok; the rest are left out and counted):
- The draws: each run's fresh samples by index (a sample without a parent: the first slice, later rounds' slices
  `fresh-8`, ..., top-ups). Repairs and speed-ups (a parent) are not draws at an index: their prompt holds a
  program of their own run, so they count as draws only that run made. On the indices both runs drew, how many
  have identical text, and how many the same program (equal up to comments and layout: `extract.fingerprint`).
- A program is known right when its original (duplicates follow `duplicate_of`) has a verdict that passed the
  hidden tests. Bench judges every distinct program that passed the examples (every distinct program on a problem
  with its own check() harness, HumanEval) plus the picks, so every sample's rightness is known; a program that
  failed an example of a stdio problem is never run (a judge that runs the examples rejects it) and counts as
  wrong. A sample with neither (a run from before that rule) is counted as unknown and never as right.
- Each problem whose `solved` differs is a gain of the run that solved it (the gainer), classified in this order:
  * "ranking": the other run held a right program too (the same program as one of the gainer's, or another) and
    its picks missed it.
  * "new sample": a right program of the gainer is a sample index the other run never drew, or a repair/speed-up.
  * "redrawn": every right program's index was drawn by the other run too, as a different (wrong) program.
  * "verdict noise": the other run drew the same right program but its copy was not judged right (a flaky time
    limit on an example or a hidden test).
  "Gains by rule" are B's new-sample and ranking gains less A's: what B's rule (more samples, repairs, another
  ranking) made, net; redrawn and verdict-noise gains are noise either way.
- That reading holds only when both runs draw sample i from the same distribution (`DRAW_KEYS` equal in their
  config.json: same model, temperature, prompt, ...). When they differ (T 0.25 against T 0.8, say), a redrawn
  program is the rule's doing as much as the batch's: the output names the differing settings and says that the
  redrawn gains (either way) are not noise alone.

Output: a table on stderr (one row per differing problem) and a summary line; the JSON object on stdout (last line)
and in --out. Reads the run directories only (a running bench may hold them).
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
from alphagen.evaluation.runner import as_current, outcomes_of, stored_state
from alphagen.evaluation.store import CONFIG, PROBLEMS, RESULTS, read_jsonl, safe_name
from alphagen.extract import fingerprint
from alphagen.statuses import RunStatus

CLASSES = ("new sample", "ranking", "redrawn", "verdict noise", "unknown")
"""Gain classes, in the order the summary lists them ("unknown": solved, yet no sample is known right)."""
BY_RULE = ("new sample", "ranking")
"""The classes a variant's rule made; the rest are noise."""
DRAW_KEYS = ("model", "backend", "dtype", "quantize", "temperature", "top_p", "seed", "prefill", "use_metadata",
             "samples_per_prompt", "language", "max_new_tokens")
"""config.json settings that decide what distribution sample i is drawn from (its prompt, model, sampler). The
rest (n, budget and rounds, repair and speed-up shares, windows, ranking, test inputs) decide which indices are
drawn and what is done with them, or only the batch a sample decodes in."""

KNOWN_RIGHT = ("right = the program's original has a hidden-test verdict that passed; bench judges every distinct "
               "example-passing program (every distinct program on check()-harness problems) plus the picks, so "
               "a stdio program that failed an example is wrong without being run; unknown = passed the examples, "
               "never judged")


class PairedError(Exception):
    """Run directories that cannot be compared (not a bench run, nothing in common, samples missing)."""


@dataclass(frozen=True)
class Sample:
    """One candidate of a problem's final pool, as the comparison needs it."""

    index: int
    code: str
    program: str
    """extract.fingerprint: equal for programs equal up to comments and layout."""
    right: bool | None
    """Known right (True), known wrong (False), or never judged and not excluded by an example (None)."""
    parent: int | None
    """The program it repairs or speeds up (None: a fresh draw at its index)."""


@dataclass(frozen=True)
class ProblemRun:
    """A finished problem of one run: its record and its samples."""

    name: str
    solved: bool
    n: int
    fresh: dict[int, Sample]
    """Fresh samples by index."""
    derived: tuple[Sample, ...]
    """Repairs and speed-ups (they have a parent)."""
    solved_by: int | None
    """The first passing pick's candidate index (None: not solved)."""

    @property
    def samples(self) -> tuple[Sample, ...]:
        return tuple(self.fresh.values()) + self.derived

    @property
    def right(self) -> tuple[Sample, ...]:
        return tuple(s for s in self.samples if s.right)


@dataclass(frozen=True)
class Run:
    path: Path
    ok: dict[str, dict[str, Any]]
    """results.jsonl records with status ok, by problem name (a name committed twice keeps its last record)."""
    not_ok: frozenset[str]
    config: dict[str, Any]
    """config.json ({} when missing)."""

    @property
    def names(self) -> set[str]:
        return set(self.ok) | self.not_ok


def load_run(path: Path) -> Run:
    """A run directory's finished records, without writing to it."""
    if not (path / RESULTS).is_file():
        raise PairedError(f"RUN must be a bench run directory with {RESULTS}, got {str(path)!r}")
    records = {str(r["name"]): r for r in read_jsonl(path / RESULTS) if "name" in r}
    ok = {name: r for name, r in records.items() if r.get("status") == RunStatus.OK}
    config_path = path / CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    return Run(path, ok, frozenset(set(records) - set(ok)), config)


def draw_differences(a: Run, b: Run) -> dict[str, list[Any]]:
    """The DRAW_KEYS settings the runs differ in (a key an older run lacks takes the value such runs used)."""
    def value(run: Run, key: str) -> Any:
        return as_current(run.config).get(key)

    return {k: [value(a, k), value(b, k)] for k in DRAW_KEYS if value(a, k) != value(b, k)}


def load_problem(run: Run, name: str) -> ProblemRun:
    """One problem's final pool from its event log, each sample with what is known of its rightness."""
    result, verdicts = stored_state(read_jsonl(run.path / PROBLEMS / f"{safe_name(name)}.jsonl"))
    if result is None:
        raise PairedError(f"{run.path}: problem {name!r} has a result but no stored samples")
    by_index = {c.index: c for c in result.candidates}
    fresh: dict[int, Sample] = {}
    derived: list[Sample] = []
    # outcomes_of follows duplicate links to the judged original, as the bench's own `correct` count does.
    for o in outcomes_of(result, verdicts):
        root = by_index[o.root]
        if o.root in verdicts:
            right: bool | None = verdicts[o.root].passed
        elif not root.passed_examples:
            right = False
        else:
            right = None
        c = by_index[o.index]
        s = Sample(c.index, c.code, fingerprint(c.code, c.language), right, c.parent)
        if c.parent is None:
            fresh[c.index] = s
        else:
            derived.append(s)
    rec = run.ok[name]
    first = next((p for p in sorted(rec.get("picks", []), key=lambda p: p["rank"]) if p.get("passed")), None)
    return ProblemRun(name, bool(rec["solved"]), int(rec["n"]), fresh, tuple(derived),
                      int(first["candidate"]) if first is not None else None)


def classify(gainer: ProblemRun, other: ProblemRun) -> str:
    """Why `gainer` solved a problem `other` did not (see the module docstring for the order)."""
    rights = gainer.right
    other_programs = {s.program for s in other.samples}
    if any(s.right for s in other.samples):
        return "ranking"
    if any(s.parent is not None or s.index not in other.fresh for s in rights):
        return "new sample"
    if any(s.program in other_programs for s in rights):
        return "verdict noise"
    if rights:
        return "redrawn"
    # Solved, yet no sample is known right: only a run whose verdicts are missing gets here.
    return "unknown"


def where(s: Sample, other: ProblemRun) -> str:
    """How the other run drew this index: 'new' (never, or a repair/speed-up), 'same' program, 'redrawn'."""
    if s.parent is not None or s.index not in other.fresh:
        return "new"
    return "same" if other.fresh[s.index].program == s.program else "redrawn"


def compare(a: Run, b: Run) -> dict[str, Any]:
    """The paired comparison of two runs as one JSON-ready object."""
    common = sorted(set(a.ok) & set(b.ok))
    if not common:
        raise PairedError(f"RUN_A and RUN_B must share a problem both finished, got none ({a.path}, {b.path})")
    counts = {"common_indices": 0, "identical_text": 0, "same_program": 0, "a_only_indices": 0,
              "b_only_indices": 0, "a_derived": 0, "b_derived": 0}
    unknown = {"a": 0, "b": 0}
    classes: dict[str, dict[str, int]] = {"a": {c: 0 for c in CLASSES}, "b": {c: 0 for c in CLASSES}}
    solved = {"a": 0, "b": 0}
    rows = []
    for name in common:
        pa, pb = load_problem(a, name), load_problem(b, name)
        # The draws: indices both runs drew as fresh samples, and whether they decoded to the same program.
        both = sorted(set(pa.fresh) & set(pb.fresh))
        counts["common_indices"] += len(both)
        counts["identical_text"] += sum(pa.fresh[i].code == pb.fresh[i].code for i in both)
        counts["same_program"] += sum(pa.fresh[i].program == pb.fresh[i].program for i in both)
        counts["a_only_indices"] += len(set(pa.fresh) - set(pb.fresh))
        counts["b_only_indices"] += len(set(pb.fresh) - set(pa.fresh))
        counts["a_derived"] += len(pa.derived)
        counts["b_derived"] += len(pb.derived)
        unknown["a"] += sum(s.right is None for s in pa.samples)
        unknown["b"] += sum(s.right is None for s in pb.samples)
        solved["a"] += pa.solved
        solved["b"] += pb.solved
        if pa.solved == pb.solved:
            continue
        side, gainer, other = ("a", pa, pb) if pa.solved else ("b", pb, pa)
        cls = classify(gainer, other)
        classes[side][cls] += 1
        rows.append({
            "name": name, "gainer": side, "class": cls,
            "solved": [pa.solved, pb.solved], "n": [pa.n, pb.n],
            "right": [len(pa.right), len(pb.right)],
            "solved_by": gainer.solved_by,
            # Each right program of the gainer: its index, whether it is a repair/speed-up, how the other drew it.
            "right_programs": [{"index": s.index, "parent": s.parent, "other": where(s, other)}
                               for s in sorted(gainer.right, key=lambda s: s.index)],
        })
    ci = counts["common_indices"]
    differ = draw_differences(a, b)
    rule = {side: sum(classes[side][c] for c in BY_RULE) for side in ("a", "b")}
    return {
        "runs": {"a": str(a.path), "b": str(b.path)},
        "problems": len(common),
        # Problems outside the comparison: in one run only, or in both but not finished ok in one of them.
        "left_out": {"a_only": len(a.names - b.names), "b_only": len(b.names - a.names),
                     "not_ok": len((a.names & b.names) - set(common))},
        "solved": solved,
        "samples": counts | {
            "identical_fraction": round(counts["identical_text"] / ci, 4) if ci else None,
            "same_program_fraction": round(counts["same_program"] / ci, 4) if ci else None,
            "unknown": unknown,
        },
        "known_right": KNOWN_RIGHT,
        # Settings that change what sample i is drawn from: with any, "redrawn" is not noise alone.
        "draw_settings_differ": differ,
        "classes": classes,
        "gains_by_rule": {"a": rule["a"], "b": rule["b"], "net_b": rule["b"] - rule["a"],
                          "redrawn_is_noise": not differ},
        "differing": rows,
    }


def _right_cell(row: dict[str, Any]) -> str:
    """'3 redrawn, *7 same, 20 new, 16<-2 new': '*' marks the solving pick, '<-p' a repair/speed-up of p."""
    cells = []
    for r in row["right_programs"]:
        mark = "*" if r["index"] == row["solved_by"] else ""
        lineage = f"<-{r['parent']}" if r["parent"] is not None else ""
        cells.append(f"{mark}{r['index']}{lineage} {r['other']}")
    return ", ".join(cells) or "-"


def summary_line(out: dict[str, Any], names: tuple[str, str]) -> str:
    s = out["samples"]
    frac = "n/a" if s["identical_fraction"] is None else f"{100 * s['identical_fraction']:.1f}%"

    def gains(side: str) -> str:
        return ", ".join(f"{c} {out['classes'][side][c]}" for c in out["classes"][side] if out["classes"][side][c])

    differ = out["draw_settings_differ"]
    caveat = "" if not differ else (
        " (redrawn gains are not noise alone here: the runs draw sample i from different distributions, "
        + ", ".join(f"{k} {va!r} vs {vb!r}" for k, (va, vb) in differ.items()) + ")")
    left = out["left_out"]
    left_n = left["a_only"] + left["b_only"] + left["not_ok"]
    return (f"A={names[0]} solved {out['solved']['a']}, B={names[1]} solved {out['solved']['b']} of "
            f"{out['problems']} common problems ({left_n} left out); common sample indices {s['common_indices']}: "
            f"identical text {s['identical_text']} ({frac}), same program {s['same_program']}; "
            f"derived (repair/speed-up) A {s['a_derived']} B {s['b_derived']}; "
            f"B gains: {gains('b') or 'none'}; A gains: {gains('a') or 'none'}; "
            f"gains by rule, B over A: {out['gains_by_rule']['net_b']:+d}{caveat}")


def render(out: dict[str, Any], names: tuple[str, str]) -> Table:
    table = Table(title=f"paired: A={names[0]} vs B={names[1]} (problems whose solved differs)")
    for col in ("problem", "solved A/B", "n A/B", "right A/B", "gain of", "class",
                "gainer's right programs (*: solving pick; other run: new / same / redrawn)"):
        table.add_column(col)
    yn = {True: "yes", False: "no"}
    for r in out["differing"]:
        table.add_row(r["name"], "/".join(yn[x] for x in r["solved"]), "/".join(map(str, r["n"])),
                      "/".join(map(str, r["right"])), r["gainer"].upper(), r["class"], _right_cell(r))
    return table


def _label(path: Path) -> str:
    # Variant directories share their parent's name (shipped-n16-s0/T0.8): the last two parts tell them apart.
    return "/".join(path.resolve().parts[-2:])


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Compare two bench runs sample by sample (which gains a rule made).")
    ap.add_argument("run_a", type=Path, metavar="RUN_A", help="bench run directory (the baseline)")
    ap.add_argument("run_b", type=Path, metavar="RUN_B", help="bench run directory (the variant)")
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON object to this file")
    args = ap.parse_args(argv)
    try:
        out = compare(load_run(args.run_a), load_run(args.run_b))
    except PairedError as e:
        ap.exit(2, f"error: {e}\n")
    names = (_label(args.run_a), _label(args.run_b))
    console.print(render(out, names))
    console.print(summary_line(out, names), highlight=False, soft_wrap=True)
    if args.out is not None:
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    # stdout is for data: the comparison as one JSON object on the last line.
    print(json.dumps(out))


if __name__ == "__main__":
    main()
