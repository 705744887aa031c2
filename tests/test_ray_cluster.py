"""`alphagen bench --ray` on a real local Ray cluster (a head and one worker node on 127.0.0.1).

Checks what a user scaling out relies on: the same seed gives the same summary and the same samples as the
single-machine run, execution really runs as Ray tasks, and killing the worker node's raylet mid-run costs
nothing but time (Ray re-runs the lost tasks; nothing is lost or counted twice).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from alphagen.cli import main
from tests.test_bench_cli import pool_solver
from tests.tiny_model import build_tiny_dir

pytest.importorskip("ray", reason="Ray is not installed (pip install 'alphagen[ray]')")
psutil = pytest.importorskip("psutil")

PROBLEMS = Path(__file__).resolve().parents[1] / "problems"
RAY = str(Path(sys.executable).parent / "ray")
# Fast failure detection: a killed raylet is declared dead in about a second instead of half a minute.
RAY_ENV = os.environ | {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_failure_threshold": "3",
    "RAY_health_check_initial_delay_ms": "0",
}
SLOT = '--resources={"sampler_slot": 1}'
pytestmark = pytest.mark.skipif(not Path(RAY).exists(), reason=f"no ray executable next to {sys.executable}")


@dataclass(frozen=True)
class Cluster:
    """A running two-node local cluster."""

    address: str
    """HOST:PORT of the head."""
    worker_ports: list[int]
    """Node-manager ports of the live worker nodes (each identifies its raylet); a fault test removes its victim."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray(*args: str) -> None:
    subprocess.run([RAY, *args], check=True, env=RAY_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=120)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    # A short temp dir: Ray's unix socket paths must fit in 107 bytes.
    tmp = tempfile.mkdtemp(prefix="agray", dir="/tmp")
    port, worker_port = _free_port(), _free_port()
    address = f"127.0.0.1:{port}"
    try:
        # One "sampler_slot" per node lets the actor test place actors exactly (and restart them elsewhere).
        _ray("start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=1", SLOT,
             f"--temp-dir={tmp}", "--include-dashboard=false", "--disable-usage-stats")
        _ray("start", f"--address={address}", "--node-ip-address=127.0.0.1", "--num-cpus=1", SLOT,
             f"--node-manager-port={worker_port}", "--disable-usage-stats")
        yield Cluster(address=address, worker_ports=[worker_port])
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], env=RAY_ENV, capture_output=True, timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


