"""`alphagen bench --replay SRC_RUN`: the stages after sampling redone on another run's stored samples.

Sampling is the expensive stage and, in bf16, not batch-invariant: two runs that differ in one later stage (the
limit probe, the ranking, the test-input sources) also differ in 10-80% of their samples when their batches were
made up differently, and a difference in solves between them is mostly that noise (docs/quality.md). A replay
starts a new run directory from SRC_RUN's sampling steps (each problem's `pool` events: its samples with their
example verdicts), so the new run draws nothing that SRC_RUN drew and every difference between the two runs comes
from the settings that may differ here. Everything that shapes the samples must match SRC_RUN's config, except
that `-n` may grow: SRC_RUN's samples are then the first ones, and only the rest are drawn (an overnight run
extended, or a point further along the same curve at the cost of the new samples alone). Without repairs, `-n`
may also shrink and the rounds may differ (`--settle-min`, `--budget`): a uniform run replayed into a budgeted one
gives every problem exactly the uniform run's first samples, so the two differ by the allocation alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alphagen.atomic import write_atomic
from alphagen.draws import DrawKind
from alphagen.evaluation.records import candidate_from_dict, candidate_to_dict
from alphagen.evaluation.store import CONFIG, PROBLEMS, RunStore, read_jsonl, safe_name
from alphagen.problems.harness import ProblemHarness
from alphagen.sample_filter import example_outcomes, with_outcomes
from sandbox import BatchExecutor

Steps = list[dict[str, Any]]
"""A problem's stored sampling steps: its `pool` events, in order."""

AFTER_SAMPLING = frozenset({
    "limit_probe", "speedup_share", "ranking", "test_sources", "test_model", "num_picks", "fallback", "draws",
})
"""Settings a replay may change: each acts after the fresh samples are drawn and filtered (the speed-up share
draws new samples of its own, from the replayed pool). The time and memory limits may not: the stored example
verdicts were reached under the source's."""

SAMPLE_COUNT = frozenset({"n", "settle_min", "budget"})
"""Settings that say how many samples are drawn, and in which rounds, not which: without repairs a replay may
change them (a uniform run replayed into a budgeted one draws only the samples beyond the source's)."""

# Steps that depend on what came after sampling (the probe's marks) are redone, not replayed.
_REDONE = (DrawKind.SPEEDUP.value, DrawKind.SPEEDUP_TOPUP.value)


class ReplayError(ValueError):
    """SRC_RUN cannot be replayed with these settings (the message says why)."""


@dataclass(frozen=True)
class Replayed:
    """What a replay took from its source run."""

    source: Path
    """The run whose samples were replayed."""
    seeded: int
    """Problems whose sampling steps were copied in now."""
    kept: int
    """Problems that already had events in the new run (a resumed replay): left as they were."""
    missing: tuple[str, ...]
    """Problems without stored sampling steps in the source run: they are sampled afresh."""


def source_config(source: Path) -> dict[str, Any]:
    """SRC_RUN's config.json; a clear error when it is not a bench run directory."""
    path = source / CONFIG
    if not path.is_file():
        raise ReplayError(f"--replay must be a bench run directory (with {CONFIG}), got {source}")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def check_settings(source: Path, old: dict[str, Any], new: dict[str, Any],
                   upgrade: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """Refuse a replay whose sampling settings differ from the source run's: its samples would not be the ones
    these settings draw (`upgrade` reads both configs in today's terms)."""
    old, new = upgrade(old), upgrade(new)
    # Sample i keeps its own random stream, so more samples extend the source's.
    grows = isinstance(old.get("n"), int) and isinstance(new.get("n"), int) and new["n"] > old["n"]
    # Without repairs, sample i is read back from whichever stored slice holds it (`draw_runner.covering_slice`):
    # fewer samples, or the same ones in rounds (a budget), take the source's first ones. A repair step's samples
    # were planned for the source's n: they are not cut to another.
    counted = not old.get("repair_share") and not new.get("repair_share")
    diffs = [k for k in sorted(new) if k not in AFTER_SAMPLING and old.get(k) != new.get(k)
             and not (k == "n" and grows) and not (k in SAMPLE_COUNT and counted)]
    if diffs:
        detail = ", ".join(f"{k}: {old.get(k)!r} there, {new.get(k)!r} here" for k in diffs)
        raise ReplayError(f"--replay {source}: the sampling settings must match the source run's, got {detail} "
                          f"(only {', '.join(sorted(AFTER_SAMPLING))} may differ; n may grow, and without "
                          f"repairs n, settle_min and budget may differ)")


def sampling_steps(source: Path, name: str) -> list[dict[str, Any]]:
    """A problem's stored sampling steps in SRC_RUN, in order, without the speed-up steps (redone)."""
    path = source / PROBLEMS / f"{safe_name(name)}.jsonl"
    if not path.is_file():
        return []
    return [ev for ev in read_jsonl(path)
            if ev.get("event") == "pool" and ev.get("stage", {}).get("name") not in _REDONE]


# Steps drawn from the source's example failures: their prompts quoted verdicts a refilter may change.
_FROM_FAILURES = (DrawKind.REPAIR.value, DrawKind.TOPUP.value)


def refilter_steps(steps: Steps, harness: ProblemHarness, executor: BatchExecutor) -> Steps:
    """The steps with every sample's example verdict redone on `harness`'s examples (`bench --replay --refilter`:
    the problem file's examples were changed since the source ran). The samples stay the source's; what passed the
    examples, and so what clustering and the picks see, is this run's. Refused for steps drawn from the source's
    failures (repairs and their top-ups): their prompts quoted the old verdicts."""
    drawn_from_failures = sorted({str(ev["stage"].get("name")) for ev in steps} & set(_FROM_FAILURES))
    if drawn_from_failures:
        raise ReplayError(f"--refilter needs a source run without repair steps, got {', '.join(drawn_from_failures)} "
                          f"steps for {harness.problem.name}")
    per_step = [[candidate_from_dict(d) for d in ev["stage"]["candidates"]] for ev in steps]
    # All steps at once: a sample of a later step may duplicate one of an earlier step, and takes its verdict.
    distinct = [c for cands in per_step for c in cands if c.duplicate_of is None]
    outcomes = example_outcomes(harness, distinct, executor)
    out = []
    for ev, cands in zip(steps, per_step, strict=True):
        stage = ev["stage"] | {"candidates": [candidate_to_dict(c) for c in with_outcomes(cands, outcomes)]}
        out.append(ev | {"stage": stage})
    return out


def seed_replay(
    source: Path, store: RunStore, names: Sequence[str], rework: Callable[[str, Steps], Steps] | None = None
) -> Replayed:
    """Copy each problem's sampling steps from `source` into `store`, unless the problem already has events there
    (a resumed replay keeps what it did); `rework(name, steps)` may change them on the way (`refilter_steps`)."""
    if source.resolve() == store.root.resolve():
        raise ReplayError(f"--replay must be another run than --out, got {source} for both")
    seeded = kept = 0
    missing: list[str] = []
    for name in names:
        if store.events(name):
            kept += 1
            continue
        steps = sampling_steps(source, name)
        if not steps:
            missing.append(name)
            continue
        if rework is not None:
            steps = rework(name, steps)
        # One write per problem: a replay killed here finds each problem with all its steps or none.
        write_atomic(store.events_path(name), "".join(json.dumps(ev) + "\n" for ev in steps))
        seeded += 1
    return Replayed(source, seeded, kept, tuple(missing))
