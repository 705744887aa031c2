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
        def solve_fn(*a: Any, **k: Any) -> Any:
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


def _blocked_reading_stdin(pid: int) -> bool:
    """Whether the process sits in read(0, ...) (x86-64 syscall 0 on fd 0), per /proc/PID/syscall."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return fields[:2] == ["0", "0x0"]


def test_sigint_on_a_waiting_judge() -> None:
    # A real SIGINT on a subprocess waiting for picks on stdin.
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    # SIGINT at its default in the judge, as under a terminal: a test run started as a background job of a
    # non-interactive shell (`.ci/run &`) inherits SIGINT ignored, and Python then installs no handler: the judge
    # sat in read(0) through two SIGINTs (session 20).
    proc = subprocess.Popen([sys.executable, "-c", "from alphagen.cli import main; main()", "judge", str(SUM)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        # Imports can take seconds on a busy machine: signal only once it really waits on stdin (a fixed sleep
        # raced with slow imports). stdin stays open: closing it would end the wait with "no picks" instead.
        # (30 s was not enough once, with two benchmarks sharing the 2 cores: generous limits, a clear failure.)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not _blocked_reading_stdin(proc.pid):
            time.sleep(0.1)
        assert _blocked_reading_stdin(proc.pid), "judge never blocked reading stdin within 120 s"
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        err = proc.stderr.read() if proc.stderr else b""
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert b"Aborted" not in err and b"interrupted" in err
