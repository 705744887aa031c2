"""How many sample slots to decode together, from the memory that is actually free."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psutil
import torch

from alphagen.sampling.kv_slots import kv_dims

if TYPE_CHECKING:
    from transformers import PreTrainedConfig

# On a CPU, throughput stops improving once the matmuls are compute-bound (around 16-32 rows for a 0.5B model)
# while per-step latency keeps growing; on a GPU, large batches are what fill the device.
CPU_MAX_ROWS = 32
GPU_MAX_ROWS = 2048
# Leave room for the rest of the pipeline (sandboxes, tokenizer, allocator slack).
CPU_MEMORY_SHARE = 0.5
GPU_MEMORY_SHARE = 0.85


def bytes_per_row(config: PreTrainedConfig, capacity: int, vocab_size: int, dtype: torch.dtype) -> int:
    """Memory one slot needs: its KV columns in every layer plus the fp32 logits and sampling temporaries."""
    layers = int(config.num_hidden_layers)
    kv_heads, head_dim = kv_dims(config)
    elt = torch.empty((), dtype=dtype).element_size()
    kv = layers * 2 * kv_heads * head_dim * capacity * elt
    # logits, scaled scores, probabilities and their cumulative sum: about four fp32 vocab-sized rows.
    sampling = 4 * 4 * vocab_size
    # Per-layer activations of one token (MLP intermediate dominates), with a factor for allocator slack.
    activations = 4 * elt * (int(config.intermediate_size) + 4 * int(config.hidden_size))
    return kv + sampling + activations


def auto_batch_size(
    config: PreTrainedConfig, capacity: int, vocab_size: int, dtype: torch.dtype, device: torch.device, wanted: int
) -> int:
    """Rows to decode at once: at most ``wanted`` (samples left) and what free memory holds, at least 1."""
    per_row = bytes_per_row(config, capacity, vocab_size, dtype)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        fit = int(free * GPU_MEMORY_SHARE) // per_row
        limit = GPU_MAX_ROWS
    else:
        fit = int(psutil.virtual_memory().available * CPU_MEMORY_SHARE) // per_row
        limit = CPU_MAX_ROWS
    return max(1, min(wanted, fit, limit))
