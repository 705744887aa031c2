"""Decoding attention that reads each prompt's keys and values once per step, not once per sample (CPU).

Every sample of a prompt attends over the same prompt columns: in our slot cache each row holds its own copy of
them, and a decoding step's attention is bound by reading that memory (on this repo's 2-core CPU, a 0.5B-shaped
layer at 32 rows and a 411-token prompt: 1.1-1.5 ms, 19% of a step). Attention splits exactly over a partition of
the keys: attend over the prompt region and over the generated region separately, each with its log-sum-exp, then
mix the two outputs by their softmax mass. The prompt part then runs once per prompt group, with every query of the
group's rows as one block of queries against a single copy of the prompt (a small matrix product instead of many
memory-bound ones): the "cascade" attention of FlashInfer and vLLM, done with torch's own CPU flash kernel (it
returns the log-sum-exp).

The result is the same attention up to rounding (the sums are grouped differently), so samples are not bitwise
those of plain SDPA: docs/sampling.md has the quality check. Anything but a CPU decoding step with prompt groups
(a prefill, another device, a torch without the kernel) goes to transformers' SDPA unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

NAME = "alphagen_prefix"
"""The attention implementation's name in transformers' registry."""


@dataclass(frozen=True)
class PromptGroups:
    """Which batch rows share which prompt in this decoding step. Passed to the model as a keyword argument."""

    prompt_width: int
    """Columns [0, prompt_width) of the cache are the prompt region; the rest are generated tokens."""
    rows: tuple[torch.Tensor, ...]
    """Per group: the (sorted) rows whose sample continues one prompt."""
    first: tuple[int, ...]
    """Per group: one of its rows, whose copy of the prompt (and of its mask) the whole group reads."""


def prompt_groups(prompt_width: int, request_of_row: Sequence[int | None]) -> PromptGroups | None:
    """The groups of this step from each row's prompt (None: an idle row); None when no row is active."""
    by_request: dict[int, list[int]] = {}
    for row, request in enumerate(request_of_row):
        if request is not None:
            by_request.setdefault(request, []).append(row)
    if not by_request:
        return None
    groups = list(by_request.values())
    return PromptGroups(prompt_width, tuple(torch.tensor(g) for g in groups), tuple(g[0] for g in groups))


def _flash(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, scale: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention output and its log-sum-exp per query (torch's CPU flash kernel)."""
    out = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, attn_mask=mask, scale=scale)
    return out[0], out[1]


def available() -> bool:
    """Whether this torch build has the CPU flash kernel that returns the log-sum-exp."""
    return hasattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu")


def prefix_attention_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    prompt_groups: PromptGroups | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-function contract: query [b, heads, q, d], key/value [b, kv_heads, kv, d], returns
    [b, q, heads, d]. Splits the keys at the prompt region when `prompt_groups` says how rows share prompts."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if (
        prompt_groups is None
        or query.shape[2] != 1
        or query.device.type != "cpu"
        or attention_mask is None
        or attention_mask.dtype == torch.bool
        or dropout
        or key.shape[2] <= prompt_groups.prompt_width
    ):
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling,
                                      **kwargs)
    rows, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    per_kv = heads // kv_heads
    width = prompt_groups.prompt_width
    # One query token per row: the query heads that share a key head become that head's block of queries.
    q = query.reshape(rows, kv_heads, per_kv, dim)
    out_prompt = torch.zeros(rows, kv_heads, per_kv, dim, dtype=torch.float32)
    lse_prompt = torch.full((rows, kv_heads, per_kv), float("-inf"))
    for members, first in zip(prompt_groups.rows, prompt_groups.first, strict=True):
        # Every query of the group against one copy of the prompt: [1, kv_heads, members * per_kv, dim].
        qg = q.index_select(0, members).transpose(0, 1).reshape(1, kv_heads, -1, dim)
        o, lse = _flash(qg, key[first : first + 1, :, :width], value[first : first + 1, :, :width],
                        attention_mask[first : first + 1, :, :, :width], scaling)
        out_prompt[members] = o.reshape(kv_heads, len(members), per_kv, dim).transpose(0, 1).float()
        lse_prompt[members] = lse.reshape(kv_heads, len(members), per_kv).transpose(0, 1)
    # Each row's own generated columns (every row has at least this step's column open).
    out_gen, lse_gen = _flash(q, key[:, :, width:], value[:, :, width:], attention_mask[..., width:], scaling)
    # Softmax over the union = each part's output weighted by its share of the total exp-mass.
    top = torch.maximum(lse_prompt, lse_gen)
    w_prompt = (lse_prompt - top).exp()
    w_gen = (lse_gen - top).exp()
    total = w_prompt + w_gen
    mixed = out_prompt * (w_prompt / total).unsqueeze(-1) + out_gen.float() * (w_gen / total).unsqueeze(-1)
    # Back to transformers' layout: [rows, q=1, heads, dim].
    return mixed.to(query.dtype).reshape(rows, heads, 1, dim).transpose(1, 2).contiguous(), None


_registered = False


def use_prefix_attention(model: Any) -> bool:
    """Switch `model` (a transformers causal LM on CPU) to this attention; False (nothing changed) where it cannot
    apply: another device, a torch without the kernel, or a model not on SDPA."""
    global _registered
    if not available() or getattr(model, "device", torch.device("cpu")).type != "cpu":
        return False
    if getattr(model.config, "_attn_implementation", None) not in ("sdpa", NAME):
        return False
    if not _registered:
        from transformers import AttentionInterface
        from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

        # The prefill and anything without prompt groups take the SDPA path: SDPA's masks too.
        AttentionInterface.register(NAME, prefix_attention_forward)
        ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
        _registered = True
    model.set_attn_implementation(NAME)
    return True
