"""One decoding step of a Llama-shaped model (Qwen2, Llama) without transformers' per-call machinery.

A decoding step of the 0.5B is over a thousand small torch calls (24 layers of norms, projections, rotary,
attention, MLP), and transformers wraps every layer and the model in keyword handling, deprecation and
output-capturing decorators, config lookups and attention-function dispatch. `LeanDecoder` runs the same torch
ops in the same order on the same modules' weights, and nothing else; on a CPU with packed bf16 linears it also
computes q, k and v as one product (one oneDNN call instead of three; bitwise the same columns, checked; it holds
a stacked copy of those weights, plain and packed: about 100 MB for the 0.5B). Measured on this repo's 2-core
CPU, the embedded 0.5B in bf16 at 32 rows: 129.4-136.7 ms a step against 134.5-144.2 ms through the model's
forward (alternated, 3 pairs), logits bitwise equal.

Same numbers or nothing: `lean_decoder` builds one only for models of the expected shape, runs one step both ways
from the same cache state, and returns None (the sampler keeps the model's forward) unless the logits and the
written cache columns are bitwise equal (for a model switched to the opt-in prompt-grouped attention, a grouped step
too). Prompt encoding (prefill) keeps using the model's forward.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeGuard, cast

import torch
import torch.nn.functional as F

from alphagen.models.packed_linear import PackedLinear
from alphagen.sampling.kv_slots import CausalForward, SlotCache, encode_prompt, kv_dims
from alphagen.sampling.prefix_attention import NAME as PREFIX_NAME
from alphagen.sampling.prefix_attention import PromptGroups, prefix_attention_forward, prompt_groups

if TYPE_CHECKING:
    from alphagen.models.loader import CausalLM

log = logging.getLogger("alphagen.sampling")

ARCHITECTURES = ("Qwen2ForCausalLM", "LlamaForCausalLM")
"""Models whose decoder layer is exactly: RMSNorm, q/k/v projections, rotary, attention, o_proj, residual, RMSNorm,
gated MLP, residual (their transformers forward is what `LeanDecoder` replays)."""

Module = Callable[[torch.Tensor], torch.Tensor]
"""A module called on one tensor (embedding, linear, activation)."""


class _RMSNorm(Protocol):
    @property
    def weight(self) -> torch.Tensor: ...
    @property
    def variance_epsilon(self) -> float: ...


class _Linear(Protocol):
    """`nn.Linear` or our `PackedLinear`: what a layer's projections are."""

    @property
    def weight(self) -> torch.Tensor: ...
    @property
    def bias(self) -> torch.Tensor | None: ...
    @property
    def out_features(self) -> int: ...
    def forward(self, x: torch.Tensor) -> torch.Tensor: ...
    def __call__(self, x: torch.Tensor) -> torch.Tensor: ...


class _SelfAttention(Protocol):
    @property
    def q_proj(self) -> _Linear: ...
    @property
    def k_proj(self) -> _Linear: ...
    @property
    def v_proj(self) -> _Linear: ...
    @property
    def o_proj(self) -> _Linear: ...
    @property
    def scaling(self) -> float: ...


class _MLP(Protocol):
    @property
    def gate_proj(self) -> _Linear: ...
    @property
    def up_proj(self) -> _Linear: ...
    @property
    def down_proj(self) -> _Linear: ...
    @property
    def act_fn(self) -> Module: ...


class _DecoderLayer(Protocol):
    @property
    def self_attn(self) -> _SelfAttention: ...
    @property
    def mlp(self) -> _MLP: ...
    @property
    def input_layernorm(self) -> _RMSNorm: ...
    @property
    def post_attention_layernorm(self) -> _RMSNorm: ...


class _Decoder(Protocol):
    @property
    def embed_tokens(self) -> Module: ...
    @property
    def rotary_emb(self) -> Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]: ...
    @property
    def norm(self) -> _RMSNorm: ...
    @property
    def layers(self) -> Sequence[_DecoderLayer]: ...


class LlamaShaped(CausalForward, Protocol):
    """The parts of a Qwen2/Llama causal LM that `LeanDecoder` reads (what `_shaped_like_llama` checks for)."""

    @property
    def model(self) -> _Decoder: ...
    @property
    def lm_head(self) -> _Linear: ...
    @property
    def device(self) -> torch.device: ...


