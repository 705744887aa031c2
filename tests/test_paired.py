"""alphagen.evaluation.paired: two hand-written run directories, one problem per gain class."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alphagen.evaluation import paired

# A candidate as the tests describe it: (index, code, passed_examples, parent, duplicate_of).
Cand = tuple[int, str, bool, int | None, int | None]


def fresh(index: int, code: str, passed: bool = True, dup: int | None = None) -> Cand:
    return (index, code, passed, None, dup)


def fix(index: int, code: str, parent: int) -> Cand:
    return (index, code, True, parent, None)


def write_run(root: Path, problems: dict[str, tuple[list[Cand], set[int], list[int]]],
              errors: tuple[str, ...] = (), unjudged: dict[str, set[int]] | None = None,
              config: dict[str, Any] | None = None) -> Path:
    """A bench run directory written event by event, as the runner writes one: per problem its pool events
    (fresh, then a repair step for candidates with a parent), the samples, a verdict for every example-passing
    original (right when its index is in the problem's `right` set) and for the picks, done; then the records."""
    (root / "problems").mkdir(parents=True)
    (root / "config.json").write_text(json.dumps(config or {"temperature": 0.8, "n": 4}))
    records = []
    for name, (cands, right, picks) in problems.items():
        dicts: list[dict[str, Any]] = [{"index": i, "language": "python", "code": code, "passed_examples": ok,
                  "example_status": "ok" if ok else "wrong_answer", "failed_example": None if ok else 0,
                  "duplicate_of": dup, "parent": parent, "repair_round": 1 if parent is not None else 0,
                  "signature": None, "meta": {}} for i, code, ok, parent, dup in cands]
        pick_dicts = [{"rank": r + 1, "candidate": i, "language": "python",
                       "code": next(d["code"] for d in dicts if d["index"] == i), "cluster_id": r,
                       "cluster_size": 1, "score": 1.0} for r, i in enumerate(picks)]
        events: list[dict[str, Any]] = [
            {"event": "pool", "stage": {"name": "fresh", "seconds": 1.0,
                                        "candidates": [d for d in dicts if d["parent"] is None]}},
            {"event": "start", "seed": 0, "time": 0.0},
        ]
        if any(d["parent"] is not None for d in dicts):
            events.append({"event": "pool", "stage": {"name": "repair-1", "seconds": 1.0,
                                                      "candidates": [d for d in dicts if d["parent"] is not None]}})
        events.append({"event": "samples", "result": {"problem": name, "candidates": dicts, "picks": pick_dicts,
                                                      "stages": [], "seed": 0}})
        skip = (unjudged or {}).get(name, set())
        judged = sorted({d["index"] for d in dicts if d["passed_examples"] and d["duplicate_of"] is None} - skip)
        for i in judged:
            ok = i in right
            events.append({"event": "verdict", "candidate": i, "verdict": {
                "passed": ok, "status": "ok" if ok else "time_limit", "num_passed": 3 if ok else 1, "num_tests": 3}})
        events.append({"event": "done", "status": "ok"})
        (root / "problems" / f"{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
        pick_records = [{"rank": r + 1, "candidate": i, "passed": i in right} for r, i in enumerate(picks)]
        records.append({"name": name, "status": "ok", "n": len(dicts), "correct": 0, "picks": pick_records,
                        "solved": any(p["passed"] for p in pick_records)})
    records += [{"name": name, "status": "error", "error": "boom"} for name in errors]
    (root / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return root


def runs(tmp_path: Path, config_b: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """Run A (baseline) and run B (variant): one problem per class, plus a tie, a problem only B has and one A
    could not finish."""
    a = write_run(tmp_path / "A", {
        "p-new": ([fresh(0, "print(0)"), fresh(1, "print(1)")], set(), [0]),
        "p-fix": ([fresh(0, "print(3)"), fresh(1, "print(4)")], set(), [0]),
        "p-redrawn": ([fresh(0, "print(6)"), fresh(1, "print(7)"), fresh(2, "print(9)")], set(), [0]),
        "p-ranking": ([fresh(0, "print(11)"), fresh(1, "print(12)")], {1}, [0]),
        "p-lost": ([fresh(0, "print(14)"), fresh(1, "print(15)"), fresh(2, "print(16)")], {2}, [2]),
        "p-noise": ([fresh(0, "print(18)")], set(), [0]),
        "p-same": ([fresh(0, "print(19)"), fresh(1, "print(20)  # c", passed=False)], {0}, [0]),
    }, errors=("p-err",))
    b = write_run(tmp_path / "B", {
        # Right at index 2, which A never drew.
        "p-new": ([fresh(0, "print(0)"), fresh(1, "print(10)"), fresh(2, "print(2)")], {2}, [2]),
        # Right only as a repair of sample 1.
        "p-fix": ([fresh(0, "print(3)"), fresh(1, "print(4)"), fix(2, "print(5)", parent=1)], {2}, [2]),
        # Right at index 1 (and its duplicate at 2), both drawn by A as other, wrong programs.
        "p-redrawn": ([fresh(0, "print(6)"), fresh(1, "print(8)"), fresh(2, "print(8)  # same", dup=1)], {1}, [1]),
        # A held the same right program at index 1; its picks missed it.
        "p-ranking": ([fresh(0, "print(13)"), fresh(1, "print(12)")], {1}, [1]),
        # A's right program at index 2 is one B never drew; B's sample 1 passed the examples, never judged.
        "p-lost": ([fresh(0, "print(14)"), fresh(1, "print(17)")], set(), [0]),
        # The same program as A's, judged right here and not there (a flaky time limit).
        "p-noise": ([fresh(0, "print(18)")], {0}, [0]),
        "p-same": ([fresh(0, "print(19)"), fresh(1, "print(20)", passed=False)], {0}, [0]),
        "p-only-b": ([fresh(0, "print(21)")], {0}, [0]),
        "p-err": ([fresh(0, "print(22)")], {0}, [0]),
    }, unjudged={"p-lost": {1}}, config=config_b)
    return a, b


def test_each_class_and_the_identical_fraction(tmp_path: Path) -> None:
    a, b = runs(tmp_path)
    out = paired.compare(paired.load_run(a), paired.load_run(b))
    rows = {r["name"]: r for r in out["differing"]}
    assert {name: (r["gainer"], r["class"]) for name, r in rows.items()} == {
        "p-new": ("b", "new sample"), "p-fix": ("b", "new sample"), "p-redrawn": ("b", "redrawn"),
        "p-ranking": ("b", "ranking"), "p-lost": ("a", "new sample"), "p-noise": ("b", "verdict noise")}
    # The fix counts as a draw A never made, whatever its index; the duplicate is right through its original.
    assert rows["p-fix"]["right_programs"] == [{"index": 2, "parent": 1, "other": "new"}]
    assert [r["other"] for r in rows["p-redrawn"]["right_programs"]] == ["redrawn", "redrawn"]
    assert rows["p-ranking"]["right_programs"] == [{"index": 1, "parent": None, "other": "same"}]
    assert rows["p-new"]["solved_by"] == 2 and rows["p-new"]["right"] == [0, 1]
    assert out["classes"]["b"] == {"new sample": 2, "ranking": 1, "redrawn": 1, "verdict noise": 1, "unknown": 0}
    assert out["classes"]["a"]["new sample"] == 1 and sum(out["classes"]["a"].values()) == 1
    assert out["gains_by_rule"] == {"a": 1, "b": 3, "net_b": 2, "redrawn_is_noise": True}
    # Common indices 2+2+3+2+2+1+2; identical text on 8 of them, and p-same's commented copy is the same program;
    # p-lost's 2 only A drew, p-new's 2 only B (p-fix's 2 is a repair, not a draw at an index).
    s = out["samples"]
    assert (s["common_indices"], s["identical_text"], s["same_program"]) == (14, 8, 9)
    assert s["identical_fraction"] == round(8 / 14, 4)
    assert (s["a_only_indices"], s["b_only_indices"], s["a_derived"], s["b_derived"]) == (1, 1, 0, 1)
    assert s["unknown"] == {"a": 0, "b": 1}
    assert out["problems"] == 7 and out["solved"] == {"a": 2, "b": 6}
    assert out["left_out"] == {"a_only": 0, "b_only": 1, "not_ok": 1}


def test_other_draw_settings_make_redrawn_gains_no_noise_baseline(tmp_path: Path) -> None:
    a, b = runs(tmp_path, config_b={"temperature": 0.25, "n": 48, "budget": 100})
    out = paired.compare(paired.load_run(a), paired.load_run(b))
    # n and the budget change which indices are drawn, not what index i is drawn from: only the temperature counts.
    assert out["draw_settings_differ"] == {"temperature": [0.8, 0.25]}
    assert out["gains_by_rule"]["redrawn_is_noise"] is False
    assert "redrawn gains are not noise alone here" in paired.summary_line(out, ("A", "B"))
    assert "temperature 0.8 vs 0.25" in paired.summary_line(out, ("A", "B"))


def test_cli_prints_the_table_and_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = runs(tmp_path)
    dest = tmp_path / "paired.json"
    paired.main([str(a), str(b), "--out", str(dest)])
    captured = capsys.readouterr()
    last = json.loads(captured.out.strip().splitlines()[-1])
    assert last == json.loads(dest.read_text())
    assert last["gains_by_rule"]["net_b"] == 2
    assert "verdict noise" in captured.err and "gains by rule, B over A: +2" in captured.err
    assert "identical text 8 (57.1%)" in captured.err


def test_cli_rejects_a_directory_that_is_no_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, b = runs(tmp_path)
    with pytest.raises(SystemExit) as e:
        paired.main([str(tmp_path / "nope"), str(b)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: RUN must be a bench run directory with results.jsonl, got {str(tmp_path / 'nope')!r}"


def test_runs_with_no_common_problem_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = write_run(tmp_path / "A", {"x": ([fresh(0, "print(1)")], {0}, [0])})
    b = write_run(tmp_path / "B", {"y": ([fresh(0, "print(1)")], {0}, [0])})
    with pytest.raises(SystemExit) as e:
        paired.main([str(a), str(b)])
    assert e.value.code == 2
    assert "must share a problem both finished, got none" in capsys.readouterr().err
