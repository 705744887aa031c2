"""The sampler benchmark's keys and paths, fixed-length sampling, the shipped architecture and scripts/gpu_bench.sh
(tiny sizes on the CPU: the same code path a GPU box runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alphagen.benchmarks.sampler import main as bench_main
from alphagen.models import LoadedModel
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler
from tests.tiny_model import build_tiny_dir

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("backend", ["hf", "generate"])
def test_ignore_eos_gives_fixed_length(tiny_model: LoadedModel, backend: str) -> None:
    # The tiny model's EOS is a common byte-level pick; without ignore_eos some samples would end early.
    params = SamplingParams(temperature=1.0, max_new_tokens=20, stop=(), ignore_eos=True, batch_size=3, seed=1)
    prompt = str(tiny_model.tokenizer.apply_chat_template([{"role": "user", "content": "q"}], tokenize=False))
    out = list(make_sampler(tiny_model, backend).sample([PromptRequest(prompt, 5)], params))
    assert [c.num_tokens for c in out] == [20] * 5
    assert {c.finish_reason for c in out} == {"length"}


def test_benchmark_writes_all_paths_and_ratios(tmp_path: Path) -> None:
    model_dir = build_tiny_dir(tmp_path / "m")
    out = tmp_path / "bench.json"
    result = bench_main(
        ["--model", str(model_dir), "--n", "3", "--max-new-tokens", "5", "--paths", "generate,fp32,default",
         "--fixed-length", "--no-probe", "--out", str(out)]
    )
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(result))
    for key in ("baseline_tokens_per_sec", "fp32_tokens_per_sec", "default_tokens_per_sec", "default_vs_fp32",
                "default_vs_generate", "ratio", "default_backend", "default_dtype"):
        assert key in saved, key
    # Fixed length: every path generated exactly n x max_new_tokens tokens, so the ratios compare like with like.
    assert saved["baseline_tokens"] == saved["fp32_tokens"] == saved["default_tokens"] == 15
    assert saved["default_vs_fp32"] == pytest.approx(saved["default_tokens_per_sec"] / saved["fp32_tokens_per_sec"])


def test_shipped_architecture_is_the_embedded_model() -> None:
    from alphagen.models.random_weights import ARCH_DIR, arch_names

    assert "qwen2.5-coder-0.5b" in arch_names()
    config = json.loads((ARCH_DIR / "qwen2.5-coder-0.5b" / "config.json").read_text())
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (896, 24, 151936)


@pytest.mark.slow
def test_gpu_bench_script_runs_tiny_on_cpu(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    env = {**os.environ, "N": "2", "MAX_NEW": "3", "SWEEP": "1,2", "DEVICE": "cpu", "PYTHON": sys.executable,
           "ALPHAGEN_CACHE": str(tmp_path / "cache"), "TIME_LIMIT": "300"}
    proc = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_bench.sh"), str(out)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    result = json.loads(out.read_text())
    # The keys a GPU run reports: baseline vs ours (default), the static-cache generate, the sweep, the device.
    for key in ("baseline_tokens_per_sec", "default_tokens_per_sec", "static_tokens_per_sec", "default_vs_generate",
                "gpu", "device", "batch_sweep", "random_weights", "fixed_length"):
        assert key in result, key
    assert result["random_weights"] and result["fixed_length"] and result["device"] == "cpu"
    assert result["default_tokens"] == 2 * 3 and result["baseline_tokens"] == 2 * 3
    assert [row["batch_size"] for row in result["batch_sweep"]] == [1, 2]
    assert json.loads(proc.stdout.strip().splitlines()[-2]) == result  # --json line, then "wrote ..."


@pytest.mark.slow
def test_cached_gguf_joins_once() -> None:
    from alphagen.models.gguf_file import cached_gguf
    from alphagen.models.registry import DEFAULT_MODEL, REGISTRY

    path = cached_gguf()
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"
    assert path.stat().st_size == REGISTRY[DEFAULT_MODEL].size
    stamp = path.stat().st_mtime_ns
    assert cached_gguf() == path and path.stat().st_mtime_ns == stamp  # the second call reuses the checked file
