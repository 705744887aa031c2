"""The discrimination benchmark measures the pipeline's default sources and reports figures per source."""

from __future__ import annotations

import json

import pytest

from alphagen.benchmarks import testgen as bench
from alphagen.testgen.config import SOURCES


def test_default_setting_is_what_the_pipeline_uses() -> None:
    assert bench.SETTINGS["all"] == SOURCES
    assert bench.build_parser().parse_args([]).sources == "all"


def test_json_reports_per_source_fields(capsys: pytest.CaptureFixture[str]) -> None:
    bench.main(["--sources", "mutation+random", "--problems", "max-in-array", "--json", "--workers", "2"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    per = report["per_setting"]["mutation+random"]["per_source"]
    assert set(per) == {"mutation", "random"}
    for figures in per.values():
        assert {"proposed", "well_formed", "valid", "kept", "separated_alone", "seconds"} <= set(figures)
        assert figures["proposed"] >= figures["well_formed"] >= figures["valid"] >= figures["kept"] > 0
    assert sum(f["kept"] for f in per.values()) == report["per_setting"]["mutation+random"]["inputs"]