def _bench(args: list[str]) -> dict[str, Any]:
    res = CliRunner().invoke(main, ["bench", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def _without_timing(summary: dict[str, Any]) -> dict[str, Any]:
    # Wall-clock timings differ between any two runs; everything else must be equal.
    return {k: v for k, v in summary.items() if k != "timing"}


def _samples(run: Path) -> dict[str, list[tuple[int, str, str | None]]]:
    """Every problem's stored samples (index, code, example status)."""
    out = {}
    for f in sorted((run / "problems").iterdir()):
        for line in f.read_text().splitlines():
            ev = json.loads(line)
            if ev.get("event") == "samples":
                out[f.stem] = [(c["index"], c["code"], c.get("example_status"))
                               for c in ev["result"]["candidates"]]
    return out


def test_tiny_model_samples_on_ray_equal_one_machine(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alphagen.distributed.sampler as ray_sampler

    loaded: list[Any] = []
    real_load = ray_sampler.load_models

    def recording_load(*args: Any) -> Any:
        loaded.append(real_load(*args))
        return loaded[-1]

    monkeypatch.setattr(ray_sampler, "load_models", recording_load)
    model = build_tiny_dir(tmp_path / "tiny")
    # Two prompt groups per problem: two shards, drawn by whichever actor is free.
    common = [str(PROBLEMS), "--limit", "2", "-n", "12", "--max-new-tokens", "16", "--model", str(model),
              "--seed", "5"]
    # Ray samples each problem in its own calls (no sampling windows): so does the reference.
    local = _bench([*common, "--window-samples", "0", "--out", str(tmp_path / "local")])
    distributed = _bench([*common, "--out", str(tmp_path / "ray"), "--ray", cluster.address])
    assert _without_timing(distributed) == _without_timing(local)
    samples = _samples(tmp_path / "ray")
    assert samples == _samples(tmp_path / "local")
    assert sorted(len(v) for v in samples.values()) == [12, 12]
    # The second problem's shards were started while the first one was still being executed and judged.
    assert loaded[0].sampler.prefetch_hits == 1


def test_solve_on_ray_reports_like_one_machine(cluster: Cluster, tmp_path: Path) -> None:
    model = build_tiny_dir(tmp_path / "tiny")
    args = ["solve", str(PROBLEMS / "sum-of-two.json"), "-n", "12", "--max-new-tokens", "16", "--model",
            str(model), "--seed", "1", "--json"]
    local = CliRunner().invoke(main, args)
    distributed = CliRunner().invoke(main, [*args, "--ray", cluster.address])
    # The tiny random model never passes the examples: both exit 1 (no pick) and say so the same way.
    assert local.exit_code == distributed.exit_code == 1, distributed.output
    # Same picks on stdout and the same counts line (sampled, distinct, passed, clusters, picked).
    assert distributed.stdout == local.stdout
    counts = [line for line in local.output.splitlines() if " sampled · " in line]
    assert counts and counts[0].startswith("sum-of-two: 12 sampled")
    assert counts[-1] in distributed.output.splitlines()


def test_repairs_on_ray_equal_one_machine(cluster: Cluster, tmp_path: Path) -> None:
    # The tiny random model fails every example: half the budget goes to repairs, numbered after n, through the
    # actors; the stored pools (lineage included) and the summary equal the single-machine run's.
    model = build_tiny_dir(tmp_path / "tiny")
    common = [str(PROBLEMS), "--limit", "1", "-n", "6", "--max-new-tokens", "12", "--model", str(model),
              "--seed", "2", "--repair-share", "0.5", "--test-sources", "mutation"]
    # Ray samples each problem in its own calls (no sampling windows): so does the reference.
    local = _bench([*common, "--window-samples", "0", "--out", str(tmp_path / "local")])
    distributed = _bench([*common, "--out", str(tmp_path / "ray"), "--ray", cluster.address])
    assert _without_timing(distributed) == _without_timing(local)
    samples = _samples(tmp_path / "ray")
    assert samples == _samples(tmp_path / "local")
    (pool,) = samples.values()
    assert [i for i, _, _ in pool] == [0, 1, 2, 6, 7, 8]


def test_sampler_actor_lost_with_its_node_is_restarted_and_samples_are_unchanged(
    cluster: Cluster, tmp_path: Path
) -> None:
    import ray

    from alphagen.distributed.cluster import RayOptions
    from alphagen.distributed.sampler import RaySampler
    from alphagen.models import load_model
    from alphagen.sampling import PromptRequest, SamplingParams, make_sampler

    model = str(build_tiny_dir(tmp_path / "tiny"))
    requests = [PromptRequest(prompt=f"def f{i}(x):", count=4) for i in range(6)]
    params = SamplingParams(temperature=0.8, max_new_tokens=24, seed=3)
    local = sorted(make_sampler(load_model(model, device="cpu")).sample(requests, params),
                   key=lambda c: c.sample_index)
    # A third node, so that two stay alive after this test kills one worker node holding an actor.
    port = _free_port()
    _ray("start", f"--address={cluster.address}", "--node-ip-address=127.0.0.1", "--num-cpus=1", SLOT,
         f"--node-manager-port={port}", "--disable-usage-stats")
    cluster.worker_ports.append(port)
    try:
        # Two actors, one sampler_slot each, three nodes with one slot each: at least one actor is on a worker
        # node (killed below), and a slot stays free for its restart (Ray's own max_restarts).
        options = RayOptions(address=cluster.address, num_samplers=2, sampler_resources=(("sampler_slot", 1),))
        sampler = RaySampler(options, model, "hf", "cpu")
        placed = dict(ray.get([a.where.remote() for a in sampler.actors]))
        workers = {n["NodeID"]: n["NodeManagerPort"] for n in ray.nodes()
                   if n["Alive"] and n["NodeManagerPort"] in cluster.worker_ports}
        # Placement is Ray's (SPREAD is best effort): take a worker node that got an actor.
        victim = next((node for node in workers if node in placed), None)
        assert victim is not None, f"no sampler actor on a worker node: {placed}"
        cluster.worker_ports.remove(workers[victim])
        pids = [_raylet_pid(workers[victim])] + [pid for node, pid in ray.get(
            [a.where.remote() for a in sampler.actors]) if node == victim]
        killed: list[int] = []

        def kill_after_first_shard(k: int) -> None:
            # The whole node goes: its raylet and the actor processes on it, while they hold shards.
            if not killed:
                for pid in pids:
                    os.kill(pid, signal.SIGKILL)
                killed.extend(pids)

        merged = sorted(sampler.sample(requests, params, progress=kill_after_first_shard),
                        key=lambda c: c.sample_index)
        assert killed
        nodes_after = {node for node, _ in ray.get([a.where.remote() for a in sampler.actors])}
    finally:
        ray.shutdown()
    # The lost actor came back on a live node, and the merged samples are exactly the single-machine ones.
    assert victim not in nodes_after
    assert [(c.sample_index, c.text, c.finish_reason) for c in merged] == \
        [(c.sample_index, c.text, c.finish_reason) for c in local]


class _Recorder:
    """Wraps the bench's solver factory to remember the executor it was given."""

    def __init__(self) -> None:
        self.executors: list[Any] = []

    def __call__(self, executor: Any, *args: Any) -> Any:
        self.executors.append(executor)
        return pool_solver(executor, *args)


@pytest.fixture(scope="module")
def local_pool_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The single-machine reference run of the pool solver (real sandbox, real judge)."""
    mp = pytest.MonkeyPatch()
    import alphagen.commands.bench as bench_cmd

    mp.setattr(bench_cmd, "lazy_pipeline", pool_solver)
    try:
        return _bench([str(PROBLEMS), "--limit", "3", "-n", "8", "--seed", "2", "--window-samples", "0",
                       "--out", str(tmp_path_factory.mktemp("pool") / "local")])
    finally:
        mp.undo()


def test_execution_on_ray_equals_one_machine(
    cluster: Cluster, local_pool_run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alphagen.commands.bench as bench_cmd
    from alphagen.distributed.executor import RayExecutor

    rec = _Recorder()
    monkeypatch.setattr(bench_cmd, "lazy_pipeline", rec)
    summary = _bench([str(PROBLEMS), "--limit", "3", "-n", "8", "--seed", "2", "--out", str(tmp_path / "r"),
                      "--ray", cluster.address])
    assert _without_timing(summary) == _without_timing(local_pool_run)
    (executor,) = rec.executors
    # The examples and the hidden-test judging really ran as Ray tasks.
    assert isinstance(executor, RayExecutor) and executor.executions > 10
    assert sum(executor.by_node.values()) == executor.executions


def _raylet_pid(node_manager_port: int) -> int:
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if "raylet" in (p.info["name"] or "") and f"--node_manager_port={node_manager_port}" in cmd:
            return int(p.pid)
    raise AssertionError(f"no raylet with node manager port {node_manager_port}")


def test_killing_the_worker_raylet_mid_run_changes_nothing(
    cluster: Cluster, local_pool_run: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alphagen.commands.bench as bench_cmd

    rec = _Recorder()
    monkeypatch.setattr(bench_cmd, "lazy_pipeline", rec)
    pid = _raylet_pid(cluster.worker_ports[0])
    result: dict[str, Any] = {}

    def run() -> None:
        result["summary"] = _bench([str(PROBLEMS), "--limit", "3", "-n", "8", "--seed", "2",
                                    "--out", str(tmp_path / "r"), "--ray", cluster.address])

    thread = threading.Thread(target=run)
    thread.start()
    # Kill once both nodes have finished chunks: tasks are then in flight on the worker too.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (rec.executors and len(rec.executors[0].by_node) >= 2):
        time.sleep(0.02)
    assert rec.executors and len(rec.executors[0].by_node) >= 2, "execution never reached the worker node"
    done_at_kill = rec.executors[0].executions
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=240)
    assert not thread.is_alive(), "the run did not finish after the worker node died"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    assert _without_timing(result["summary"]) == _without_timing(local_pool_run)
    # The kill happened mid-run: executions went on after it.
    assert rec.executors[0].executions > done_at_kill
