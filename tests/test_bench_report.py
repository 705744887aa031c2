"""report.html and solve_rate.png: complete, escaped, and rendering in headless Chromium."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path
from typing import Any, cast

import pytest
from test_bench_fakes import run_fake_bench

from alphagen.evaluation.report import metric_rows, render_html, write_report
from alphagen.evaluation.summary import build_summary

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _run(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, dict[str, Any]]]:
    run = tmp_path / "run"
    records = run_fake_bench(run, resume=False, n=16)
    summary = build_summary(list(records.values()), len(records), {"n": 16, "num_picks": 10})
    return run, summary, records


def test_report_holds_metrics_curve_and_every_problem(tmp_path: Path) -> None:
    run, summary, records = _run(tmp_path)
    page = write_report(run, summary, records).read_text()
    # Every aggregate number shown on the terminal is on the page, and every problem has a row.
    for label, value in metric_rows(summary):
        assert label in page and value in page
    for name in records:
        assert name in page
    assert "data:image/png;base64," in page
    png = (run / "solve_rate.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_untrusted_text_is_escaped(tmp_path: Path) -> None:
    _, summary, records = _run(tmp_path)
    summary["per_problem"][0] |= {"name": "<script>alert(1)</script>", "status": "error", "error": "a<b>"}
    page = render_html(summary, records, None)
    assert "<script>" not in page and "&lt;script&gt;" in page and "a&lt;b&gt;" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (Debian package `chromium`)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    from PIL import Image

    run, summary, records = _run(tmp_path)
    page = write_report(run, summary, records)
    shot = tmp_path / "shot.png"
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
        page.resolve().as_uri(),
    ]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    assert image.size == (1200, 1600)
    # A rendered page has text, table rules and the plot: many colours, and ink down most of the page.
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 200
    gray = image.convert("L")
    extrema = [gray.crop((0, y, 1200, y + 100)).getextrema() for y in range(0, 1600, 100)]
    bands = [cast(tuple[int, int], e)[0] for e in extrema]
    assert sum(1 for darkest in bands if darkest < 128) >= 12, bands


def test_each_problem_explains_itself(tmp_path: Path) -> None:
    from alphagen.evaluation.report import picks_rows

    run, summary, records = _run(tmp_path)
    page = write_report(run, summary, records).read_text()
    solved = next(name for name, r in records.items() if r.get("status") == "ok" and r["picks"])
    # A section per problem with stages, clusters and the picks' code, linked from the table's pick cells.
    assert f"id='p-{solved}'" in page and f"href='#p-{solved}'" in page
    assert f"href='#p-{solved}-pick-1'" in page and f"id='p-{solved}-pick-1'" in page
    section = page[page.index(f"id='p-{solved}'"):]
    section = section[: section.index("</details>\n<details id='p-") if "</details>\n<details id='p-" in section
                      else len(section)]
    assert "<th>stage</th>" in section and "representative" in section and "<pre>" in section
    # A pick-count row where no problem is contested says it cannot differ.
    pvr = {"pick_counts": [1, 10], "clustering": {"1": 1.0, "10": 1.0}, "random": {"1": 0.5, "10": 1.0},
           "random_samples": {"1": 0.5, "10": 1.0}, "contested": {"1": 3, "10": 0}}
    rows = dict(picks_rows(pvr))
    assert "cannot differ" in rows["10 picks: clustering / random"]
    assert "cannot differ" not in rows["1 pick: clustering / random"]


def test_a_problem_section_shows_the_inputs_that_split_its_clusters() -> None:
    from alphagen.evaluation.records import VerdictRecord
    from alphagen.evaluation.report import problem_details
    from alphagen.results import Candidate, InputSplit, Pick, SolveResult

    cands = (Candidate(0, "python", "print(max(a))", passed_examples=True, signature="s1"),
             Candidate(1, "python", "print(a[-1])", passed_examples=True, signature="s2"),
             Candidate(2, "python", "print(max(a))  # again", duplicate_of=0, passed_examples=True))
    result = SolveResult("p", cands, (Pick(1, 0, "python", "print(max(a))", 0, 2, 2.0),), (),
                         test_inputs=("3\n9 1 2\n", "2\n1 5\n"), num_clusters=2,
                         splits=(InputSplit(0, ((0, "9"), (1, "2"))),))
    verdicts = {0: VerdictRecord(True, "ok", 3, 3, "all 3 tests passed", 0.1)}
    page = problem_details("p", {"result": result, "verdicts": verdicts,
                                 "record": {"solved": True, "passed_examples": 3, "n": 3, "num_clusters": 2}})
    section = page[page.index("that split the clusters"):]
    # The splitting input, then each cluster (0 is the larger) with its representative and output.
    assert section.index("3\n9 1 2") < section.index("<td>0</td><td>sample 0</td><td><code>9</code>")
    assert "<td>1</td><td>sample 1</td><td><code>2</code>" in section
