"""A preallocated KV cache whose batch rows are independent sample slots.

Layout per layer: ``[rows, kv_heads, capacity, head_dim]``. Columns ``[0, prompt_width)`` hold each row's
prompt
(copied from the once-encoded prompt, so prompt cost does not grow with the number of samples); every decoding
step appends one column for all rows at once. A row refilled with a new sample masks out the columns of its
previous sample instead of moving anything, and ``compact`` squeezes those holes out when they cost too much.
Attention only ever sees the used prefix ``[0, length)``, never the unused capacity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import torch
from transformers.cache_utils import Cache, DynamicCache, DynamicLayer

if TYPE_CHECKING:
    from transformers import PreTrainedConfig


class LMOutput(Protocol):
    @property
    def logits(self) -> torch.Tensor: ...


class CausalForward(Protocol):
    """A causal LM as the sampler calls it (keyword arguments only: ids, positions, mask, cache), with its config."""

    @property
    def config(self) -> PreTrainedConfig: ...
    def __call__(self, **kwargs: object) -> LMOutput: ...


def kv_dims(config: PreTrainedConfig) -> tuple[int, int]:
    """(key/value heads, head dimension) of a transformers decoder config."""
    kv_heads = int(getattr(config, "num_key_value_heads", None) or config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
    return kv_heads, head_dim


def encode_prompt(
    model: CausalForward, ids: torch.Tensor, cache_kw: str
) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """Run a prompt ([1, length] token ids) once: its per-layer (keys, values), as `SlotCache.load_prompt` takes
    them, and the logits of the next token. ``cache_kw`` is the forward's cache argument name."""
    cache = DynamicCache(config=model.config)
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1, **{cache_kw: cache})
    # Plain attention layers only (Qwen2, Llama): every layer holds keys and values tensors after the forward.
    kv = [(layer.keys, layer.values) for layer in cache.layers]  # type: ignore[union-attr]
    return kv, out.logits[0, -1]  # type: ignore[return-value]


