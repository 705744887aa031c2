"""A tiny random Qwen2 model with a byte-level tokenizer and a chat template, for fast sampler tests.

Use ``make_tiny_model(tmp_path)`` (returns a LoadedModel) or the session-wide ``tiny_model`` fixture
(tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import torch

from alphagen.models import LoadedModel, load_model
from alphagen.sampling import Completion

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def build_tiny_dir(directory: Path, seed: int = 0) -> Path:
    """Write a tiny Qwen2 model + byte-level tokenizer in Hugging Face format into ``directory``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    # Byte-level BPE without merges: every byte is one token, so any text round-trips.
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tok.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    tok.chat_template = CHAT_TEMPLATE
    tok.save_pretrained(directory)
    # A 2-layer model with grouped-query attention, like the real Qwen2.5 (14 query heads over 2 KV heads).
    config = Qwen2Config(
        vocab_size=len(tok),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.pad_token_id,
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    # Larger-than-default init makes the random model's next-token distributions peaked, so greedy decoding is
    # not a near-tie everywhere and sampled texts differ visibly between seeds.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() == 2:
                p.normal_(0.0, 0.5)
    model.save_pretrained(directory)
    return directory


def make_tiny_model(directory: Path, seed: int = 0) -> LoadedModel:
    """Build the tiny model into ``directory`` and load it on the CPU in fp32 through ``load_model``."""
    build_tiny_dir(directory, seed)
    return load_model(str(directory), device="cpu", dtype="float32")


def chat_prompt(lm: LoadedModel, text: str) -> str:
    """``text`` as one user turn in the model's chat template, ready to sample from."""
    return str(
        lm.tokenizer.apply_chat_template(
            [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
        )
    )


def by_index(completions: list[Completion]) -> list[Completion]:
    """Completions in sample order (samplers yield them in finishing order)."""
    return sorted(completions, key=lambda c: c.sample_index)
