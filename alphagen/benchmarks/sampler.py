"""Sampling throughput benchmark: transformers generate(num_return_sequences=n) vs our sampler, same run.

    python -m alphagen.benchmarks.sampler [--json] [--n 32] [--max-new-tokens 256] [--model M]

Prints generated tokens/s and samples/s of both paths, their ratio, and the fraction of the FLOP-bound limit
(matmul probe GFLOP/s divided by the model's FLOPs per token) that our sampler reaches;
writes BENCH_SAMPLER.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch

from alphagen.benchmarks.sampler_prompt import benchmark_prompt
from alphagen.models import LoadedModel, load_model
from alphagen.models.loader import quantize_int8
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler

PROBE_SIZE = 1536


def matmul_probe(device: torch.device, dtype: torch.dtype, seconds: float = 2.0) -> float:
    """Sustained GFLOP/s of square matmuls in the model's dtype: the compute roof for the FLOP-bound limit."""
    a = torch.randn(PROBE_SIZE, PROBE_SIZE, device=device, dtype=dtype)
    b = torch.randn(PROBE_SIZE, PROBE_SIZE, device=device, dtype=dtype)
    a @ b  # warm-up: thread pools, allocator
    runs = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        runs += 1
        if device.type == "cuda":
            torch.cuda.synchronize()
    return runs * 2 * PROBE_SIZE**3 / (time.perf_counter() - start) / 1e9


def flops_per_token(lm: LoadedModel) -> float:
    """Matmul FLOPs per generated token: 2 x every weight matrix used per token (embedding lookup
    excluded)."""
    emb = lm.model.get_input_embeddings().weight
    total = sum(p.numel() for name, p in lm.model.named_parameters() if p.dim() == 2 and p is not emb)
    # Tied embeddings: the output projection reuses the embedding matrix, still a full matmul per token.
    if lm.model.get_output_embeddings().weight is emb:
        total += emb.numel()
    return 2.0 * total


def run_path(lm: LoadedModel, backend: str, prompt: str, params: SamplingParams, n: int) -> dict[str, float]:
    """Sample n completions of the prompt through one backend; tokens are those of the finished samples."""
    sampler = make_sampler(lm, backend)
    start = time.perf_counter()
    completions = list(sampler.sample([PromptRequest(prompt=prompt, count=n)], params))
    elapsed = time.perf_counter() - start
    tokens = sum(c.num_tokens for c in completions)
    return {
        "seconds": elapsed,
        "tokens": tokens,
        "tokens_per_sec": tokens / elapsed,
        "samples_per_sec": n / elapsed,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run both paths and the probe, print a summary (and JSON on the last line with --json)."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=32, help="samples per path (default 32)")
    ap.add_argument("--max-new-tokens", type=int, default=256, help="max new tokens per sample (default 256)")
    ap.add_argument("--model", default=None, help="model spec (default: the embedded 0.5B)")
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--batch-size", type=int, default=None, help="our sampler's rows (default: from free memory)"
    )
    ap.add_argument("--no-int8", action="store_true", help="skip the int8-quantized run of our sampler (CPU)")
    ap.add_argument("--json", action="store_true", help="print one JSON object on the last line")
    ap.add_argument("--out", default="BENCH_SAMPLER.json", help="where to write the JSON result")
    args = ap.parse_args(argv)
    if args.n < 1 or args.max_new_tokens < 1:
        ap.error(f"--n and --max-new-tokens must be >= 1, got {args.n} and {args.max_new_tokens}")

    lm = load_model(args.model)
    prompt = benchmark_prompt(lm.tokenizer)
    params = SamplingParams(
        temperature=args.temperature,
        max_new_tokens=args.max_new_tokens,
        seed=args.seed,
        batch_size=args.batch_size,
    )
    # Probe before and after the sampling runs and average: other processes share the cores.
    probe = [matmul_probe(lm.device, lm.dtype)]
    baseline = run_path(lm, "generate", prompt, params, args.n)
    ours = run_path(lm, "hf", prompt, params, args.n)
    probe.append(matmul_probe(lm.device, lm.dtype))
    gflops = sum(probe) / len(probe)
    # Counted on the fp32 weights, before any quantization replaces them.
    bound = gflops * 1e9 / flops_per_token(lm)
    int8: dict[str, float] | None = None
    if lm.device.type == "cpu" and not args.no_int8:
        # Last, because it quantizes the loaded model in place: the opt-in `--quantize int8` path.
        quantize_int8(lm.model, "int8", lm.device)
        int8 = run_path(lm, "hf", prompt, params, args.n)
    result: dict[str, Any] = {
        "model": lm.name,
        "device": str(lm.device),
        "dtype": str(lm.dtype).removeprefix("torch."),
        "gpu": torch.cuda.get_device_name(lm.device) if lm.device.type == "cuda" else None,
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "n": args.n,
        "max_new_tokens": args.max_new_tokens,
        "prompt_tokens": len(lm.tokenizer(prompt)["input_ids"]),
        "baseline_tokens_per_sec": baseline["tokens_per_sec"],
        "baseline_samples_per_sec": baseline["samples_per_sec"],
        "baseline_seconds": baseline["seconds"],
        "baseline_tokens": baseline["tokens"],
        "tokens_per_sec": ours["tokens_per_sec"],
        "samples_per_sec": ours["samples_per_sec"],
        "seconds": ours["seconds"],
        "tokens": ours["tokens"],
        "ratio": ours["tokens_per_sec"] / baseline["tokens_per_sec"],
        "probe_gflops": gflops,
        "flop_bound_tokens_per_sec": bound,
        "flop_bound_fraction": ours["tokens_per_sec"] / bound,
    }
    if int8 is not None:
        result |= {
            "int8_tokens_per_sec": int8["tokens_per_sec"],
            "int8_samples_per_sec": int8["samples_per_sec"],
            "int8_seconds": int8["seconds"],
            "int8_ratio": int8["tokens_per_sec"] / baseline["tokens_per_sec"],
            "int8_flop_bound_fraction": int8["tokens_per_sec"] / bound,
        }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"model {lm.name} on {lm.device} ({result['dtype']}), n={args.n}, "
        f"max_new_tokens={args.max_new_tokens}, "
        f"prompt {result['prompt_tokens']} tokens"
    )
    print(
        f"baseline generate: {baseline['tokens_per_sec']:.1f} tok/s, "
        f"{baseline['samples_per_sec']:.3f} samples/s"
    )
    print(f"our sampler:       {ours['tokens_per_sec']:.1f} tok/s, {ours['samples_per_sec']:.3f} samples/s")
    print(
        f"ratio {result['ratio']:.2f}x; matmul probe {gflops:.1f} GFLOP/s -> FLOP-bound {bound:.1f} tok/s; "
        f"ours at {100 * result['flop_bound_fraction']:.0f}% of it"
    )
    if int8 is not None:
        print(
            f"our sampler, int8: {int8['tokens_per_sec']:.1f} tok/s, {int8['samples_per_sec']:.3f} samples/s; "
            f"ratio {result['int8_ratio']:.2f}x; {100 * result['int8_flop_bound_fraction']:.0f}% of the fp32 bound"
        )
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
