"""Ctrl-C: exit 130 with one line saying what was kept, never click's "Aborted!" (issue #15 item 7)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alphagen.cli import main

ROOT = Path(__file__).resolve().parents[1]
SUM = ROOT / "problems" / "sum-of-two.json"


def test_bench_interrupted_says_where_the_run_is_and_how_to_resume(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import alphagen.commands.bench as bench_cmd

    def interrupted(*args: Any) -> Any:
        def solve_fn(*a: Any) -> Any:
            raise KeyboardInterrupt
        return solve_fn

    monkeypatch.setattr(bench_cmd, "lazy_pipeline", interrupted)
    problems = tmp_path / "problems"
    problems.mkdir()
    shutil.copy(SUM, problems / SUM.name)
    run = tmp_path / "run"
    res = CliRunner().invoke(main, ["bench", str(problems), "--out", str(run), "--no-json"])
    assert res.exit_code == 130, res.output
    err = " ".join(res.stderr.split())
    assert "Aborted" not in err
    assert f"finished problems are kept in {run}" in err and f"--resume --out {run}" in err


def test_solve_interrupted_exits_130_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from alphagen.pipeline import Models

    def interrupted(*a: Any, **k: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(Models, "load", interrupted)
    res = CliRunner().invoke(main, ["solve", str(SUM)])
    assert res.exit_code == 130
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert lines == ["interrupted: nothing kept (solve prints its picks at the end)"]


def test_sigint_on_a_waiting_judge() -> None:
    # A real SIGINT on a subprocess waiting for picks on stdin.
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", "from alphagen.cli import main; main()", "judge", str(SUM)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        time.sleep(3)  # imports done, blocked on stdin
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert b"Aborted" not in err and b"interrupted" in err
