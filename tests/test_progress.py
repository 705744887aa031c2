"""Progress for people: per-source test-input stages, and lines instead of bars when stderr is piped."""

from __future__ import annotations

from rich.console import Console

import alphagen.progress as progress
from alphagen.console import plural


def test_piped_progress_is_one_line_per_stage_and_source(monkeypatch: object) -> None:
    con = Console(record=True, width=200, file=open("/dev/null", "w"))  # noqa: SIM115
    monkeypatch.setattr(progress, "console", con)  # type: ignore[attr-defined]
    lines = progress.StageLines()
    lines("sample", 0, 4)
    lines("sample", 4, None)
    lines("testgen:mutation", 30, None)
    lines("testgen:model", 4, None)
    lines.finish()
    text = con.export_text()
    assert "sampling programs… (4 expected)" in text and "sampling programs: 4 done in" in text
    assert "test inputs · mutation: 30 done" in text and "test inputs · model-written: 4 done" in text


def test_overlapping_sampling_and_filter_are_one_line_each(monkeypatch: object) -> None:
    con = Console(record=True, width=200, file=open("/dev/null", "w"))  # noqa: SIM115
    monkeypatch.setattr(progress, "console", con)  # type: ignore[attr-defined]
    lines = progress.StageLines()
    # The streamed pipeline: sampler and filter updates interleave until sampling ends.
    for stage, k, total in [("sample", 0, 16), ("filter", 0, None), ("sample", 8, None), ("filter", 8, None),
                            ("sample", 8, None), ("filter", 7, None), ("testgen:random", 5, None)]:
        lines(stage, k, total)
    lines.finish()
    text = con.export_text()
    assert text.count("sampling programs…") == 1 and text.count("running examples…") == 1
    assert "sampling programs: 16 done in" in text and "running examples: 15 done in" in text
    # Both end when the next stage starts, before its first line.
    assert text.index("running examples: 15 done") < text.index("test inputs · random…")


def test_plurals() -> None:
    assert [plural(1, "cluster"), plural(2, "cluster"), plural(1, "mismatch"), plural(3, "mismatch")] == [
        "1 cluster", "2 clusters", "1 mismatch", "3 mismatches"]
