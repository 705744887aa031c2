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
those of plain SDPA. It is therefore opt-in (`HFSampler(lm, prefix_attention=True)`, the sampler benchmark's
`grouped` path), not the default: it pays only where many rows share a long prompt (n=32 rows of one 411-token
prompt: 1.067x the whole sampler), and loses on small batches and short prompts (16 rows of two 250-token
prompts: 0.07-0.17 ms a layer slower; below 4 rows about twice as slow), which is most of a solve's tail. Choosing
per step by a cost rule would make a sample depend on its batch, so when on, every step with groups is grouped.
Anything but a CPU decoding step with prompt groups (a prefill, another device, a torch without the kernel) goes
to transformers' SDPA unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from alphagen.models.loader import CausalLM

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
    spans: tuple[tuple[int, int], ...] | None = None
    """When the groups are consecutive row ranges covering every row in order (the usual case: samples of one
    prompt fill neighbouring rows), those ranges: slices instead of gathers."""


def prompt_groups(prompt_width: int, request_of_row: Sequence[int | None]) -> PromptGroups | None:
    """The groups of this step from each row's prompt (None: an idle row); None when no row is active.

    Every step with an active row is grouped, however few rows share a prompt: whether a row's attention is
    computed grouped or plain must not depend on the other rows, or a sample would depend on its batch by more than
    rounding (the sampler's contract: a sample's draws and algorithm are its own, whatever the batch or sharding)."""
    by_request: dict[int, list[int]] = {}
    for row, request in enumerate(request_of_row):
        if request is not None:
            by_request.setdefault(request, []).append(row)
    if not by_request:
        return None
    groups = sorted(by_request.values())
    spans: tuple[tuple[int, int], ...] | None = tuple((g[0], g[-1] + 1) for g in groups)
    covered = [row for a, b in spans for row in range(a, b)]  # type: ignore[union-attr]
    if covered != list(range(len(request_of_row))):
        spans = None
    return PromptGroups(prompt_width, tuple(torch.tensor(g) for g in groups), tuple(g[0] for g in groups), spans)


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
    # Any: the rest of transformers' attention-function keywords, passed on as they came to its SDPA function.
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

    def prompt_part(qg: torch.Tensor, firsts: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        # The queries of G equal groups ([G * members, kv_heads, per_kv, dim], group by group) against one copy of
        # each group's prompt: one flash call on [G, kv_heads, members * per_kv, dim].
        count = len(firsts)
        members = qg.shape[0] // count
        qg = qg.reshape(count, members, kv_heads, per_kv, dim).transpose(1, 2)
        qg = qg.reshape(count, kv_heads, members * per_kv, dim)
        if count == 1:
            pick: slice | torch.Tensor = slice(firsts[0], firsts[0] + 1)
            k, v, m = key[pick, :, :width], value[pick, :, :width], attention_mask[pick, :, :, :width]
        else:
            at = torch.tensor(firsts)
            k, v = key[:, :, :width].index_select(0, at), value[:, :, :width].index_select(0, at)
            m = attention_mask[..., :width].index_select(0, at)
        o, lse = _flash(qg, k, v, m, scaling)
        o = o.reshape(count, kv_heads, members, per_kv, dim).transpose(1, 2).reshape(-1, kv_heads, per_kv, dim)
        lse = lse.reshape(count, kv_heads, members, per_kv).transpose(1, 2).reshape(-1, kv_heads, per_kv)
        return o, lse

    spans = prompt_groups.spans
    if spans is not None and len({b - a for a, b in spans}) == 1:
        # The usual case (samples_per_prompt rows per prompt, neighbours): every group in one call.
        out_prompt, lse_prompt = prompt_part(q, [a for a, _ in spans])
    else:
        # Idle rows (no group) get no prompt mass: their output is the generated part's, and nobody reads it.
        out_prompt = torch.zeros(rows, kv_heads, per_kv, dim, dtype=query.dtype)
        lse_prompt = torch.full((rows, kv_heads, per_kv), float("-inf"))
        for members, first in zip(prompt_groups.rows, prompt_groups.first, strict=True):
            o, lse = prompt_part(q.index_select(0, members), [first])
            out_prompt[members] = o
            lse_prompt[members] = lse
    # Each row's own generated columns (every row has at least this step's column open).
    out_gen, lse_gen = _flash(q, key[:, :, width:], value[:, :, width:], attention_mask[..., width:], scaling)
    # Softmax over the union: each part weighted by its share of the total exp-mass, exp(lse_p) / (exp(lse_p) +
    # exp(lse_g)) = sigmoid(lse_p - lse_g); mixed in fp32.
    share = torch.sigmoid(lse_prompt - lse_gen).unsqueeze(-1)
    mixed = torch.lerp(out_gen.float(), out_prompt.float(), share)
    # Back to transformers' layout: [rows, q=1, heads, dim].
    return mixed.to(query.dtype).reshape(rows, heads, 1, dim).transpose(1, 2).contiguous(), None


_registered = False


def use_prefix_attention(model: CausalLM) -> bool:
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