def _rms_norm(norm: _RMSNorm, hidden: torch.Tensor) -> torch.Tensor:
    """transformers' Qwen2RMSNorm / LlamaRMSNorm forward, op for op (fp32 statistics, weight in the input dtype)."""
    dtype = hidden.dtype
    x = hidden.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    x = x * torch.rsqrt(variance + norm.variance_epsilon)
    return norm.weight * x.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class _Layer:
    """One decoder layer's modules, looked up once (attribute access on nn.Module is slow in a hot loop)."""

    def __init__(self, layer: _DecoderLayer, fuse_qkv: bool) -> None:
        attn, mlp = layer.self_attn, layer.mlp
        # The attention module itself, for the prompt-grouped attention function (transformers' contract takes it).
        self.attn = cast(torch.nn.Module, attn)
        self.input_norm, self.post_norm = layer.input_layernorm, layer.post_attention_layernorm
        self.q, self.k, self.v, self.o = attn.q_proj.forward, attn.k_proj.forward, attn.v_proj.forward, attn.o_proj
        self.gate, self.up, self.down, self.act = mlp.gate_proj.forward, mlp.up_proj.forward, mlp.down_proj, mlp.act_fn
        self.scaling = float(attn.scaling)
        self.q_width = int(attn.q_proj.out_features)
        self.kv_width = int(attn.k_proj.out_features)
        self.qkv: PackedLinear | None = None
        if fuse_qkv:
            # One packed product for q, k and v: their weights (and biases) stacked along the output dimension.
            parts = (attn.q_proj, attn.k_proj, attn.v_proj)
            weight = torch.cat([p.weight.detach() for p in parts])
            biases = [p.bias for p in parts if p.bias is not None]
            bias = torch.cat([b.detach() for b in biases]) if len(biases) == len(parts) else None
            fused = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta")
            fused.weight = torch.nn.Parameter(weight, requires_grad=False)
            if bias is not None:
                fused.bias = torch.nn.Parameter(bias, requires_grad=False)
            self.qkv = PackedLinear(fused)

    def project(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """q, k and v of ``x`` ([rows, 1, hidden])."""
        if self.qkv is None:
            return self.q(x), self.k(x), self.v(x)
        both = self.qkv(x)
        q_end = self.q_width
        return both[..., :q_end], both[..., q_end : q_end + self.kv_width], both[..., q_end + self.kv_width :]


class LeanDecoder:
    """The decoding step of a Llama-shaped causal LM over a SlotCache: logits [rows, vocab] for one token per row."""

    def __init__(self, model: LlamaShaped, fuse_qkv: bool) -> None:
        inner = model.model
        cfg = model.config
        self.embed = inner.embed_tokens
        self.rotary = inner.rotary_emb
        self.norm = inner.norm
        self.lm_head = model.lm_head
        kv_heads, self.head_dim = kv_dims(cfg)
        self.groups = int(cfg.num_attention_heads) // kv_heads
        self.layers = [_Layer(layer, fuse_qkv) for layer in inner.layers]

    @torch.inference_mode()
    def __call__(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        mask: torch.Tensor,
        cache: SlotCache,
        groups: PromptGroups | None = None,
    ) -> torch.Tensor:
        """One step: ``input_ids`` and ``position_ids`` [rows, 1], ``mask`` the cache's step mask; with ``groups``,
        the opt-in prompt-grouped attention (prefix_attention) instead of SDPA."""
        hidden = self.embed(input_ids)
        rows = hidden.shape[0]
        # Rotary tables once per step, shared by every layer (as in the model's forward).
        cos, sin = self.rotary(hidden, position_ids)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        heads_shape = (rows, 1, -1, self.head_dim)
        for layer, slot_layer in zip(self.layers, cache.slot_layers, strict=True):
            residual = hidden
            x = _rms_norm(layer.input_norm, hidden)
            q, k, v = layer.project(x)
            q = q.reshape(heads_shape).transpose(1, 2)
            k = k.reshape(heads_shape).transpose(1, 2)
            v = v.reshape(heads_shape).transpose(1, 2)
            q = (q * cos) + (_rotate_half(q) * sin)
            k = (k * cos) + (_rotate_half(k) * sin)
            keys, values = slot_layer.update(k, v)
            if groups is not None:
                # What the model's forward calls with prompt groups (and the same arguments).
                grouped, _ = prefix_attention_forward(
                    layer.attn, q, keys, values, mask, dropout=0.0, scaling=layer.scaling, prompt_groups=groups
                )
                hidden = residual + layer.o(grouped.reshape(rows, 1, -1).contiguous())
            else:
                hidden = residual + layer.o(self._attention(q, keys, values, mask, layer.scaling))
            residual = hidden
            x = _rms_norm(layer.post_norm, hidden)
            hidden = residual + layer.down(layer.act(layer.gate(x)) * layer.up(x))
        return self.lm_head(_rms_norm(self.norm, hidden))[:, -1]  # type: ignore[no-any-return]

    def _attention(
        self, q: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, scaling: float
    ) -> torch.Tensor:
        """transformers' SDPA attention for one query token per row, as [rows, 1, heads * head_dim]."""
        rows = q.shape[0]
        if self.groups > 1:
            # transformers' pack_gqa for one query token: the query heads sharing a KV head become its rows.
            q = q.reshape(rows, q.shape[1] // self.groups, self.groups, self.head_dim)
        out = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask, dropout_p=0.0, scale=scaling,
                                             is_causal=False)
        out = out.reshape(out.shape[0], -1, 1, values.shape[-1]).transpose(1, 2).contiguous()
        return out.reshape(rows, 1, -1).contiguous()


def _shaped_like_llama(model: CausalLM) -> TypeGuard[LlamaShaped]:
    """The modules and settings `LeanDecoder` replays, and nothing it would skip (sliding windows, other attention
    functions, devices where transformers' SDPA call differs)."""
    cfg = getattr(model, "config", None)
    if type(model).__name__ not in ARCHITECTURES or cfg is None:
        return False
    # SDPA, or our prompt-grouped attention registered on the model (which is SDPA for a step without groups).
    if getattr(cfg, "_attn_implementation", None) not in ("sdpa", PREFIX_NAME):
        return False
    if getattr(model, "device", torch.device("meta")).type not in ("cpu", "cuda"):
        return False
    if getattr(cfg, "use_sliding_window", False) or "sliding_attention" in (getattr(cfg, "layer_types", None) or ()):
        return False
    inner = getattr(model, "model", None)
    return all(hasattr(inner, name) for name in ("embed_tokens", "rotary_emb", "norm", "layers")) and hasattr(
        model, "lm_head"
    )


def _same_step(model: LlamaShaped, decoder: LeanDecoder, cache_kw: str, dtype: torch.dtype) -> bool:
    """One decoding step of 3 rows from the same cache state through the model's forward and through ``decoder``
    (plain, and grouped too where the model runs prefix_attention): True when the logits and the cache columns
    written are bitwise equal."""
    cfg = model.config
    device = model.device
    gen = torch.Generator().manual_seed(0)
    vocab = int(cfg.vocab_size)
    prompt = torch.randint(0, vocab, (1, 5), generator=gen).to(device)
    ids = torch.randint(0, vocab, (3, 1), generator=gen).to(device)
    positions = torch.full((3, 1), 5, device=device)
    variants: list[PromptGroups | None] = [None]
    if getattr(cfg, "_attn_implementation", None) == PREFIX_NAME:
        variants.append(prompt_groups(5, [0, 0, 0]))
    with torch.inference_mode():
        kv, _ = encode_prompt(model, prompt, cache_kw)
        for groups in variants:
            caches = []
            for _ in range(2):
                cache = SlotCache.for_model(cfg, 3, 12, dtype, device)
                cache.set_length(5)
                for row in range(3):
                    cache.load_prompt(row, kv, 5)
                caches.append(cache)
            extra: dict[str, object] = {cache_kw: caches[0]}
            if groups is not None:
                extra["prompt_groups"] = groups
            reference = model(
                input_ids=ids, position_ids=positions, attention_mask=caches[0].step_mask(), use_cache=True, **extra
            ).logits[:, -1]
            lean = decoder(ids, positions, caches[1].step_mask(), caches[1], groups)
            written = all(
                torch.equal(a.buf_k, b.buf_k) and torch.equal(a.buf_v, b.buf_v)
                for a, b in zip(caches[0].slot_layers, caches[1].slot_layers, strict=True)
            )
            if not (written and torch.equal(reference, lean)):
                return False
    return True


def lean_decoder(model: CausalLM, cache_kw: str, dtype: torch.dtype) -> LeanDecoder | None:
    """A checked LeanDecoder for ``model`` (its KV cache in ``dtype``; ``cache_kw`` the forward's cache argument), or
    None where the model's forward must stay: another shape, or no step bitwise the model's own."""
    if not _shaped_like_llama(model):
        return None
    attn = model.model.layers[0].self_attn
    fuse = all(isinstance(getattr(attn, name), PackedLinear) for name in ("q_proj", "k_proj", "v_proj"))
    # Fused q, k, v first where the linears are packed; the unfused step if that one is refused.
    for fuse_qkv in (True, False) if fuse else (False,):
        try:
            decoder = LeanDecoder(model, fuse_qkv)
            same = _same_step(model, decoder, cache_kw, dtype)
        except (AttributeError, RuntimeError, TypeError, ValueError) as exc:
            log.debug("lean decoding step (fused q, k, v: %s) failed: %s", fuse_qkv, exc)
            continue
        if same:
            log.debug("lean decoding step (fused q, k, v: %s)", fuse_qkv)
            return decoder
        log.info("lean decoding step (fused q, k, v: %s) differs from the model's forward: not used", fuse_qkv)
    return None
