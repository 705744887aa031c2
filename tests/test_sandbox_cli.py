"""`python -m sandbox run`: one result per input, JSON lines with a status, exit status 1 when one fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_cli_json_one_line_per_input(tmp_path: Path) -> None:
    prog = tmp_path / "prog.py"
    prog.write_text("n = int(input())\nassert n > 0\nprint(n * 2)\n")
    (tmp_path / "a.in").write_text("21\n")
    (tmp_path / "b.in").write_text("-1\n")
    cmd = [
        sys.executable,
        "-m",
        "sandbox",
        "run",
        str(prog),
        "--lang",
        "python",
        "--json",
        "--time-limit",
        "2",
        "--memory-limit",
        "128",
        "--input",
        str(tmp_path / "a.in"),
        "--input",
        str(tmp_path / "b.in"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(x["status"], x["stdout"]) for x in lines] == [("ok", "42\n"), ("runtime_error", "")]
    assert proc.returncode == 1


def test_cli_reads_own_stdin_without_inputs(tmp_path: Path) -> None:
    prog = tmp_path / "rev.py"
    prog.write_text("print(input()[::-1])\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", str(prog), "--json"],
        input="abc\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout.splitlines()[-1])["stdout"] == "cba\n"
