"""Mistakes a new user makes on the command line: one line saying what was wrong, exit status 2, no traceback.

Run as real processes, as a user runs them: the traceback this guards against came from outside click's handling.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def assert_one_line_exit_2(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr
    assert proc.stdout == ""
    assert all(needle in lines[0] for needle in needles), lines[0]


def test_a_log_file_in_a_missing_directory(tmp_path: Path) -> None:
    log = tmp_path / "missing-dir" / "x.log"
    proc = run("-c", "from alphagen.cli import main; main(prog_name='alphagen')",
               "--log-file", str(log), "check", "problems/sum-of-two.json")
    assert_one_line_exit_2(proc, f"--log-file must be a file we can write, got '{log}'", "No such file or directory")


def test_sandbox_run_with_zero_workers(tmp_path: Path) -> None:
    program = tmp_path / "p.py"
    program.write_text("print(1)\n")
    proc = run("-m", "sandbox", "run", str(program), "--workers", "0")
    assert_one_line_exit_2(proc, "--workers must be between 1 and 1000, got 0")
