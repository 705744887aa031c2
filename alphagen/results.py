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
        out.update({f"{s.name}_seconds": round(s.seconds, 3) for s in self.stages})
        return out
