"""Execution throughput on a local Ray cluster: `python -m alphagen.distributed.throughput --nodes 1 2`.

Starts a head that takes no work (`--num-cpus=0`) plus N worker nodes of one CPU each on 127.0.0.1, runs the
same batch of (program, input) pairs through `RayExecutor`, and prints executions per second for each N.
Stops the cluster it started with `ray stop --force` (which stops every Ray process on this machine).
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox import Limits, Program

ROOT = Path(__file__).resolve().parents[2]
RAY = str(Path(sys.executable).parent / "ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray(*args: str) -> None:
    subprocess.run([RAY, *args], check=True, capture_output=True, timeout=180)


def _workload(problem_file: Path, copies: int) -> tuple[list[Program], list[str], Limits]:
    """`copies` distinct variants of the problem's reference solution, on its hidden tests."""
    from alphagen.problems import load_problem
    from alphagen.problems.harness import io_for_tests, limits_for, program_for

    problem = load_problem(problem_file)
    ref = problem.solutions[0].code
    programs = [program_for(problem, f"{ref}\n# variant {i}\n", "python") for i in range(copies)]
    inputs, _ = io_for_tests(problem, problem.hidden_tests())
    return programs, inputs, limits_for(problem, None, None)


def measure(nodes: int, problem_file: Path, copies: int) -> dict[str, Any]:
    """Start head + `nodes` one-CPU workers, time one warm-up and one measured batch, stop the cluster."""
    import ray

    from alphagen.distributed.cluster import RayOptions
    from alphagen.distributed.executor import RayExecutor

    tmp = tempfile.mkdtemp(prefix="agtp", dir="/tmp")
    port = _free_port()
    address = f"127.0.0.1:{port}"
    try:
        _ray("start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=0",
             f"--temp-dir={tmp}", "--include-dashboard=false", "--disable-usage-stats")
        for _ in range(nodes):
            _ray("start", f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1",
                 "--disable-usage-stats")
        programs, inputs, limits = _workload(problem_file, copies)
        ex = RayExecutor(RayOptions(address=address, programs_per_task=2))
        # Warm-up: every worker process builds its sandbox executor once (zygote fork servers).
        list(ex.run_batch(programs[: 2 * nodes], inputs[:1], limits))
        # Median of three timed batches: this box is shared, single runs are noisy.
        times = []
        for _ in range(3):
            ex.by_node = {}
            t0 = time.perf_counter()
            results = list(ex.run_batch(programs, inputs, limits))
            times.append(time.perf_counter() - t0)
        seconds = sorted(times)[1]
        ok = sum(r.status.value == "ok" for r in results)
        spread = sorted(ex.by_node.values())
        ray.shutdown()
        return {"nodes": nodes, "executions": len(results), "ok": ok, "seconds": round(seconds, 2),
                "executions_per_s": round(len(results) / seconds, 1), "per_node": spread}
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=180)


def measure_local(workers: int, problem_file: Path, copies: int) -> dict[str, Any]:
    """The same batch on one plain `sandbox.Executor` (no Ray), for the overhead comparison."""
    from sandbox import Executor

    programs, inputs, limits = _workload(problem_file, copies)
    with Executor(workers=workers) as ex:
        list(ex.run_batch(programs[:workers], inputs[:1], limits))
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            n = sum(1 for _ in ex.run_batch(programs, inputs, limits))
            times.append(time.perf_counter() - t0)
    seconds = sorted(times)[1]
    return {"local_workers": workers, "executions": n, "seconds": round(seconds, 2),
            "executions_per_s": round(n / seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[1, 2], help="worker node counts to measure")
    ap.add_argument("--problem", type=Path, default=ROOT / "problems" / "sum-of-two.json")
    ap.add_argument("--copies", type=int, default=48, help="distinct programs in the batch")
    ap.add_argument("--local", type=int, nargs="*", default=[1, 2], help="plain Executor slot counts")
    args = ap.parse_args()
    for w in args.local:
        print(json.dumps(measure_local(w, args.problem, args.copies)), flush=True)
    for n in args.nodes:
        if n < 1:
            raise SystemExit(f"--nodes must be >= 1, got {n}")
        print(json.dumps(measure(n, args.problem, args.copies)), flush=True)


if __name__ == "__main__":
    main()
