"""Typed results of one `solve`: what the CLI renders, `judge` reads and `bench` stores and scores."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Candidate:
    """One sampled program, as it went through the pipeline."""

    index: int
    """Sample number, 0-based, in the order the sampler produced it (stable for a seed)."""
    language: str
    """'python' or 'cpp'."""
    code: str
    meta: dict[str, Any] = field(default_factory=dict)
    """Prompt metadata drawn for this sample (rating, tags), plus token count and finish reason."""
    duplicate_of: int | None = None
    """Index of the earlier candidate it normalizes to (then it was not executed again)."""
    passed_examples: bool = False
    example_status: str = ""
    """First non-ok status on the public tests, an alphagen.statuses.TestStatus ('ok', 'wrong_answer',
    'runtime_error', ..., 'not_run'); '' before the filter ran."""
    signature: str | None = None
    """Hash of the normalized outputs (crashes/timeouts included) on the clustering inputs; None if filtered."""
    cpu_s: float = 0.0
    """Total CPU seconds over the clustering inputs (reported; not used to rank, as timings vary between runs)."""
    examples_passed: int = 0
    """Examples it passed before its first failure (every example when it passed them; 0 when it never ran)."""
    failed_example: int | None = None
    """Index of the first example it failed (None when it passed, or never ran: a syntax error)."""
    feedback: str = ""
    """What it did on that example, cut short: its output (wrong answer), its stderr tail (runtime error), the
    compiler's message (compile error); '' for a time limit or when it passed. A repair prompt shows it."""
    parent: int | None = None
    """Sample index of the program this one is a repair of (None: a fresh sample of the problem's prompt)."""
    repair_round: int = 0
    """The repair round that drew it (0: a fresh sample)."""
    limit_status: str = ""
    """How it failed on an input at the stated limits (time_limit, memory_limit, runtime_error: see
    alphagen.limits); '' when it ran them cleanly or was not probed. Such a program is picked after the rest."""
    limit_feedback: str = ""
    """The input it failed on, as a speed-up prompt shows it ('' with no limit_status)."""


@dataclass(frozen=True)
class Pick:
    """One of the (up to) ten submissions, in rank order."""

    rank: int
    """1-based."""
    candidate: int
    """Candidate.index."""
    language: str
    code: str
    cluster_id: int
    cluster_size: int
    score: float
    """Ranking score of its cluster (size for the AlphaCode rule; agreement*sqrt(size) for CodeT)."""
    passed_examples: bool = True
    """False for a fallback pick: no program passed every example, and this one passed the most of them
    (`SolveConfig.fallback`). A judge-facing tool may want to skip or flag it."""


@dataclass(frozen=True)
class StageStat:
    name: str
    """sample, dedup, filter, testgen, cluster."""
    seconds: float
    count_in: int
    count_out: int


@dataclass(frozen=True)
class InputSplit:
    """A generated input on which the clusters behave differently: why they are separate clusters."""

    input_index: int
    """Index into SolveResult.test_inputs."""
    outputs: tuple[tuple[int, str], ...]
    """(representative sample, its normalized output on this input, cut to OUTPUT_CHARS) per cluster."""


@dataclass(frozen=True)
class PoolStage:
    """One sampling step of a solve (the fresh samples, a repair round, a top-up), filtered on the examples: what a
    bench run stores as it goes, so a killed run resumes after the last finished step instead of sampling again."""

    name: str
    """'fresh', 'repair-<round>' or 'topup'."""
    candidates: tuple[Candidate, ...]
    """The samples this step drew, with their example verdicts (not yet deduplicated against the pool)."""
    seconds: float = 0.0
    """Sampling seconds of this step (the filter overlaps them)."""


def lineage(candidates: tuple[Candidate, ...] | list[Candidate], index: int) -> list[int]:
    """The sample indices from `index` back to its fresh ancestor: [index, parent, grandparent, ...]."""
    by_index = {c.index: c for c in candidates}
    chain = [index]
    while index in by_index and by_index[index].parent is not None and len(chain) <= len(by_index):
        index = int(by_index[index].parent)  # type: ignore[arg-type]
        chain.append(index)
    return chain


@dataclass(frozen=True)
class SolveResult:
    problem: str
    candidates: tuple[Candidate, ...]
    picks: tuple[Pick, ...]
    stages: tuple[StageStat, ...]
    test_inputs: tuple[str, ...] = ()
    """The extra inputs used for clustering (generated + mutated, validated)."""
    testgen: dict[str, int] = field(default_factory=dict)
    """Counts: proposed, valid, distinguishing (per source)."""
    num_clusters: int = 0
    seed: int = 0
    splits: tuple[InputSplit, ...] = ()
    """The first few generated inputs that tell clusters apart, with each cluster's output on them."""
    rounds: tuple[int, ...] = ()
    """A solve drawn in rounds (settle_min, bench --budget): the samples drawn after each round; () when all at
    once."""

    @property
    def stats(self) -> dict[str, Any]:
        """Flat statistics for JSON output."""
        out: dict[str, Any] = {
            "sampled": len(self.candidates),
            "distinct": sum(1 for c in self.candidates if c.duplicate_of is None),
            "passed_examples": sum(1 for c in self.candidates if c.passed_examples),
            "clusters": self.num_clusters,
            "picked": len(self.picks),
            "test_inputs": len(self.test_inputs),
        }
        repairs = [c for c in self.candidates if c.parent is not None]
        if repairs:
            # Only runs that repaired say so: a share-0 run's statistics stay what they were.
            out["fresh"] = len(self.candidates) - len(repairs)
            out["repairs"] = len(repairs)
            out["repairs_passed_examples"] = sum(1 for c in repairs if c.passed_examples)
        out.update({f"{s.name}_seconds": round(s.seconds, 3) for s in self.stages})
        return out
