"""Benchmark: executions per second per core, our isolated executor vs a fresh `python3 -S -I` per test.

`python -m sandbox.bench [--json]` runs both on a trivial stdin program and a 40-line Dijkstra program in one
run,
prints the figures, writes runs/BENCH_SANDBOX.json (`--out`), and (with --json) prints the figures as
one
JSON object on its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from sandbox.executor import Executor
from sandbox.values import Limits, Program

TRIVIAL = "print(input())\n"
DIJKSTRA = """\
import heapq
import sys


def read_graph():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adj = [[] for _ in range(n + 1)]
    pos = 2
    for _ in range(m):
        a, b, w = int(data[pos]), int(data[pos + 1]), int(data[pos + 2])
        pos += 3
        adj[a].append((b, w))
        adj[b].append((a, w))
    return n, adj


def dijkstra(n, adj, source):
    dist = [float("inf")] * (n + 1)
    dist[source] = 0
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist


def main():
    n, adj = read_graph()
    dist = dijkstra(n, adj, 1)
    out = [str(d) if d != float("inf") else "-1" for d in dist[1:]]
    sys.stdout.write(" ".join(out) + "\\n")


main()
"""
# Default: runs/ (ignored); `make bench-results` refreshes the tracked copy under benchmarks/results/.
RESULTS = Path(__file__).resolve().parents[1] / "runs" / "BENCH_SANDBOX.json"


def _graph_input(seed: int, n: int = 60, m: int = 150) -> str:
    """A small random connected-ish graph: the program's work stays comparable to interpreter start-up."""
    state = seed * 2654435761 % 2**32 or 1
    edges = []
    for i in range(m):
        state = state * 1103515245 + 12345 & 0x7FFFFFFF
        a = i % n + 1
        b = state % n + 1
        edges.append(f"{a} {b} {state % 100 + 1}")
    return f"{n} {m}\n" + "\n".join(edges) + "\n"


def _baseline(python: str, source: str, inputs: list[str], workers: int) -> float:
    """The peers' way: one fresh interpreter per test (no isolation at all). Returns executions per second."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "main.py"
        path.write_text(source)

        def one(data: str) -> bytes:
            return subprocess.run(
                [python, "-S", "-I", str(path)],
                input=data.encode(),
                capture_output=True,
                timeout=30,
                check=True,
            ).stdout

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outputs = list(pool.map(one, inputs))
        elapsed = time.perf_counter() - start
    if any(not out for out in outputs):
        raise RuntimeError("baseline produced empty output")
    return len(inputs) / elapsed


def _isolated(executor: Executor, source: str, inputs: list[str], tests_per_child: int) -> float:
    """Our executor with full isolation; every result must be ok. Returns executions per second."""
    start = time.perf_counter()
    limits = Limits(time_s=5.0, memory_mb=256)
    results = list(executor.run_batch([Program(source)], inputs, limits, tests_per_child=tests_per_child))
    elapsed = time.perf_counter() - start
    bad = [r for r in results if not r.ok]
    if bad:
        raise RuntimeError(f"isolated run failed: {bad[0].status.value} {bad[0].detail} {bad[0].stderr[-300:]!r}")
    return len(results) / elapsed


def run_bench(n_isolated: int, n_baseline: int, python: str, workers: int, tests_per_child: int) -> dict[str, object]:
    cases = {
        "trivial": (TRIVIAL, [f"line {i}" for i in range(n_isolated)]),
        "dijkstra": (DIJKSTRA, [_graph_input(i) for i in range(n_isolated)]),
    }
    figures: dict[str, dict[str, float]] = {}
    load_before = os.getloadavg()
    with Executor(workers=workers, python=python) as executor:
        caps = executor.capabilities
        for name, (source, inputs) in cases.items():
            # Warm-up: the zygotes compiled the program, caches are hot.
            _isolated(executor, source, inputs[:200], tests_per_child)
            ours = _isolated(executor, source, inputs, tests_per_child)
            # The same executor with a fresh isolated child for every test (tests_per_child=1).
            single = _isolated(executor, source, inputs, 1)
            base = _baseline(python, source, inputs[:n_baseline], workers)
            figures[name] = {
                "isolated_execs_per_sec_per_core": round(ours / workers, 1),
                "baseline_execs_per_sec_per_core": round(base / workers, 1),
                "ratio": round(ours / base, 2),
                "single_child_execs_per_sec_per_core": round(single / workers, 1),
                "single_child_ratio": round(single / base, 2),
            }
    return {
        **figures["trivial"],
        "programs": figures,
        "workers": workers,
        "tests_per_child": tests_per_child,
        "cpu_count": psutil.cpu_count(logical=True),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "isolation": {k: v for k, v in caps.items() if k in ("netns", "landlock", "seccomp", "uid")},
        "python": python,
        "machine": platform.machine(),
        "kernel": platform.release(),
        "n_isolated": n_isolated,
        "n_baseline": n_baseline,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    parser.add_argument("--n", type=int, default=4000, help="executions per program for the isolated executor")
    parser.add_argument("--n-baseline", type=int, default=400, help="executions per program for the baseline")
    parser.add_argument("--python", default="/usr/bin/python3", help="interpreter for both sides")
    parser.add_argument("--workers", type=int, default=None, help="worker slots / baseline threads (default: cores)")
    parser.add_argument(
        "--tests-per-child",
        type=int,
        default=8,
        help="tests of one program run in turn by one isolated child (the one-child-per-test figure is measured too)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results file")
    args = parser.parse_args(argv)
    workers = args.workers or psutil.cpu_count(logical=True) or 1
    if args.n < 1 or args.n_baseline < 1:
        parser.error(f"--n and --n-baseline must be >= 1, got {args.n} and {args.n_baseline}")
    if not 1 <= args.tests_per_child <= 64:
        parser.error(f"--tests-per-child must be in 1..64, got {args.tests_per_child}")
    report = run_bench(args.n, args.n_baseline, args.python, workers, args.tests_per_child)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    programs: dict[str, dict[str, float]] = report["programs"]  # type: ignore[assignment]
    for name, fig in programs.items():
        print(
            f"{name:9s} isolated {fig['isolated_execs_per_sec_per_core']:8.1f} execs/s/core "
            f"({report['tests_per_child']} tests per child; one child per test: "
            f"{fig['single_child_execs_per_sec_per_core']:.1f})   "
            f"baseline (python3 -S -I per test) {fig['baseline_execs_per_sec_per_core']:7.1f} execs/s/core   "
            f"ratio {fig['ratio']:.1f}x"
        )
    print(
        f"load average before/after: {report['load_average_before']} / {report['load_average_after']} "
        f"on {report['cpu_count']} CPUs; results in {args.out}"
    )
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
