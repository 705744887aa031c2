"""Linear layers with their weights reordered once into oneDNN's blocked layout (CPU, bf16).

`torch.nn.functional.linear` on a bf16 CPU tensor reorders the weight into oneDNN's blocked layout on every
call. Decoding calls every linear once per token step with a small batch (one row per sample), so that reorder
is a large share of the step: measured on this repo's 2-core AVX512-BF16 CPU, the 0.5B model's 24 MLPs at 32
rows ran 77 ms per step with plain linears and 57 ms with the weights reordered once (what `torch.compile`'s
"freezing" does for CPU inference). The product is the same oneDNN kernel on the same numbers: the outputs are
bitwise equal (tests/test_packed_linear.py), so samples do not change, only their speed.

Cost: each packed layer holds its blocked copy beside the original weight (kept for readers of `.weight`): about
1 GB more resident memory for the 0.5B model in bf16, 3 GB for the 1.5B.

The ops are the ones torch's inductor emits (`torch.ops.mkldnn._reorder_linear_weight` and `_linear_pointwise`);
where this torch build lacks them, or a check at load finds a different result, the model keeps plain linears.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger("alphagen.models")

BATCH_HINT = 32
"""Rows oneDNN tunes the blocked layout for (any batch works): a CPU sampler's usual row count."""


def available() -> bool:
    """Whether this torch build has the reorder and the packed linear ops (and oneDNN)."""
    mkldnn = getattr(torch.ops, "mkldnn", None)
    return (
        torch.backends.mkldnn.is_available()
        and mkldnn is not None
        and hasattr(mkldnn, "_reorder_linear_weight")
        and hasattr(mkldnn, "_linear_pointwise")
    )


class PackedLinear(torch.nn.Module):
    """A bf16 `nn.Linear` on CPU whose weight was reordered once; `weight` stays for code that reads it."""

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        # Kept as it was (readers such as `output_vocab_size`, tied embeddings); the product uses `packed`.
        self.weight = linear.weight
        self.bias = linear.bias
        with torch.no_grad():
            self.register_buffer("packed", torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(),
                                                                                   BATCH_HINT), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias.detach() if self.bias is not None else None
        return torch.ops.mkldnn._linear_pointwise(x, self.packed, bias, "none", [], "")  # type: ignore[no-any-return]

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, packed for oneDNN"


def _same_product(linear: torch.nn.Linear, packed: PackedLinear) -> bool:
    """One batch through both: the packed layer must give exactly what the plain one gives."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, linear.in_features, generator=gen).to(linear.weight.dtype)
    with torch.inference_mode():
        return bool(torch.equal(linear(x), packed(x)))


def pack_linears(model: torch.nn.Module) -> int:
    """Replace every bf16 CPU `nn.Linear` of `model` by a PackedLinear, in place; returns how many.

    Nothing changes (0) when the ops are missing or the first layer's packed product differs from the plain one.
    """
    if not available():
        log.info("oneDNN packed linears unavailable in this torch build: plain linears")
        return 0
    targets = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if type(child) is torch.nn.Linear and child.weight.dtype == torch.bfloat16 and child.weight.device.type == "cpu"
    ]
    if not targets:
        return 0
    first = targets[0][2]
    if not _same_product(first, PackedLinear(first)):
        log.warning("oneDNN packed linears differ from plain ones on this CPU: plain linears")
        return 0
    for parent, name, child in targets:
        setattr(parent, name, PackedLinear(child))
    return len(targets)


def pack_for_cpu(model: torch.nn.Module, device: torch.device, dtype: torch.dtype) -> int:
    """`pack_linears` where it pays: a bf16 model on the CPU (elsewhere 0, nothing changed)."""
    if device.type != "cpu" or dtype != torch.bfloat16:
        return 0
    packed = pack_linears(model)
    log.info("packed %d linear layers for oneDNN", packed)
    return packed
