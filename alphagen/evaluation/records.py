"""JSON round-trips for what a bench run stores: solve results and verdicts.

The dataclasses' own fields drive both directions (`dataclasses.asdict` out, `from_record` back with each
field's declared type), so a field added to Candidate or Pick is stored and read back without a change here.

Everything written to a run directory goes through these functions, so a resumed run reads back exactly
what an uninterrupted one kept in memory.
"""

from __future__ import annotations

import types
from collections.abc import Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, Protocol, TypeVar, Union, get_args, get_origin, get_type_hints

from alphagen.results import Candidate, InputSplit, Pick, PoolStage, SolveResult, StageStat


class VerdictLike(Protocol):
    """What `alphagen.judging.judge` returns (only the fields a report needs)."""

    @property
    def passed(self) -> bool: ...
    @property
    def num_tests(self) -> int: ...
    @property
    def num_passed(self) -> int: ...
    @property
    def status(self) -> str: ...
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
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VerdictRecord:
        return from_record(cls, d)


T = TypeVar("T")


# Any: `hint` is any type form get_type_hints gives (called when it is a scalar type), `value` what the JSON held.
def _coerce(hint: Any, value: Any) -> Any:
    """A JSON value as the field's declared type: scalars converted, None kept for optional fields, a missing
    dict empty."""
    if get_origin(hint) in (Union, types.UnionType):
        if value is None:
            return None
        hint = next(a for a in get_args(hint) if a is not type(None))
    if hint is dict or get_origin(hint) is dict:
        return dict(value or {})
    if hint in (bool, int, float, str):
        return hint(value)
    return value


def from_record(cls: type[T], d: Mapping[str, Any]) -> T:
    """A flat dataclass from its stored dict; fields the record lacks (older runs) take their defaults."""
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name in d:
            kwargs[f.name] = _coerce(hints[f.name], d[f.name])
        elif f.default is MISSING and f.default_factory is MISSING:
            raise KeyError(f.name)  # a required field: the record is damaged
    return cls(**kwargs)


def candidate_to_dict(c: Candidate) -> dict[str, Any]:
    return asdict(c)


def candidate_from_dict(d: dict[str, Any]) -> Candidate:
    return from_record(Candidate, d)


def pick_to_dict(p: Pick) -> dict[str, Any]:
    return asdict(p)


def pick_from_dict(d: dict[str, Any]) -> Pick:
    return from_record(Pick, d)


def solve_result_to_dict(r: SolveResult) -> dict[str, Any]:
    """Everything a SolveResult holds, JSON-ready (candidates with their code: nothing is lost)."""
    return {
        "problem": r.problem,
        "seed": r.seed,
        "num_clusters": r.num_clusters,
        "candidates": [candidate_to_dict(c) for c in r.candidates],
        "picks": [pick_to_dict(p) for p in r.picks],
        "stages": [asdict(s) for s in r.stages],
        "test_inputs": list(r.test_inputs),
        "testgen": dict(r.testgen),
        "splits": [{"input_index": sp.input_index, "outputs": [list(o) for o in sp.outputs]} for sp in r.splits],
    } | ({"rounds": list(r.rounds)} if r.rounds else {})


def solve_result_from_dict(d: dict[str, Any]) -> SolveResult:
    return SolveResult(
        problem=str(d["problem"]),
        candidates=tuple(candidate_from_dict(c) for c in d["candidates"]),
        picks=tuple(pick_from_dict(p) for p in d["picks"]),
        stages=tuple(from_record(StageStat, s) for s in d["stages"]),
        test_inputs=tuple(str(t) for t in d.get("test_inputs", ())),
        testgen={str(k): int(v) for k, v in (d.get("testgen") or {}).items()},
        num_clusters=int(d.get("num_clusters", 0)),
        seed=int(d.get("seed", 0)),
        # Runs stored before splits were kept have none.
        splits=tuple(
            InputSplit(int(sp["input_index"]), tuple((int(i), str(o)) for i, o in sp["outputs"]))
            for sp in d.get("splits", ())
        ),
        rounds=tuple(int(k) for k in d.get("rounds", ())),
    )


def pool_stage_to_dict(st: PoolStage) -> dict[str, Any]:
    """One finished sampling step of a solve (a bench 'pool' event)."""
    return {"name": st.name, "seconds": st.seconds, "candidates": [candidate_to_dict(c) for c in st.candidates]}


def pool_stage_from_dict(d: dict[str, Any]) -> PoolStage:
    return PoolStage(name=str(d["name"]), candidates=tuple(candidate_from_dict(c) for c in d["candidates"]),
                     seconds=float(d.get("seconds", 0.0)))
