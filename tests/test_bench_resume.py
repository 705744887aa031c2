"""kill -9 at random points, resume, and get exactly what an uninterrupted run with the same seed gets."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_bench_fakes import comparable, run_fake_bench

from alphagen.evaluation.store import RESULTS, read_jsonl

FAKES = Path(__file__).with_name("test_bench_fakes.py")
REPO = Path(__file__).resolve().parents[1]


def _start(run_dir: Path) -> subprocess.Popen[bytes]:
    # Killed before it even created the directory: the next attempt starts the run, as a user would.
    mode = "resume" if run_dir.exists() else "start"
    env = os.environ | {"FAKE_BENCH_SLEEP": "0.15", "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, str(FAKES), str(run_dir), mode], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_at_random_points_then_resume_matches_uninterrupted(tmp_path: Path) -> None:
    reference = comparable(run_fake_bench(tmp_path / "ref", resume=False))
    run = tmp_path / "run"
    rng = random.Random(2024)
    kills = 0
    proc = _start(run)
    # Kill the run over and over at random moments (during solves, verdicts, commits), resuming each time.
    for _ in range(8):
        time.sleep(rng.uniform(0.3, 0.9))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
        proc = _start(run)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert kills >= 2, "the run finished before it could be interrupted: the test proves nothing"
    # The resumed run's committed records equal the uninterrupted run's, each problem exactly once.
    lines = read_jsonl(run / RESULTS)
    names = [r["name"] for r in lines]
    assert sorted(names) == sorted(set(names))
    assert comparable({r["name"]: r for r in lines}) == reference
