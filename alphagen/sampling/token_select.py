"""Choosing the next token: temperature, top-k, top-p, then inverse-CDF sampling with per-sample random
streams.

Each sample owns a random stream seeded from (seed, global sample index), so a sample's draws do not depend on
which batch row it lands in or which other samples run beside it: reproducible for any batch size.
"""

from __future__ import annotations

import torch

from alphagen.sampling.params import SamplingParams

_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    """One round of SplitMix64: decorrelates nearby integers (seed, index) into independent-looking seeds."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def sample_uniforms(seed: int, sample_index: int, length: int) -> torch.Tensor:
    """The uniform draws in [0, 1) that sample ``sample_index`` uses at steps 0..length-1 (float64, on
    CPU)."""
    gen = torch.Generator(device="cpu")
    gen.manual_seed(_splitmix64(_splitmix64(seed) ^ sample_index) & ((1 << 63) - 1))
    return torch.rand(length, generator=gen, dtype=torch.float64)


def filter_logits(logits: torch.Tensor, params: SamplingParams) -> torch.Tensor:
    """Temperature, then top-k, then top-p (the order and semantics of transformers' logits warpers), in
    fp32."""
    scores = logits.float() / params.temperature
    vocab = scores.shape[-1]
    if 0 < params.top_k < vocab:
        # Everything below the k-th largest score is dropped; ties with it are kept, as transformers does.
        kth = torch.topk(scores, params.top_k, dim=-1).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if params.top_p < 1.0:
        # Sort ascending and drop the low tail whose cumulative probability stays within 1 - top_p.
        sorted_scores, order = torch.sort(scores, dim=-1, descending=False)
        cum = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        drop_sorted = cum <= (1.0 - params.top_p)
        drop_sorted[..., -1:] = False  # always keep the most likely token
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        scores = scores.masked_fill(drop, float("-inf"))
    return scores


def select_tokens(
    logits: torch.Tensor, params: SamplingParams, uniforms: torch.Tensor | None
) -> torch.Tensor:
    """Next token per row of ``logits`` [rows, vocab]; ``uniforms`` [rows] are the rows' draws (unused if
    greedy)."""
    if params.greedy:
        return logits.argmax(dim=-1)
    if uniforms is None:
        raise ValueError("uniforms must be given when sampling with temperature > 0")
    probs = filter_logits(logits, params).softmax(dim=-1)
    # Inverse CDF: the first token whose cumulative probability exceeds u * total is an exact draw from probs.
    cdf = probs.cumsum(dim=-1)
    targets = uniforms.to(device=cdf.device, dtype=cdf.dtype).unsqueeze(-1) * cdf[..., -1:]
    tokens = torch.searchsorted(cdf, targets, right=True).squeeze(-1)
    return tokens.clamp_(max=logits.shape[-1] - 1)
