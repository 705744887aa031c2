"""Write the tiny test model (tests/tiny_model.py) as an fp32 GGUF file, so llama.cpp runs the same weights.

Only what llama.cpp's qwen2 loader reads: hyperparameters, a gpt2-style vocabulary (one token per byte, as in the
tiny tokenizer) and the tensors under llama.cpp's names. Qwen2 uses NeoX-style RoPE in both libraries, so Q/K
need no permutation (unlike llama-architecture conversions).
"""

from __future__ import annotations

from pathlib import Path

from alphagen.models import LoadedModel

_LAYER_TENSORS = {
    "input_layernorm.weight": "attn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight",
    "self_attn.q_proj.bias": "attn_q.bias",
    "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.k_proj.bias": "attn_k.bias",
    "self_attn.v_proj.weight": "attn_v.weight",
    "self_attn.v_proj.bias": "attn_v.bias",
    "self_attn.o_proj.weight": "attn_output.weight",
    "post_attention_layernorm.weight": "ffn_norm.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight",
    "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def write_tiny_gguf(lm: LoadedModel, path: Path) -> Path:
    """Write ``lm`` (a tiny fp32 Qwen2 with the byte-level tokenizer) to ``path`` as GGUF."""
    import gguf

    cfg = lm.model.config
    tok = lm.tokenizer
    w = gguf.GGUFWriter(str(path), "qwen2")
    w.add_context_length(int(cfg.max_position_embeddings))
    w.add_embedding_length(int(cfg.hidden_size))
    w.add_block_count(int(cfg.num_hidden_layers))
    w.add_feed_forward_length(int(cfg.intermediate_size))
    w.add_head_count(int(cfg.num_attention_heads))
    w.add_head_count_kv(int(cfg.num_key_value_heads))
    w.add_rope_freq_base(float(cfg.rope_parameters["rope_theta"]))
    w.add_layer_norm_rms_eps(float(cfg.rms_norm_eps))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    # Vocabulary in id order; special tokens are control tokens. llama.cpp insists on a merges list: one
    # harmless merge (we never tokenize with llama.cpp, the transformers tokenizer does it for every backend).
    vocab = tok.get_vocab()
    tokens = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    special = set(tok.all_special_tokens)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types([gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in tokens])
    w.add_token_merges([f"{tokens[0]} {tokens[1]}"])
    w.add_eos_token_id(int(tok.eos_token_id))
    w.add_bos_token_id(int(tok.pad_token_id))
    w.add_pad_token_id(int(tok.pad_token_id))
    w.add_add_bos_token(False)
    state = {k: v.detach().float().numpy() for k, v in lm.model.state_dict().items()}
    w.add_tensor("token_embd.weight", state["model.embed_tokens.weight"])
    for i in range(int(cfg.num_hidden_layers)):
        for hf_name, ll_name in _LAYER_TENSORS.items():
            w.add_tensor(f"blk.{i}.{ll_name}", state[f"model.layers.{i}.{hf_name}"])
    w.add_tensor("output_norm.weight", state["model.norm.weight"])
    w.add_tensor("output.weight", state["lm_head.weight"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
