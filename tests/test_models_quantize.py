"""The opt-in int8 path: a dynamically quantized model still samples through our sampler exactly like generate."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from alphagen.models import ModelError, load_model
from alphagen.sampling import PromptRequest, SamplingParams, make_sampler
from tests.tiny_model import build_tiny_dir


def test_int8_model_samples_like_generate(tmp_path: Path) -> None:
    lm = load_model(str(build_tiny_dir(tmp_path)), device="cpu", dtype="float32", quantize="int8")
    assert lm.quantized == "int8"
    # Every linear layer is now a dynamically quantized one (the weights really are int8).
    kinds = {type(m).__module__ for m in lm.model.modules() if "Linear" in type(m).__name__}
    assert kinds and all("quantized" in k for k in kinds)
    prompt = lm.tokenizer.apply_chat_template(
        [{"role": "user", "content": "sum two numbers"}], tokenize=False, add_generation_prompt=True
    )
    params = SamplingParams(temperature=0.0, max_new_tokens=20, stop=(), batch_size=2)
    ours = sorted(make_sampler(lm, "hf").sample([PromptRequest(prompt, 3)], params), key=lambda c: c.sample_index)
    base = sorted(make_sampler(lm, "generate").sample([PromptRequest(prompt, 3)], params),
                  key=lambda c: c.sample_index)
    assert [c.text for c in ours] == [c.text for c in base]
    assert all(c.num_tokens > 0 for c in ours)


def test_bad_quantize_values_are_clear_errors(tmp_path: Path) -> None:
    directory = str(build_tiny_dir(tmp_path))
    with pytest.raises(ModelError, match="quantize must be 'int8' or None, got 'int4'"):
        load_model(directory, device="cpu", quantize="int4")
    if not torch.cuda.is_available():
        return
    with pytest.raises(ModelError, match="CPU only"):
        load_model(directory, device="cuda", quantize="int8")
