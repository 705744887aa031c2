"""Stored records read back as what was stored; records of older runs take the defaults of newer fields."""

from pathlib import Path

import pytest

from alphagen.atomic import write_atomic
from alphagen.evaluation.records import (
    VerdictRecord,
    candidate_from_dict,
    candidate_to_dict,
    solve_result_from_dict,
    solve_result_to_dict,
)
from alphagen.results import Candidate, InputSplit, Pick, SolveResult, StageStat


def test_solve_result_round_trips() -> None:
    cand = Candidate(3, "python", "print(1)", {"rating": 1200}, None, True, "ok", "abc", 0.25)
    result = SolveResult("p", (cand,), (Pick(1, 3, "python", "print(1)", 0, 1, 1.0),),
                         (StageStat("sample", 1.5, 4, 4),), ("1\n",), {"valid": 2}, 1, 7,
                         (InputSplit(0, ((3, "1"), (5, "<runtime_error>"))),))
    assert solve_result_from_dict(solve_result_to_dict(result)) == result
    # Runs stored before splits were kept read back without them.
    old = solve_result_to_dict(result)
    del old["splits"]
    assert solve_result_from_dict(old).splits == ()
    verdict = VerdictRecord(False, "wrong_answer", 1, 3, "test 2/3", 0.5)
    assert VerdictRecord.from_dict(verdict.to_dict()) == verdict


def test_old_records_take_defaults_and_damaged_ones_fail() -> None:
    old = {"index": "2", "language": "cpp", "code": "x", "meta": None, "duplicate_of": 1}
    assert candidate_from_dict(old) == Candidate(2, "cpp", "x", {}, 1)
    assert list(candidate_to_dict(Candidate(0, "python", "")))[:3] == ["index", "language", "code"]
    with pytest.raises(KeyError):
        candidate_from_dict({"index": 0, "language": "python"})


def test_atomic_write_text_and_bytes(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a.txt", "é\n")
    write_atomic(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "é\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]