class SlotLayer(DynamicLayer):
    """One layer's KV buffer: appends write in place (no per-step torch.cat of the whole cache)."""

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__()
        self.buf_k = keys
        self.buf_v = values
        self.length = 0
        self.is_initialized = True
        self.dtype, self.device = keys.dtype, keys.device

    def update(
        self, key_states: torch.Tensor, value_states: torch.Tensor, *args: object, **kwargs: object
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Write this step's keys/values at the next columns and return views of the used prefix."""
        q = key_states.shape[-2]
        end = self.length + q
        self.buf_k[:, :, self.length : end] = key_states
        self.buf_v[:, :, self.length : end] = value_states
        self.length = end
        self.keys, self.values = self.buf_k[:, :, :end], self.buf_v[:, :, :end]
        return self.keys, self.values

    def get_seq_length(self) -> int:
        """Used columns (holes included)."""
        return self.length

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        """KV length the mask must cover; we always pass our own 4D mask, this keeps the contract anyway."""
        return self.length + query_length, 0

    def get_max_length(self) -> int:
        """Capacity in columns."""
        return int(self.buf_k.shape[2])


class SlotCache(Cache):
    """The per-layer SlotLayers plus the shared column pointer and the additive attention mask."""

    def __init__(
        self,
        num_layers: int,
        rows: int,
        kv_heads: int,
        head_dim: int,
        capacity: int,
        dtype: torch.dtype,
        device: torch.device,
    ) -> None:
        shape = (rows, kv_heads, capacity, head_dim)
        layers = [
            SlotLayer(
                torch.zeros(shape, dtype=dtype, device=device), torch.zeros(shape, dtype=dtype, device=device)
            )
            for _ in range(num_layers)
        ]
        super().__init__(layers=layers)  # type: ignore[arg-type]
        self.capacity = capacity
        self.neg = torch.finfo(dtype).min
        # Additive mask [rows, 1, 1, capacity]: 0 where a row may attend, a large negative number elsewhere.
        self.mask = torch.full((rows, 1, 1, capacity), self.neg, dtype=dtype, device=device)

    @classmethod
    def for_model(
        cls, config: PreTrainedConfig, rows: int, capacity: int, dtype: torch.dtype, device: torch.device
    ) -> SlotCache:
        """A cache shaped for a transformers decoder config (its layers, KV heads and head dimension)."""
        kv_heads, head_dim = kv_dims(config)
        return cls(int(config.num_hidden_layers), rows, kv_heads, head_dim, capacity, dtype, device)

    @property
    def slot_layers(self) -> list[SlotLayer]:
        """The layers, typed."""
        return self.layers  # type: ignore[return-value]

    @property
    def rows(self) -> int:
        """Number of batch rows."""
        return int(self.mask.shape[0])

    @property
    def length(self) -> int:
        """Used columns."""
        return self.slot_layers[0].length

    def set_length(self, length: int) -> None:
        """Move the shared column pointer (after writing prompts or compacting)."""
        for layer in self.slot_layers:
            layer.length = length

    def load_prompt(
        self, row: int, prompt_kv: list[tuple[torch.Tensor, torch.Tensor]], prompt_width: int
    ) -> None:
        """Copy an encoded prompt ([1, heads, plen, dim] per layer) into ``row`` and reset the row's mask
        to it."""
        plen = prompt_kv[0][0].shape[2]
        for layer, (k, v) in zip(self.slot_layers, prompt_kv, strict=True):
            layer.buf_k[row, :, :plen] = k[0]
            layer.buf_v[row, :, :plen] = v[0]
        self.mask[row].fill_(self.neg)
        self.mask[row, ..., :plen] = 0
        del prompt_width  # the prompt region is [0, prompt_width); columns past plen stay masked

    def step_mask(self) -> torch.Tensor:
        """Open the column the next step writes, for every row, and return the mask over the used prefix +
        it."""
        n = self.length
        self.mask[..., n] = 0
        return self.mask[..., : n + 1]

    def select_rows(self, keep: list[int]) -> None:
        """Keep only the rows ``keep`` (distinct): row ``keep[j]`` becomes row j (drop finished slots when no new
        sample can refill them).

        In place: only rows that move are copied, and only their used columns (each move reads a copy of its
        sources first, so any order is safe); then the buffers become views of their first rows."""
        moves = [(dst, src) for dst, src in enumerate(keep) if dst != src]
        n = self.length
        if moves:
            dst = torch.tensor([d for d, _ in moves], device=self.mask.device)
            src = torch.tensor([s for _, s in moves], device=self.mask.device)
            for layer in self.slot_layers:
                layer.buf_k[dst, :, :n] = layer.buf_k[src, :, :n]
                layer.buf_v[dst, :, :n] = layer.buf_v[src, :, :n]
            self.mask[dst] = self.mask[src]
        rows = len(keep)
        for layer in self.slot_layers:
            layer.buf_k, layer.buf_v = layer.buf_k[:rows], layer.buf_v[:rows]
        self.mask = self.mask[:rows]

    def compact(self, prompt_width: int, starts: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Right-align every row's own generated columns right after the prompt region, dropping the holes.

        ``starts[r]`` is the first column of row r's current sample, ``lengths[r]`` its number of columns.
        Returns the new start column per row.
        """
        n = self.length
        width = int(lengths.max().item()) if lengths.numel() else 0
        rows = self.rows
        device = self.mask.device
        # Source column for target column w of row r: start + (w - (width - length)); left-pad slots stay
        # masked.
        w = torch.arange(width, device=device).unsqueeze(0)
        pad = (width - lengths).to(device).unsqueeze(1)
        src = (starts.to(device).unsqueeze(1) + w - pad).clamp(min=prompt_width, max=max(n - 1, prompt_width))
        for layer in self.slot_layers:
            for name in ("buf_k", "buf_v"):
                buf = getattr(layer, name)
                idx = src.view(rows, 1, width, 1).expand(rows, buf.shape[1], width, buf.shape[3])
                moved = torch.gather(buf[:, :, :n], 2, idx)
                buf[:, :, prompt_width : prompt_width + width] = moved
        new_mask = torch.where(w >= pad, 0.0, self.neg).to(self.mask.dtype)
        self.mask[:, 0, 0, prompt_width:] = self.neg
        self.mask[:, 0, 0, prompt_width : prompt_width + width] = new_mask
        self.set_length(prompt_width + width)
        return prompt_width + pad.squeeze(1).to(starts.device)
