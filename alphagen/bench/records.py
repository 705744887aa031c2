"""JSON round-trips for what a bench run stores: solve results and verdicts.

Everything written to a run directory goes through these functions, so a resumed run reads back exactly
what an uninterrupted one kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from alphagen.results import Candidate, Pick, SolveResult, StageStat


class VerdictLike(Protocol):
    """What `alphagen.judging.judge` returns (only the fields a report needs)."""

    @property
    def passed(self) -> bool: ...
    @property
    def num_tests(self) -> int: ...
    @property
    def num_passed(self) -> int: ...
    @property
    def status(self) -> Any: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True)
class VerdictRecord:
    """One program judged on a problem's hidden tests, as stored and printed."""

    passed: bool
    """Passed every hidden test."""
    status: str
    """'ok' when passed, else the first failing test's status (wrong_answer, time_limit, ...)."""
    num_passed: int
    """Hidden tests passed."""
    num_tests: int
    """Hidden tests run."""
    detail: str = ""
    """Short human-readable reason (never the hidden test's content)."""
    seconds: float = 0.0
    """Wall time spent judging it."""

    def __post_init__(self) -> None:
        if self.num_tests < 0 or not 0 <= self.num_passed <= self.num_tests:
            raise ValueError(f"need 0 <= num_passed <= num_tests, got {self.num_passed}/{self.num_tests}")

    @classmethod
    def from_verdict(cls, verdict: VerdictLike, seconds: float = 0.0) -> VerdictRecord:
        # Status may be an enum (sandbox.Status) or a plain string: store its value.
        status = getattr(verdict.status, "value", verdict.status)
        return cls(
            passed=bool(verdict.passed),
            status=str(status),
            num_passed=int(verdict.num_passed),
            num_tests=int(verdict.num_tests),
            detail=str(getattr(verdict, "detail", "") or "")[:300],
            seconds=round(seconds, 4),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "status": self.status,
            "num_passed": self.num_passed,
            "num_tests": self.num_tests,
            "detail": self.detail,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VerdictRecord:
        return cls(
            passed=bool(d["passed"]),
            status=str(d["status"]),
            num_passed=int(d["num_passed"]),
            num_tests=int(d["num_tests"]),
            detail=str(d.get("detail", "")),
            seconds=float(d.get("seconds", 0.0)),
        )


def candidate_to_dict(c: Candidate) -> dict[str, Any]:
    return {
        "index": c.index,
        "language": c.language,
        "code": c.code,
        "meta": c.meta,
        "duplicate_of": c.duplicate_of,
        "passed_examples": c.passed_examples,
        "example_status": c.example_status,
        "signature": c.signature,
        "cpu_s": c.cpu_s,
    }


def candidate_from_dict(d: dict[str, Any]) -> Candidate:
    return Candidate(
        index=int(d["index"]),
        language=str(d["language"]),
        code=str(d["code"]),
        meta=dict(d.get("meta") or {}),
        duplicate_of=None if d.get("duplicate_of") is None else int(d["duplicate_of"]),
        passed_examples=bool(d.get("passed_examples", False)),
        example_status=str(d.get("example_status", "")),
        signature=d.get("signature"),
        cpu_s=float(d.get("cpu_s", 0.0)),
    )


def pick_to_dict(p: Pick) -> dict[str, Any]:
    return {
        "rank": p.rank,
        "candidate": p.candidate,
        "language": p.language,
        "code": p.code,
        "cluster_id": p.cluster_id,
        "cluster_size": p.cluster_size,
        "score": p.score,
    }


def pick_from_dict(d: dict[str, Any]) -> Pick:
    return Pick(
        rank=int(d["rank"]),
        candidate=int(d["candidate"]),
        language=str(d["language"]),
        code=str(d["code"]),
        cluster_id=int(d["cluster_id"]),
        cluster_size=int(d["cluster_size"]),
        score=float(d["score"]),
    )


def solve_result_to_dict(r: SolveResult) -> dict[str, Any]:
    """Everything a SolveResult holds, JSON-ready (candidates with their code: nothing is lost)."""
    return {
        "problem": r.problem,
        "seed": r.seed,
        "num_clusters": r.num_clusters,
        "candidates": [candidate_to_dict(c) for c in r.candidates],
        "picks": [pick_to_dict(p) for p in r.picks],
        "stages": [
            {"name": s.name, "seconds": s.seconds, "count_in": s.count_in, "count_out": s.count_out}
            for s in r.stages
        ],
        "test_inputs": list(r.test_inputs),
        "testgen": dict(r.testgen),
    }


def solve_result_from_dict(d: dict[str, Any]) -> SolveResult:
    return SolveResult(
        problem=str(d["problem"]),
        candidates=tuple(candidate_from_dict(c) for c in d["candidates"]),
        picks=tuple(pick_from_dict(p) for p in d["picks"]),
        stages=tuple(
            StageStat(
                name=str(s["name"]),
                seconds=float(s["seconds"]),
                count_in=int(s["count_in"]),
                count_out=int(s["count_out"]),
            )
            for s in d["stages"]
        ),
        test_inputs=tuple(str(t) for t in d.get("test_inputs", ())),
        testgen={str(k): int(v) for k, v in (d.get("testgen") or {}).items()},
        num_clusters=int(d.get("num_clusters", 0)),
        seed=int(d.get("seed", 0)),
    )
