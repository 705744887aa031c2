"""The discrimination benchmark measures the pipeline's default sources and reports figures per source."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphagen.benchmarks import testgen as bench
from alphagen.testgen.config import SOURCES


def test_default_setting_is_what_the_pipeline_uses() -> None:
    assert bench.SETTINGS["all"] == SOURCES
    assert bench.build_parser().parse_args([]).sources == "all"


def test_json_reports_per_source_fields(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--sources", "mutation+random", "--problems", "max-in-array", "--json", "--workers", "2",
                "--no-resume"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    per = report["per_setting"]["mutation+random"]["per_source"]
    assert set(per) == {"mutation", "random"}
    for figures in per.values():
        assert {"proposed", "well_formed", "valid", "kept", "separated_alone", "seconds"} <= set(figures)
        assert figures["proposed"] >= figures["well_formed"] >= figures["valid"] >= figures["kept"] > 0
    assert sum(f["kept"] for f in per.values()) == report["per_setting"]["mutation+random"]["inputs"]


def test_an_interrupted_run_resumes_without_scoring_a_problem_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["--sources", "mutation", "--problems", "max-in-array", "anagram-classes", "--json", "--workers", "2",
            "--work", str(tmp_path)]
    bench.main(argv)
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (record,) = tmp_path.iterdir()
    lines = record.read_text().splitlines()
    assert len(lines) == 2
    # Interrupted while writing the second problem's line: the first is kept, the second scored again.
    record.write_text(lines[0] + "\n" + lines[1][: len(lines[1]) // 2])
    scored: list[str] = []
    real = bench.score_case
    monkeypatch.setattr(bench, "score_case", lambda case, *a: (scored.append(case.name), real(case, *a)))
    bench.main(argv)
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert scored == [json.loads(lines[1])["case"]]
    for key in ("separated_wrong_fraction", "split_correct_fraction"):
        assert again[key] == first[key]
    assert again["per_setting"]["mutation"]["wrong_programs"] == first["per_setting"]["mutation"]["wrong_programs"]
    # Once complete, nothing is scored again; other settings get their own record.
    scored.clear()
    bench.main(argv)
    assert scored == []
